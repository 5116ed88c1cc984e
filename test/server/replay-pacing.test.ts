// A large replay is paced by the socket: a reader that keeps up gets the whole window with default
// settings and is never evicted, live events wait behind the replay in order, and a reader that
// stalls mid-replay is still evicted with 4013 without holding up its session.
import { afterEach, describe, expect, it } from 'vitest';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { arrivalKinds, connect, helloFrame, join, publishMany, seqs, startGateway } from '../support/gateway-kit.js';
import { waitFor } from '../support/wait-for.js';

const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

const BIG = 'x'.repeat(32 * 1024);

async function publishBig(gateway: Awaited<ReturnType<typeof startGateway>>, sessionId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await gateway.publish(sessionId, { type: 'bulk', data: BIG });
    // Let the event loop reach I/O: live readers in this process must get to read.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('replay pacing', () => {
  it.each([
    ['v2 batches', 2],
    ['v1 frames', 1],
  ])('resumes after 1,000 missed 32 KB events with default settings, never evicted (%s)', async (_name, protocolMax) => {
    const gateway = await startGateway();
    const first = await join(gateway, { protocol_max: protocolMax });
    const sessionId = String(first.helloOk['session_id']);
    first.client.close();
    await first.client.closed();
    await publishBig(gateway, sessionId, 1000);

    const client = await connect(gateway);
    client.send(helloFrame({ session_id: sessionId, since: 0, epoch: first.helloOk['epoch'], protocol_max: protocolMax }));
    await client.next('hello_ok', 5000);
    // Published while the replay is still on its way: delivered live, after it.
    const live = await publishMany(gateway, sessionId, 5);
    expect(live).toEqual([1001, 1002, 1003, 1004, 1005]);
    await client.until((f) => seqs(f).length >= 1005, 20_000, 'the whole replay and the live events');

    expect(seqs(client.frames)).toEqual(Array.from({ length: 1005 }, (_, i) => i + 1));
    expect(arrivalKinds(client.frames)).toEqual([...Array<string>(1000).fill('replay'), 'caught_up', ...Array<string>(5).fill('event')]);
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    expect(gateway.stats().counters.slowConsumers).toBe(0);
  });

  it('evicts a reader that stalls mid-replay with 4013, while its session keeps publishing and joining', async () => {
    const gateway = await startGateway({ heartbeatMs: 60_000 });
    const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: gateway.port } });
    proxies.push(proxy);
    const { client: fast, helloOk } = await join(gateway);
    const sessionId = String(helloOk['session_id']);
    await publishBig(gateway, sessionId, 1000);

    // A reader that stopped reading before its replay began: its hello still goes up.
    const slow = await connect(proxy.url);
    proxy.stall('down');
    slow.send(helloFrame({ session_id: sessionId, since: 0, epoch: helloOk['epoch'] }));
    await waitFor(() => gateway.stats().joined === 2, 5000, 'the stalled reader to join');

    // The stalled replay holds neither the session's queue nor its other readers.
    const latecomer = await join(gateway, { session_id: sessionId });
    let published = 1000;
    for (let i = 0; i < 2000 && gateway.stats().counters.slowConsumers === 0; i++) {
      await gateway.publish(sessionId, { type: 'bulk', data: BIG });
      published++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(gateway.stats().counters.slowConsumers).toBe(1);
    await fast.until((f) => seqs(f).length === published, 10_000, 'every event at the fast reader');
    expect(seqs(fast.frames)).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    await latecomer.client.until((f) => seqs(f).length === published - 1000, 10_000, 'live events at the latecomer');

    proxy.resume();
    expect(await slow.closed(10_000)).toMatchObject({ code: 4013, reason: 'slow_consumer' });
    // Evicted mid-replay: it never heard caught_up.
    expect(slow.frames.some((f) => f.type === 'caught_up')).toBe(false);
  });
});
