// The gateway takes all its time from one clock: deadlines follow an injected clock exactly, and
// under the default clock a wall-clock step moves no deadline (only wire timestamps see it).
import { afterEach, describe, expect, it } from 'vitest';
import { connect, join, startGateway } from '../support/gateway-kit.js';
import { createManualClock } from '../support/manual-clock.js';

describe('injected clock', () => {
  it('runs the handshake timeout, heartbeat, rate window and uptime on the injected time only', async () => {
    const clock = createManualClock();
    const gateway = await startGateway({ clock, handshakeTimeoutMs: 100, heartbeatMs: 50, rateLimit: { connections: 2, perMs: 1000 } });

    const silent = await connect(gateway);
    await silent.sync();
    clock.advance(99);
    await silent.sync();
    expect(silent.frames.some((f) => f.type === 'hello_error')).toBe(false);
    clock.advance(1);
    expect(await silent.next('hello_error')).toMatchObject({ code: 'handshake_timeout' });

    const { client } = await join(gateway);
    const refused = await connect(gateway);
    expect(await refused.next('hello_error')).toMatchObject({ code: 'rate_limited', retry_after_seconds: 1 });
    clock.advance(50);
    expect(await client.next('ping')).toMatchObject({ ts: clock.wallNow() });
    clock.advance(50);
    expect(await client.closed()).toMatchObject({ code: 4002 });

    clock.advance(900); // the first two connections leave the rate window
    await join(gateway);
    expect(gateway.stats().uptimeS).toBe(1.1);
    const seq = await gateway.publish((await join(gateway)).helloOk['session_id'] as string, { type: 't' });
    expect(seq).toBe(1);
  });
});

describe('default clock under a wall-clock step', () => {
  const realNow = Date.now;
  afterEach(() => {
    Date.now = realNow;
  });

  it('still reaps a silent connection on time when the wall clock steps back an hour', async () => {
    const gateway = await startGateway({ heartbeatMs: 100 });
    const { client, helloOk } = await join(gateway);
    const stepped = realNow() - 3_600_000;
    Date.now = () => realNow() - 3_600_000;
    // Silence is measured monotonically, so the close still lands within 2-3 intervals.
    expect(await client.closed(1500)).toMatchObject({ code: 4002, reason: 'liveness_timeout' });
    // Timestamps on the wire stay wall-clock and follow the step.
    const watcher = await join(gateway, { session_id: helloOk['session_id'] });
    await gateway.publish(helloOk['session_id'] as string, { type: 't' });
    const event = await watcher.client.next('event');
    expect((event['event'] as { timestamp: number }).timestamp * 1000).toBeLessThan(stepped + 60_000);
  });
});
