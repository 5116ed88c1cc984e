// Time in the client is monotonic: a wall-clock step cannot hide a dead link, and a wake-up the
// monotonic clock did not count gets one immediate liveness probe. The step runs under the
// DEFAULT clock in a real child process whose Date.now jumps back an hour mid-run.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { HeartbeatWatchdog } from '../../src/client/heartbeat-watchdog.js';
import type { ClientClock } from '../../src/client/index.js';
import type { ClientFrame } from '../../src/protocol/index.js';
import { spawnCli } from '../support/cli-process.js';
import { startGateway } from '../support/gateway-kit.js';
import { proxyFor } from './kit.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('monotonic time in the client', () => {
  it('finds a half-open link within about twice the heartbeat although the wall clock stepped back an hour (default clock)', async () => {
    const heartbeatMs = 250;
    const gw = await startGateway({ heartbeatMs });
    const proxy = await proxyFor(gw);
    const child = spawnCli([proxy.url], { entry: ['--import', 'tsx', '--import', fixture('step-wall-clock.mjs'), fixture('wall-step-client.ts')] });
    await child.waitForOutput(/state joined/, 10_000);

    proxy.stall();
    const stalledAt = performance.now();
    child.child.kill('SIGUSR2');
    await child.waitForOutput(/stepped/, 2000);
    // Before: silence was measured with Date.now, so it came out negative for an hour.
    const line = await child.waitForOutput(/state reconnecting (\d+)/, 8 * heartbeatMs);
    expect(line[1]).toBe('4002');
    expect(performance.now() - stalledAt).toBeGreaterThanOrEqual(heartbeatMs);
    proxy.resume();
    child.child.kill('SIGTERM');
    await child.exited(5000);
  });
});

describe('wake-up detection in the heartbeat watchdog', () => {
  /** The watchdog alone on a simulated clock whose wall time can jump; frames it writes are kept. */
  function watchdog(heartbeatMs: number) {
    const sim = new SimulatedClock();
    let wallOffset = 0;
    const clock: ClientClock = {
      setTimeout: (fn, ms) => sim.setTimeout(fn, ms),
      clearTimeout: (id) => sim.clearTimeout(id as number),
      now: () => sim.now(),
      wallNow: () => 1_700_000_000_000 + sim.now() + wallOffset,
    };
    // The socket actor's side: it says when a frame last arrived, and keeps what it is told to write.
    let heardAt = sim.now();
    const written: ClientFrame[] = [];
    const events: string[] = [];
    const dog = new HeartbeatWatchdog(clock, heartbeatMs, {
      heardAt: () => heardAt,
      write: (frame) => void written.push(frame),
      missed: () => void events.push('heartbeat.missed'),
    });
    return {
      sim,
      written,
      events,
      stop: () => dog.stop(),
      /** Suspend: wall time runs on, monotonic time does not. */
      sleep: (ms: number) => void (wallOffset += ms),
      /** A frame arrives now. */
      hear: () => void (heardAt = sim.now()),
    };
  }

  it('probes at the first tick after a suspend and reports a dead link one interval later', () => {
    const w = watchdog(10_000);
    w.sim.increment(5000);
    w.hear();
    w.sleep(3_600_000);
    w.sim.increment(5000); // the tick: wall ran an hour ahead of monotonic time
    expect(w.written).toEqual([{ type: 'ping', ts: expect.any(Number) as number }]);
    expect(w.events).toEqual([]);
    w.sim.increment(9999);
    expect(w.events).toEqual([]);
    w.sim.increment(1);
    // 15 s of silence, under the 20 s limit: only the unanswered probe can say so.
    expect(w.events).toEqual(['heartbeat.missed']);
    w.stop();
  });

  it('keeps a link that answers the probe, and stays quiet without a wake-up', () => {
    const w = watchdog(10_000);
    w.sim.increment(5000);
    w.hear();
    w.sleep(3_600_000);
    w.sim.increment(5000);
    expect(w.written).toHaveLength(1);
    w.sim.increment(20);
    w.hear(); // the pong
    w.sim.increment(10_000);
    expect(w.events).toEqual([]);

    const quiet = watchdog(10_000);
    for (let i = 0; i < 5; i++) {
      quiet.sim.increment(5000);
      quiet.hear();
    }
    expect(quiet.written).toEqual([]);
    expect(quiet.events).toEqual([]);
    w.stop();
    quiet.stop();
  });

  it('measures silence on the monotonic clock: a wall step back changes nothing', () => {
    const w = watchdog(1000);
    w.sleep(-3_600_000);
    w.sim.increment(1999);
    expect(w.events).toEqual([]);
    w.sim.increment(1);
    expect(w.events).toEqual(['heartbeat.missed']);
    w.stop();
  });
});
