// A join's replay is read in pages (`replayPageEvents`): a resuming connection holds one page at
// a time, read as its socket takes the previous one, and still gets every event exactly once and
// in order while publishes race the replay, on the memory log and on the Redis log.
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryLog, createRedisFleet, type EventLog } from '../../src/server/index.js';
import { arrivalKinds, connect, events, helloFrame, join, publishMany, seqs, startGateway } from '../support/gateway-kit.js';
import type { RawClient } from '../support/raw-client.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

const PAGE = 50;
const servers: RedisServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** One readAfter call: the limit asked for and how many events came back. */
interface Read {
  readonly limit: number | undefined;
  readonly returned: number;
}

/** A real log with its reads recorded (every other call goes straight through). */
function counted<L extends EventLog>(log: L): { log: L; reads: Read[] } {
  const reads: Read[] = [];
  const wrapped: L = {
    ...log,
    async readAfter(sessionId: string, cursor: number, limit?: number) {
      const read = await log.readAfter(sessionId, cursor, limit);
      reads.push({ limit, returned: read.events.length });
      return read;
    },
  };
  return { log: wrapped, reads };
}

const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/** Every event 1..total once and in order: the replay first, then caught_up, then live events. */
async function expectWholeStream(client: RawClient, total: number): Promise<void> {
  await client.until((frames) => seqs(frames).includes(total), 20_000, `seq ${total}`);
  await client.sync();
  expect(seqs(client.frames)).toEqual(upTo(total));
  const kinds = arrivalKinds(client.frames);
  const caughtUp = kinds.indexOf('caught_up');
  expect(kinds.slice(0, caughtUp).every((k) => k === 'replay')).toBe(true);
  expect(kinds.slice(caughtUp + 1).every((k) => k === 'event')).toBe(true);
}

