// Resume and gaps against the real gateway through the TCP fault proxy: exactly the missed events
// after a drop, a gap beyond the replay window, an epoch change after a restart without the log,
// a restart with the log, and resync() to continue from a snapshot.
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/server/index.js';
import { publishMany, startGateway } from '../support/gateway-kit.js';
import { recordEvents, waitFor, waitForCount, waitForGap, waitForState } from '../support/wait-for.js';
import { makeClient, proxyFor } from './kit.js';

describe('resume', () => {
  it('after a drop, delivers exactly the missed events, in order, then live ones', async () => {
    const gw = await startGateway();
    const proxy = await proxyFor(gw);
    const client = makeClient(proxy.url);
    const { events } = recordEvents(client);
    const gaps: unknown[] = [];
    client.onGap((g) => gaps.push(g));
    await client.connect();
    const sessionId = client.info.sessionId ?? '';
    await publishMany(gw, sessionId, 3);
    await waitForCount(events, 3);

    // Keep it down while events it misses are published.
    proxy.refuse(true);
    proxy.drop();
    await waitForState(client, 'reconnecting');
    await publishMany(gw, sessionId, 4);
    proxy.refuse(false);
    await waitForState(client, 'joined', 3000);
    await waitForCount(events, 7);
    await gw.publish(sessionId, { type: 'tick', data: { live: true } });
    await waitForCount(events, 8);

    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events.map((e) => e.replayed)).toEqual([false, false, false, true, true, true, true, false]);
    expect(gaps).toEqual([]);
    expect(client.info).toMatchObject({ sessionId, cursor: 8, resume: { mode: 'full', from: 4, to: 7 } });
  });

  it('reports a gap beyond the replay window, then resync() continues from the snapshot', async () => {
    const gw = await startGateway({ replayWindow: 5 });
    const proxy = await proxyFor(gw);
    const client = makeClient(proxy.url);
    const { events } = recordEvents(client);
    await client.connect();
    const sessionId = client.info.sessionId ?? '';
    await publishMany(gw, sessionId, 2);
    await waitForCount(events, 2);

    proxy.refuse(true);
    proxy.drop();
    await waitForState(client, 'reconnecting');
    await publishMany(gw, sessionId, 10);
    await gw.setState(sessionId, { total: 12 });
    const gap = waitForGap(client, 3000);
    proxy.refuse(false);
    expect(await gap).toEqual({ expected: 3, received: 8, reason: 'window' });
    await waitForCount(events, 7);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 8, 9, 10, 11, 12]);
    expect(client.info.resume).toEqual({ mode: 'partial', from: 8, to: 12 });

    const snapshot = await client.resync();
    expect(snapshot).toMatchObject({ state: { total: 12 }, cursor: 12 });
    await gw.publish(sessionId, { type: 'tick' });
    await waitForCount(events, 8);
    expect(events.at(-1)?.seq).toBe(13);
  });

  it('reports an epoch change when the gateway restarts without its log, and follows the new numbering', async () => {
    const first = await startGateway();
    const proxy = await proxyFor(first);
    const client = makeClient(proxy.url);
    const { events } = recordEvents(client);
    await client.connect();
    const sessionId = client.info.sessionId ?? '';
    const oldEpoch = client.info.epoch;
    await publishMany(first, sessionId, 3);
    await waitForCount(events, 3);

    const second = await startGateway();
    proxy.setTarget({ host: '127.0.0.1', port: second.port });
    const gap = waitForGap(client, 3000);
    await first.terminate();
    expect(await gap).toMatchObject({ expected: 4, reason: 'epoch' });
    await waitForState(client, 'joined');
    expect(client.info.sessionId).toBe(sessionId);
    expect(client.info.epoch).not.toBe(oldEpoch);

    // seq 1 of the new history is new, not a duplicate of the old seq 1.
    await second.publish(sessionId, { type: 'tick', data: { fresh: true } });
    await waitForCount(events, 4);
    expect(events[3]).toMatchObject({ seq: 1, data: { fresh: true }, replayed: false });
    await expect(client.resync()).resolves.toMatchObject({ cursor: 1 });
  });

  it('survives the gateway being killed and restarted with its log: no gap, no duplicates', async () => {
    const first = await startGateway();
    const proxy = await proxyFor(first);
    const client = makeClient(proxy.url);
    const { events } = recordEvents(client);
    await client.connect();
    const sessionId = client.info.sessionId ?? '';
    await publishMany(first, sessionId, 3);
    await waitForCount(events, 3);
    const gaps: unknown[] = [];
    client.onGap((g) => gaps.push(g));

    await first.terminate();
    await waitForState(client, 'reconnecting');
    const second = await createGateway({ host: '127.0.0.1', port: 0, logger: false, log: first.log });
    try {
      await publishMany(second, sessionId, 2);
      proxy.setTarget({ host: '127.0.0.1', port: second.port });
      await waitForState(client, 'joined', 3000);
      await waitForCount(events, 5);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(gaps).toEqual([]);
      await waitFor(() => client.info.resume?.mode === 'full', 1000, 'a full resume');
    } finally {
      await client.disconnect();
      await second.terminate();
    }
  });
});
