// Group commit of the app's publishes (publish-bursts.ts) on a real gateway: a log that stores at
// once gets each publish inside the call; a log that answers later gets every publish made in one
// turn, or queued while the previous burst is stored, in one append, in call order. A burst never
// jumps over a snapshot or a join queued after it, stays within its bounds, and fails whole with
// the log's typed error.
import { describe, expect, it } from 'vitest';
import { createMemoryLog, LogError, type EventLog } from '../../src/server/index.js';
import { MAX_BURST_BYTES, MAX_BURST_EVENTS } from '../../src/server/publish-bursts.js';
import { join, seqs, startGateway } from '../support/gateway-kit.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A memory log that records the size of every burst it is handed, answering 20 ms later (like a
 * store across the network) or `atOnce`, and can be made to fail.
 */
function recordingLog(answer: 'later' | 'atOnce' = 'later'): { log: EventLog; bursts: number[]; fail: (error: LogError | undefined) => void } {
  const inner = createMemoryLog();
  const bursts: number[] = [];
  let failure: LogError | undefined;
  const log: EventLog = {
    ...inner,
    replayWindow: inner.replayWindow,
    expiry: inner.expiry,
    append(sessionId, entries) {
      bursts.push(entries.length);
      if (answer === 'atOnce') return inner.append(sessionId, entries);
      return new Promise((resolve, reject) =>
        setTimeout(() => {
          if (failure) reject(failure);
          else resolve(inner.append(sessionId, entries));
        }, 20),
      );
    },
  };
  return { log, bursts, fail: (error) => void (failure = error) };
}

const tick = (n: number) => ({ type: 'tick', data: { n } });

/** A gateway on `log` with one joined client and one publish stored (so the bursts know how the log answers). */
async function gatewayWithSession(log: EventLog, bursts: number[]) {
  const gateway = await startGateway({ log, maxPendingPublishes: 1000 });
  const { client, helloOk } = await join(gateway, { protocol_max: 1 });
  const sessionId = String(helloOk['session_id']);
  expect(await gateway.publish(sessionId, tick(0))).toBe(1);
  bursts.length = 0;
  return { gateway, client, sessionId };
}

describe('publish bursts', () => {
  it('hands a log that stores at once each publish inside the call', async () => {
    const { log, bursts } = recordingLog('atOnce');
    const { gateway, client, sessionId } = await gatewayWithSession(log, bursts);
    expect(await Promise.all([1, 2, 3, 4].map((n) => gateway.publish(sessionId, tick(n))))).toEqual([2, 3, 4, 5]);
    expect(bursts).toEqual([1, 1, 1, 1]);
    await client.until((frames) => seqs(frames).includes(5), 5000, 'seq 5');
    expect(seqs(client.frames)).toEqual([1, 2, 3, 4, 5]);
  });

  it('stores what a log that answers later is handed in one turn, or while a burst is stored, as one append, in call order', async () => {
    const { log, bursts } = recordingLog();
    const { gateway, client, sessionId } = await gatewayWithSession(log, bursts);
    // Made in one turn: one burst, the first publish included.
    expect(await Promise.all(Array.from({ length: 11 }, (_, i) => gateway.publish(sessionId, tick(i + 1))))).toEqual(Array.from({ length: 11 }, (_, i) => i + 2));
    expect(bursts).toEqual([11]);
    // One burst in flight, 30 publishes queued behind it: one more.
    const alone = gateway.publish(sessionId, tick(12));
    await waitFor(() => bursts.length === 2, 5000, 'the lone publish on its way');
    const queued = Array.from({ length: 30 }, (_, i) => gateway.publish(sessionId, tick(i + 13)));
    expect(await Promise.all([alone, ...queued])).toEqual(Array.from({ length: 31 }, (_, i) => i + 13));
    expect(bursts).toEqual([11, 1, 30]);
    await client.until((frames) => seqs(frames).includes(43), 5000, 'seq 43');
    expect(seqs(client.frames)).toEqual(Array.from({ length: 43 }, (_, i) => i + 1));
  });

  it('never folds a publish into a burst queued before a snapshot: the state keeps the head it was set at', async () => {
    const { log, bursts } = recordingLog();
    const { gateway, sessionId } = await gatewayWithSession(log, bursts);
    const before = [gateway.publish(sessionId, tick(1)), gateway.publish(sessionId, tick(2))];
    const snapshot = gateway.setState(sessionId, { after: 3 });
    const after = gateway.publish(sessionId, tick(3)); // must not join the burst ahead of the snapshot
    expect(await Promise.all([...before, snapshot, after])).toEqual([2, 3, undefined, 4]);
    expect(bursts).toEqual([2, 1]);
    expect(await log.getState(sessionId)).toEqual({ state: { after: 3 }, cursor: 3 });
  });

  it('keeps each burst within its bounds of events and bytes', async () => {
    const { log, bursts } = recordingLog();
    const { gateway, sessionId } = await gatewayWithSession(log, bursts);
    await Promise.all(Array.from({ length: MAX_BURST_EVENTS + 10 }, (_, i) => gateway.publish(sessionId, tick(i))));
    expect(bursts).toEqual([MAX_BURST_EVENTS, 10]);
    bursts.length = 0;
    const big = { type: 'big', data: 'x'.repeat(MAX_BURST_BYTES / 4) };
    await Promise.all(Array.from({ length: 6 }, () => gateway.publish(sessionId, big)));
    expect(bursts).toEqual([3, 3]);
  });

  it('fails a burst whole with the log’s typed error, and stores the next one', async () => {
    const { log, bursts, fail } = recordingLog();
    const { gateway, sessionId } = await gatewayWithSession(log, bursts);
    fail(new LogError('unavailable', 'the store is away'));
    const failed = await Promise.allSettled([1, 2, 3].map((n) => gateway.publish(sessionId, tick(n))));
    expect(failed.map((r) => r.status === 'rejected' && (r.reason as { code?: string }).code)).toEqual(['unavailable', 'unavailable', 'unavailable']);
    fail(undefined);
    expect(await Promise.all([4, 5].map((n) => gateway.publish(sessionId, tick(n))))).toEqual([2, 3]);
    expect(bursts).toEqual([3, 2]);
  });
});
