// The gateway's heartbeat runs on one timer per connection, armed for the earlier of the next ping
// and the silence deadline: pings keep their period while the peer talks (each frame moves only
// the deadline), silence is reported once, at lastSeen + 2 intervals, and stop() leaves no timer.
import { describe, expect, it } from 'vitest';
import { startHeartbeat } from '../../src/server/heartbeat.js';
import { createManualClock } from '../support/manual-clock.js';

describe('heartbeat', () => {
  it('pings every interval while the peer talks, reaps once after 2 silent intervals, holds one timer', () => {
    const clock = createManualClock();
    let seen = clock.now();
    const pings: number[] = [];
    const silent: number[] = [];
    const beat = startHeartbeat(50, clock, { lastSeen: () => seen, ping: () => void pings.push(clock.now()), onSilent: () => void silent.push(clock.now()) });
    expect(clock.pending).toBe(1);
    // A chatty peer: a frame every 30 ms for 300 ms. Pings still come every 50 ms.
    for (let t = 30; t <= 300; t += 30) {
      clock.advance(30);
      seen = clock.now();
      expect(clock.pending).toBe(1);
    }
    expect(pings).toEqual([50, 100, 150, 200, 250, 300]);
    expect(silent).toEqual([]);
    // Silent from 300: pinged on, reaped at 400 exactly, once, and nothing left running.
    clock.advance(99);
    expect(silent).toEqual([]);
    clock.advance(1);
    expect(silent).toEqual([400]);
    expect(pings).toEqual([50, 100, 150, 200, 250, 300, 350]);
    expect(clock.pending).toBe(0);
    clock.advance(1000);
    expect(silent).toEqual([400]);
    beat.stop();
  });

  it('stops: no ping and no silence after stop()', () => {
    const clock = createManualClock();
    const calls: string[] = [];
    const beat = startHeartbeat(50, clock, { lastSeen: () => 0, ping: () => void calls.push('ping'), onSilent: () => void calls.push('silent') });
    clock.advance(50);
    beat.stop();
    expect(clock.pending).toBe(0);
    clock.advance(500);
    expect(calls).toEqual(['ping']);
  });
});