/** Resume `sessionId` from the start, racing `racing` publishes from `publisher` against the replay. */
async function resumeWhilePublishing(
  gateway: Awaited<ReturnType<typeof startGateway>>,
  publisher: Awaited<ReturnType<typeof startGateway>>,
  sessionId: string,
  epoch: unknown,
  racing: number,
  protocolMax: number,
): Promise<RawClient> {
  const client = await connect(gateway);
  client.send(helloFrame({ session_id: sessionId, since: 0, epoch, protocol_max: protocolMax }));
  // Publishes start with the join and go on while its pages are read and written.
  const publishing = (async () => {
    for (let i = 0; i < racing; i++) {
      await publisher.publish(sessionId, { type: 'tick', data: { i } });
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  await client.next('hello_ok', 10_000);
  await publishing;
  return client;
}

/**
 * A session holding 200 events of 64 KB (12.8 MB, more than the socket buffers hold) on `log`,
 * and `slow`, a reader that resumed it from 0 and stopped reading, stalled mid-replay.
 */
async function stalledReplay(log: EventLog) {
  const gateway = await startGateway({ log, replayPageEvents: PAGE, heartbeatMs: 60_000 });
  const first = await join(gateway);
  const sessionId = String(first.helloOk['session_id']);
  const epoch = first.helloOk['epoch'];
  first.client.close();
  await first.client.closed();
  const big = 'x'.repeat(64 * 1024);
  for (let i = 0; i < 200; i++) await gateway.publish(sessionId, { type: 'bulk', data: big });
  const slow = await connect(gateway);
  slow.ws.pause(); // TCP pushes back once the kernel buffers are full
  slow.send(helloFrame({ session_id: sessionId, since: 0, epoch }));
  await waitFor(() => gateway.stats().joined === 1, 10_000, 'the stalled reader to join');
  return { gateway, sessionId, epoch, slow };
}

describe('paged join replay', () => {
  it.each([
    ['v2 batches', 2],
    ['v1 frames', 1],
  ])('memory log: 1,000-event backlog with 300 publishes racing the replay, each event once in order (%s)', async (_name, protocolMax) => {
    const { log, reads } = counted(createMemoryLog({ replayWindow: 2000 }));
    const gateway = await startGateway({ log, replayPageEvents: PAGE });
    const first = await join(gateway, { protocol_max: protocolMax });
    const sessionId = String(first.helloOk['session_id']);
    first.client.close();
    await first.client.closed();
    await publishMany(gateway, sessionId, 1000);

    const client = await resumeWhilePublishing(gateway, gateway, sessionId, first.helloOk['epoch'], 300, protocolMax);
    await expectWholeStream(client, 1300);
    expect(reads.length).toBeGreaterThanOrEqual(1000 / PAGE);
    for (const read of reads) {
      expect(read.limit).toBeLessThanOrEqual(PAGE);
      expect(read.returned).toBeLessThanOrEqual(PAGE);
    }
  });

  it('reads the next page only once the socket took the previous one: a stalled reader holds a few pages, never the backlog', async () => {
    const { log, reads } = counted(createMemoryLog({ replayWindow: 1000 }));
    const gateway = await startGateway({ log, replayPageEvents: PAGE, heartbeatMs: 60_000 });
    const first = await join(gateway);
    const sessionId = String(first.helloOk['session_id']);
    first.client.close();
    await first.client.closed();
    const big = 'x'.repeat(32 * 1024); // 1,000 of them: 32 MB, far more than the socket buffers hold
    for (let i = 0; i < 1000; i++) await gateway.publish(sessionId, { type: 'bulk', data: big });

    const slow = await connect(gateway);
    slow.ws.pause(); // stop reading: TCP pushes back once the kernel buffers are full
    slow.send(helloFrame({ session_id: sessionId, since: 0, epoch: first.helloOk['epoch'] }));
    await waitFor(() => reads.reduce((n, r) => n + r.returned, 0) >= 2 * PAGE, 10_000, 'a few replay pages to be read');
    // Give the pager every chance to run ahead: a join, a publish and its delivery to that reader.
    const live = await join(gateway, { session_id: sessionId });
    await gateway.publish(sessionId, { type: 'tick', data: 'marker' });
    await live.client.until((frames) => seqs(frames).includes(1001), 10_000, 'the marker');
    const readWhileStalled = reads.reduce((n, r) => n + r.returned, 0);
    expect(readWhileStalled).toBeLessThan(1000);

    slow.ws.resume();
    await slow.until((frames) => seqs(frames).includes(1001), 30_000, 'the whole replay and the marker');
    expect(seqs(slow.frames)).toEqual(upTo(1001));
    for (const read of reads) expect(read.limit).toBeLessThanOrEqual(PAGE);
  }, 60_000);

  it('skips what the log trimmed before a stalled replay reached it: one jump the client reports as a gap, counted', async () => {
    const { gateway, sessionId, slow } = await stalledReplay(createMemoryLog({ replayWindow: 200 }));
    // Small publishes push the unread part of its replay out of the window.
    await publishMany(gateway, sessionId, 300);
    slow.ws.resume();
    await slow.until((frames) => seqs(frames).includes(500), 30_000, 'the live events after the replay');
    await slow.sync();

    const got = seqs(slow.frames);
    expect(got.every((seq, i) => i === 0 || seq > got[i - 1]!)).toBe(true); // in order, no duplicates
    const jump = got.findIndex((seq, i) => i > 0 && seq !== got[i - 1]! + 1);
    expect(jump).toBeGreaterThan(0); // a hole: the client's gap tracker reports it
    expect(got.slice(jump)).toEqual(Array.from({ length: 500 - got[jump]! + 1 }, (_, i) => got[jump]! + i));
    expect(gateway.stats().counters.gaps['window']).toBe(1);
    expect(slow.ws.readyState).toBe(slow.ws.OPEN);
  }, 60_000);

  it('ends a paged replay whose history was reset between pages: the connection resumes (1001), its resume gets the epoch gap, nothing of the new history comes as the old', async () => {
    const log = createMemoryLog({ replayWindow: 200 });
    const { gateway, sessionId, epoch, slow } = await stalledReplay(log);
    // The store's history is reset under the replay (as a node finds after Redis lost writes):
    // a new epoch, numbered from 1 again, so the seqs the replay still has to read exist in it.
    await log.deleteSession(sessionId);
    await log.createSession(sessionId, 'demo');
    for (let n = 1; n <= 200; n++) await log.append(sessionId, [{ event: { type: 'reset', data: { n } } }]);
    slow.ws.resume();

    expect(await slow.closed(30_000)).toMatchObject({ code: 1001 });
    expect(arrivalKinds(slow.frames)).not.toContain('caught_up');
    expect(new Set(events(slow.frames).map((e) => e['type']))).toEqual(new Set(['bulk']));
    const got = seqs(slow.frames);
    expect(got).toEqual(upTo(got.length));
    // Its resume, from its cursor in the old epoch, is answered in the new one with the gap.
    const again = await join(gateway, { session_id: sessionId, since: got.length, epoch });
    expect(again.helloOk['epoch']).not.toBe(epoch);
    expect(again.helloOk).toMatchObject({ resync_required: true, gap: { expected: got.length + 1, received: 1 }, cursor: 200 });
  }, 60_000);

  it('answers a join whose history moved between its position and its first page in the new epoch, with the gap', async () => {
    const inner = createMemoryLog();
    let resetAtNextRead = false;
    // Resets the session just before a read, after the join has read its position.
    const log: EventLog = {
      ...inner,
      async readAfter(sessionId, cursor, limit) {
        if (resetAtNextRead) {
          resetAtNextRead = false;
          await inner.deleteSession(sessionId);
          await inner.createSession(sessionId, 'demo');
          for (let n = 1; n <= 3; n++) await inner.append(sessionId, [{ event: { type: 'reset', data: { n } } }]);
        }
        return inner.readAfter(sessionId, cursor, limit);
      },
    };
    const gateway = await startGateway({ log });
    const first = await join(gateway, { protocol_max: 1 });
    const sessionId = String(first.helloOk['session_id']);
    const epoch = first.helloOk['epoch'];
    await publishMany(gateway, sessionId, 5);
    first.client.close();
    await first.client.closed();

    resetAtNextRead = true;
    const again = await join(gateway, { session_id: sessionId, since: 2, epoch, protocol_max: 1 });
    expect(again.helloOk['epoch']).not.toBe(epoch);
    expect(again.helloOk).toMatchObject({ resync_required: true, gap: { expected: 3, received: 1 }, cursor: 3 });
    expect(again.caughtUp).toMatchObject({ cursor: 3, epoch: again.helloOk['epoch'] });
    expect(events(again.client.frames).map((e) => e['data'])).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('Redis log: a join on another node gets a 1,000-event backlog in pages, with 300 publishes racing, each once in order', async () => {
    const server = await startRedis();
    servers.push(server);
    const secret = 'replay-pages-secret-0123456789';
    const a = await startGateway({ ...createRedisFleet({ url: server.url, secret, replayWindow: 2000 }), replayPageEvents: PAGE });
    const redisB = createRedisFleet({ url: server.url, secret, replayWindow: 2000 });
    const { log, reads } = counted(redisB.log);
    const b = await startGateway({ log, fleet: redisB.fleet, replayPageEvents: PAGE });
    const first = await join(a, { protocol_max: 1 });
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(a, sessionId, 1000);
    const xrangeBefore = await xrangeCalls(server);

    const client = await resumeWhilePublishing(b, a, sessionId, first.helloOk['epoch'], 300, 1);
    await expectWholeStream(client, 1300);
    expect(reads.length).toBeGreaterThanOrEqual(1000 / PAGE);
    for (const read of reads) {
      expect(read.limit).toBeLessThanOrEqual(PAGE);
      expect(read.returned).toBeLessThanOrEqual(PAGE);
    }
    // Redis saw those pages as separate bounded XRANGEs.
    expect((await xrangeCalls(server)) - xrangeBefore).toBeGreaterThanOrEqual(1000 / PAGE);
  });
});

/** XRANGE calls Redis has served (INFO commandstats). */
async function xrangeCalls(server: RedisServer): Promise<number> {
  const match = /cmdstat_xrange:calls=(\d+)/.exec(await server.cli('info', 'commandstats'));
  return Number(match?.[1] ?? 0);
}
