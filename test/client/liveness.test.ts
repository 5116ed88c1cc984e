// Liveness and reconnect timing against the real gateway: a half-open socket found by the
// heartbeat and healed, the backoff schedule within bounds (and spread by jitter),
// retry_after_seconds honoured, and drain hints followed without counting failures.
import { describe, expect, it } from 'vitest';
import type { GatewayClient } from '../../src/client/index.js';
import { publishMany, startGateway } from '../support/gateway-kit.js';
import { recordEvents, waitFor, waitForCount, waitForState } from '../support/wait-for.js';
import { makeClient, proxyFor } from './kit.js';

/** Record `info.retryInMs` each time the client starts waiting to reconnect. */
function recordDelays(client: GatewayClient): Array<{ attempt: number; retryInMs: number | null }> {
  const delays: Array<{ attempt: number; retryInMs: number | null }> = [];
  client.onState((state) => {
    if (state === 'reconnecting') delays.push({ attempt: client.info.attempt, retryInMs: client.info.retryInMs });
  });
  return delays;
}

describe('liveness and reconnect timing', () => {
  it('detects a half-open socket through the heartbeat, closes it and heals without loss', async () => {
    const gw = await startGateway({ heartbeatMs: 100 });
    const proxy = await proxyFor(gw);
    const client = makeClient(proxy.url);
    const { events } = recordEvents(client);
    await client.connect();
    const sessionId = client.info.sessionId ?? '';
    await publishMany(gw, sessionId, 2);
    await waitForCount(events, 2);

    proxy.stall();
    await waitForState(client, 'reconnecting', 1000);
    expect(client.info.lastClose).toEqual({ code: 4002, reason: 'heartbeat_timeout' });
    expect(client.info.attempt).toBe(0);
    await publishMany(gw, sessionId, 2);
    proxy.resume();
    await waitForState(client, 'joined', 2000);
    await waitForCount(events, 4);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('keeps a quiet but healthy connection: the gateway pings, the client answers', async () => {
    const gw = await startGateway({ heartbeatMs: 50 });
    const client = makeClient(gw.url);
    const states: string[] = [];
    await client.connect();
    client.onState((s) => states.push(s));
    // Six heartbeat intervals of silence from the app: the connection must stay up.
    await expect(waitFor(() => states.length > 0, 300, 'a state change')).rejects.toThrow(/Timed out/);
    expect(client.state).toBe('joined');
  });

  it('backs off within bounds while the gateway refuses, with an exact schedule for a fixed random', async () => {
    const gw = await startGateway();
    const proxy = await proxyFor(gw);
    proxy.refuse(true);
    const reconnect = { initialDelayMs: 10, maxDelayMs: 40, multiplier: 2, minUptimeMs: 300 };
    const fixed = makeClient(proxy.url, { reconnect, random: () => 0 });
    const fixedDelays = recordDelays(fixed);
    const jittered = [0, 1, 2].map(() => makeClient(proxy.url, { reconnect }));
    const jitteredDelays = jittered.map(recordDelays);
    const pending = [fixed, ...jittered].map((c) => c.connect().catch(() => undefined));
    await waitFor(() => [fixedDelays, ...jitteredDelays].every((d) => d.length >= 5), 3000, 'five retries each');

    // random 0 with full jitter is the ceiling: 10, 20, 40, then capped.
    expect(fixedDelays.slice(0, 5)).toEqual([
      { attempt: 1, retryInMs: 10 },
      { attempt: 2, retryInMs: 20 },
      { attempt: 3, retryInMs: 40 },
      { attempt: 4, retryInMs: 40 },
      { attempt: 5, retryInMs: 40 },
    ]);
    for (const delays of jitteredDelays) {
      delays.slice(0, 5).forEach(({ attempt, retryInMs }, i) => {
        expect(attempt).toBe(i + 1);
        expect(retryInMs).toBeGreaterThanOrEqual(0);
        expect(retryInMs).toBeLessThanOrEqual(Math.min(40, 10 * 2 ** i));
      });
    }
    const schedules = new Set(jitteredDelays.map((d) => JSON.stringify(d.slice(0, 5).map((x) => x.retryInMs))));
    expect(schedules.size).toBeGreaterThan(1);

    proxy.refuse(false);
    await Promise.all(pending);
    expect([fixed, ...jittered].map((c) => c.state)).toEqual(['joined', 'joined', 'joined', 'joined']);
  });

  it('gives up with retries_exhausted after maxAttempts failures', async () => {
    const gw = await startGateway();
    const proxy = await proxyFor(gw);
    proxy.refuse(true);
    const client = makeClient(proxy.url, { reconnect: { initialDelayMs: 5, maxAttempts: 3 } });
    await expect(client.connect()).rejects.toMatchObject({ code: 'retries_exhausted', closeCode: 1006 });
    expect(client.state).toBe('disconnected');
  });

  it('honours retry_after_seconds as a floor when rate limited', async () => {
    const gw = await startGateway({ rateLimit: { connections: 1, perMs: 1000 } });
    const first = makeClient(gw.url);
    await first.connect();
    const client = makeClient(gw.url, { reconnect: { initialDelayMs: 10 } });
    const delays = recordDelays(client);
    const started = Date.now();
    await client.connect();
    expect(delays[0]?.retryInMs).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(client.info.lastClose).toMatchObject({ code: 4029 });
  });

  it('follows the drain hint, counts no failure and loses nothing', async () => {
    const gw = await startGateway({ drainSpreadMs: 200 });
    const a = makeClient(gw.url);
    const b = makeClient(gw.url);
    const { events } = recordEvents(a);
    const delays = [a, b].map(recordDelays);
    await Promise.all([a.connect(), b.connect()]);
    const sessionId = a.info.sessionId ?? '';
    await gw.publish(sessionId, { type: 'tick' });
    await waitForCount(events, 1);

    await gw.drain();
    await Promise.all([waitForState(a, 'joined'), waitForState(b, 'joined')]);
    const hints = delays.map((d) => d[0]?.retryInMs).sort((x, y) => (x ?? 0) - (y ?? 0));
    expect(hints).toEqual([0, 200]);
    for (const client of [a, b]) {
      expect(client.info.attempt).toBe(0);
      expect(client.info.lastClose).toEqual({ code: 1001, reason: 'draining' });
    }
    await gw.publish(sessionId, { type: 'tick' });
    await waitForCount(events, 2);
    expect(events.map((e) => e.seq)).toEqual([1, 2]);
  });
});
