// Group commit of the app's publishes (publish-bursts.ts) on a real gateway: a publish with
// nothing ahead of it is stored at once, alone; what queues for the session meanwhile goes to the
// log in one append, in call order; a burst never jumps over a snapshot or a join queued after
// it, stays within its bounds, and fails whole with the log's typed error.
import { describe, expect, it } from 'vitest';
import { createMemoryLog, LogError, type EventLog } from '../../src/server/index.js';
import { MAX_BURST_BYTES, MAX_BURST_EVENTS } from '../../src/server/publish-bursts.js';
import { join, seqs, startGateway } from '../support/gateway-kit.js';

/** A memory log that records the size of every burst it is handed, and can be made to fail. */
function recordingLog(): { log: EventLog; bursts: number[]; fail: (error: LogError | undefined) => void } {
  const inner = createMemoryLog();
  const bursts: number[] = [];
  let failure: LogError | undefined;
  const log: EventLog = {
    ...inner,
    replayWindow: inner.replayWindow,
    expiry: inner.expiry,
    append(sessionId, entries) {
      bursts.push(entries.length);
      // Answered on a later macrotask, like a store across the network.
      return new Promise((resolve, reject) =>
        setImmediate(() => {
          if (failure) reject(failure);
          else resolve(inner.append(sessionId, entries));
        }),
      );
    },
  };
  return { log, bursts, fail: (error) => void (failure = error) };
}

const tick = (n: number) => ({ type: 'tick', data: { n } });

describe('publish bursts', () => {
  it('stores a publish with nothing ahead of it at once, and what queued meanwhile in one append, in call order', async () => {
    const { log, bursts } = recordingLog();
    const gateway = await startGateway({ log });
    const { client, helloOk } = await join(gateway, { protocol_max: 1 });
    const sessionId = String(helloOk['session_id']);
    expect(await gateway.publish(sessionId, tick(0))).toBe(1);
    expect(bursts).toEqual([1]);
    // Issued in one go: the first is stored at once, alone; the ten that queue meanwhile, together.
    expect(await Promise.all(Array.from({ length: 11 }, (_, i) => gateway.publish(sessionId, tick(i + 1))))).toEqual(Array.from({ length: 11 }, (_, i) => i + 2));
    expect(bursts).toEqual([1, 1, 10]);
    await client.until((frames) => seqs(frames).includes(12), 5000, 'seq 12');
    expect(seqs(client.frames)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('never folds a publish into a burst queued before a snapshot: the state keeps the head it was set at', async () => {
    const { log, bursts } = recordingLog();
    const gateway = await startGateway({ log });
    const { helloOk } = await join(gateway, { protocol_max: 1 });
    const sessionId = String(helloOk['session_id']);
    const first = gateway.publish(sessionId, tick(1)); // stored at once
    const second = gateway.publish(sessionId, tick(2)); // opens a burst behind it
    const snapshot = gateway.setState(sessionId, { after: 2 });
    const third = gateway.publish(sessionId, tick(3)); // must not join the burst ahead of the snapshot
    expect(await Promise.all([first, second, snapshot, third])).toEqual([1, 2, undefined, 3]);
    expect(bursts).toEqual([1, 1, 1]);
    expect(await log.getState(sessionId)).toEqual({ state: { after: 2 }, cursor: 2 });
  });

  it('keeps each burst within its bounds of events and bytes', async () => {
    const { log, bursts } = recordingLog();
    const gateway = await startGateway({ log, maxPendingPublishes: 1000 });
    const { helloOk } = await join(gateway, { protocol_max: 1 });
    const sessionId = String(helloOk['session_id']);
    await Promise.all(Array.from({ length: MAX_BURST_EVENTS + 10 }, (_, i) => gateway.publish(sessionId, tick(i))));
    expect(bursts).toEqual([1, MAX_BURST_EVENTS, 9]);
    bursts.length = 0;
    const big = { type: 'big', data: 'x'.repeat(MAX_BURST_BYTES / 4) };
    await Promise.all(Array.from({ length: 6 }, () => gateway.publish(sessionId, big)));
    expect(bursts).toEqual([1, 3, 2]);
  });

  it('fails a burst whole with the log’s typed error, and stores the next one', async () => {
    const { log, bursts, fail } = recordingLog();
    const gateway = await startGateway({ log });
    const { helloOk } = await join(gateway, { protocol_max: 1 });
    const sessionId = String(helloOk['session_id']);
    fail(new LogError('unavailable', 'the store is away'));
    const failed = await Promise.allSettled([1, 2, 3].map((n) => gateway.publish(sessionId, tick(n))));
    expect(failed.map((r) => r.status === 'rejected' && (r.reason as { code?: string }).code)).toEqual(['unavailable', 'unavailable', 'unavailable']);
    fail(undefined);
    expect(await Promise.all([4, 5].map((n) => gateway.publish(sessionId, tick(n))))).toEqual([1, 2]);
    expect(bursts).toEqual([1, 2, 1, 1]);
  });
});
