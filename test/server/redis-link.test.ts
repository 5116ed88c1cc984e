// The link's rules on an injected clock, through its seam (LinkConnection: what a PING does):
// a call past its deadline takes the link down and nothing more is sent; a late answer or a rare
// PING while down brings it back even when no new connection (`ready`) follows. The real stalls
// (a TCP proxy, SIGSTOP, a cluster master) are in redis-partition.test.ts.
import { describe, expect, it } from 'vitest';
import { LogError } from '../../src/server/index.js';
import { createRedisLink, socketTimeoutFor, type RedisDeadlines } from '../../src/server/redis/redis-link.js';
import { createManualClock } from '../support/manual-clock.js';

const DEADLINES: RedisDeadlines = { commandTimeoutMs: 100, pingIntervalMs: 50, maxPendingCalls: 10, retryAfterMs: 1000 };

/** A PING the test answers by hand, or never. */
function pingSeam() {
  const waiting: Array<(value: string) => void> = [];
  return { waiting, connection: { ping: () => new Promise<string>((resolve) => waiting.push(resolve)) } };
}

/** Let promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('a Redis link', () => {
  it('a call past its deadline rejects unavailable and takes the link down; the next is refused without being sent', async () => {
    const clock = createManualClock();
    const { connection } = pingSeam();
    const link = createRedisLink('data', connection, DEADLINES, clock);
    link.ready();
    let answer: ((value: string) => void) | undefined;
    const call = link.run('publish', () => new Promise<string>((resolve) => (answer = resolve)));
    const outcome = call.catch((e: unknown) => e);
    clock.advance(99);
    await settle();
    expect(link.isUp()).toBe(true);
    clock.advance(1);
    expect(await outcome).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/did not answer publish .* within 100 ms/) });
    expect(link.isUp()).toBe(false);
    let sent = false;
    await expect(link.run('publish', async () => (sent = true))).rejects.toBeInstanceOf(LogError);
    expect(sent).toBe(false);
    // The stall ends: the late answer shows the connection works.
    answer?.('OK');
    await settle();
    expect(link.isUp()).toBe(true);
  });

  it('down with no new connection to come, a PING now and then (not before the idle socket could go) brings it back', async () => {
    const clock = createManualClock();
    const { waiting, connection } = pingSeam();
    const link = createRedisLink('data', connection, DEADLINES, clock);
    link.ready();
    waiting.shift()?.('PONG'); // the PING that ready() sends
    await settle();
    link.start();
    link.failed(new Error('MaxCommandRedirectionsError'));
    const quiet = socketTimeoutFor(DEADLINES) + DEADLINES.commandTimeoutMs;
    clock.advance(quiet - 1);
    await settle();
    expect(waiting).toHaveLength(0);
    clock.advance(DEADLINES.pingIntervalMs);
    await settle();
    expect(waiting).toHaveLength(1);
    waiting.shift()?.('PONG');
    await settle();
    expect(link.isUp()).toBe(true);
  });

  it('refuses at once past maxPendingCalls, naming the bound', async () => {
    const clock = createManualClock();
    const link = createRedisLink('data', pingSeam().connection, { ...DEADLINES, maxPendingCalls: 2 }, clock);
    link.ready();
    const never = (): Promise<never> => new Promise<never>(() => undefined);
    void link.run('a', never).catch(() => undefined);
    await settle();
    // ready()'s PING is one of the two.
    await expect(link.run('b', never)).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/maxPendingCalls 2/) });
  });
});
