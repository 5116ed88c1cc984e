// Gateways sharing one Redis log: a client resumes on another node from its cursor, a resend is
// applied once fleet-wide, and the in-process expiry sweep never deletes a shared session.
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisFleet } from '../../src/server/index.js';
import { connect, helloFrame, join, publishMany, seqs, startGateway } from '../support/gateway-kit.js';
import type { RawClient } from '../support/raw-client.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'test-secret-0123456789';
const servers: RedisServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function fleetNode(server: RedisServer, options: Parameters<typeof startGateway>[0] = {}, logTtlMs?: number) {
  const { log, fleet } = createRedisFleet({ url: server.url, secret: SECRET, replayWindow: 1000, ...(logTtlMs === undefined ? {} : { sessionTtlMs: logTtlMs }) });
  return startGateway({ log, fleet, ...options });
}

/** A Redis and two gateway nodes on it, all torn down after the test. */
async function twoNodes(options: Parameters<typeof startGateway>[0] = {}, logTtlMs?: number) {
  const server = await startRedis();
  servers.push(server);
  return { server, a: await fleetNode(server, options, logTtlMs), b: await fleetNode(server, options, logTtlMs) };
}

/** Wait until `client` has seq `total`, then check it got 1..total exactly once, in order. */
async function expectEveryEventOnce(client: RawClient, total: number, kind?: 'event'): Promise<void> {
  await client.until((frames) => seqs(frames).includes(total), 5000, `seq ${total}`);
  await client.sync();
  expect(seqs(client.frames, kind)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
}

/** Poll an async condition every 10 ms until it holds, or fail after `timeoutMs`. */
async function eventually(check: () => Promise<boolean>, timeoutMs: number, label: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('gateways on one Redis log', () => {
  it('delivers an event published on one node live to clients on every node, once each, in order', async () => {
    const { a, b } = await twoNodes();
    const onA = await join(a, { protocol_max: 1 });
    const sessionId = String(onA.helloOk['session_id']);
    const onB = await join(b, { protocol_max: 1, session_id: sessionId });
    await publishMany(a, sessionId, 10);
    await publishMany(b, sessionId, 10);
    await expectEveryEventOnce(onA.client, 20, 'event');
    await expectEveryEventOnce(onB.client, 20, 'event');
  });

  it('closes the subscribe-then-replay race: joins racing publishes get every event exactly once', async () => {
    const { a, b } = await twoNodes();
    const first = await join(a, { protocol_max: 1 });
    const sessionId = String(first.helloOk['session_id']);
    const total = 150;
    const publishing = publishMany(a, sessionId, total);
    // Joins on the other node while events stream in, each resuming from wherever it finds the head.
    const joiners = [];
    for (let i = 0; i < 6; i++) {
      joiners.push(await join(b, { protocol_max: 1, session_id: sessionId, since: 0 }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await publishing;
    for (const { client } of joiners) await expectEveryEventOnce(client, total);
  });

  it('resumes a client on another node with exactly the events it missed', async () => {
    const { a, b } = await twoNodes();
    const first = await join(a, { protocol_max: 1 });
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(a, sessionId, 3);
    await first.client.until((frames) => seqs(frames).length === 3);
    await a.terminate();
    await publishMany(b, sessionId, 2); // published while the client was away

    const again = await join(b, { protocol_max: 1, session_id: sessionId, since: 3, epoch: first.helloOk['epoch'] });
    expect(again.helloOk).toMatchObject({ resumed: true, cursor: 5, epoch: first.helloOk['epoch'], resync_required: false });
    expect(seqs(again.client.frames, 'replay')).toEqual([4, 5]);
  });

  it('applies a resent message once, whichever node it reaches', async () => {
    const { a, b } = await twoNodes();
    let applied = 0;
    a.onMessage(() => applied++);
    b.onMessage(() => applied++);
    const first = await join(a, { protocol_max: 1 });
    const sessionId = String(first.helloOk['session_id']);
    first.client.send({ type: 'message', id: 'm-1', content: 'hi' });
    expect(await first.client.next('ack')).toMatchObject({ id: 'm-1' });
    const second = await join(b, { protocol_max: 1, session_id: sessionId });
    second.client.send({ type: 'message', id: 'm-1', content: 'hi' });
    expect(await second.client.next('ack')).toMatchObject({ id: 'm-1', duplicate: true });
    expect(applied).toBe(1);
  });

  it('never deletes a session that is idle here but live on another node', async () => {
    const { server, a: idle, b: holder } = await twoNodes({ sessionTtlMs: 50 }, 400);
    const first = await join(idle, { protocol_max: 1 });
    const sessionId = String(first.helloOk['session_id']);
    await join(holder, { protocol_max: 1, session_id: sessionId });
    first.client.ws.close();
    // The idle node forgets its live entry after its TTL, but never deletes the shared history.
    await waitFor(() => idle.sessions().length === 0, 3000, 'the idle node to forget its entry');
    const meta = `lifeline:{${sessionId}}:meta`;
    // The holder keeps refreshing the key TTL: it goes up again, well past the 400 ms it was given.
    const started = performance.now();
    let last = Number(await server.cli('pttl', meta));
    let refreshes = 0;
    await eventually(async () => {
      const now = Number(await server.cli('pttl', meta));
      if (now > last) refreshes++;
      last = now;
      return refreshes >= 3 && performance.now() - started > 800;
    }, 5000, 'the holder to refresh the TTL past two lifetimes');
    expect(await server.cli('exists', meta)).toBe('1');
  });

  it('keeps a connected but quiet session alive in Redis even when the gateway itself never expires sessions', async () => {
    // The gateway's TTLs are 0 (keep forever); the log's keys still expire after 300 ms unless touched.
    const { server, a } = await twoNodes({ sessionTtlMs: 0, anonymousSessionTtlMs: 0 }, 300);
    const { client, helloOk } = await join(a, { protocol_max: 1 });
    const sessionId = String(helloOk['session_id']);
    const meta = `lifeline:{${sessionId}}:meta`;
    // Quiet for more than three lifetimes of its keys: the node's touches must carry it.
    const started = performance.now();
    let refreshes = 0;
    let last = Number(await server.cli('pttl', meta));
    await eventually(async () => {
      const now = Number(await server.cli('pttl', meta));
      if (now > last) refreshes++;
      last = now;
      return performance.now() - started > 1000 && refreshes >= 3;
    }, 5000, 'three touches over a second of silence');
    expect(await server.cli('exists', meta)).toBe('1');
    await a.publish(sessionId, { type: 'token', data: 'still here' });
    await client.until((frames) => seqs(frames).includes(1), 2000, 'the event');
  });

  it('refuses with a typed, recoverable unavailable while Redis is down, reports degraded, and recovers by itself', async () => {
    const server = await startRedis({ appendfsync: 'always' });
    servers.push(server);
    const node = await fleetNode(server);
    const first = await join(node, { protocol_max: 1 });
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(node, sessionId, 2);
    await server.kill();

    const refused = await connect(node);
    refused.send(helloFrame({ protocol_max: 1, session_id: sessionId, since: 2, epoch: first.helloOk['epoch'] }));
    expect(await refused.next('hello_error')).toMatchObject({ code: 'unavailable', next_step: 'wait_then_retry', retry_after_seconds: 1 });
    expect(await refused.closed()).toMatchObject({ code: 4503 });
    first.client.send({ type: 'message', id: 'm-while-down', content: 'x' });
    expect(await first.client.next('error')).toMatchObject({ code: 'unavailable', id: 'm-while-down' });
    await expect(node.publish(sessionId, { type: 'tick' })).rejects.toMatchObject({ code: 'unavailable' });
    const health = (await (await fetch(`http://127.0.0.1:${node.port}/health`)).json()) as Record<string, unknown>;
    expect(health['status']).toBe('degraded');

    servers.push(await server.restart());
    // appendfsync always: nothing acknowledged was lost, so the same epoch resumes seamlessly.
    await eventually(async () => node.fleet.health.isReachable(), 10_000, 'the node to reconnect to Redis');
    const again = await join(node, { protocol_max: 1, session_id: sessionId, since: 1, epoch: first.helloOk['epoch'] });
    expect(again.helloOk).toMatchObject({ resumed: true, cursor: 2, epoch: first.helloOk['epoch'], resync_required: false });
    expect(seqs(again.client.frames, 'replay')).toEqual([2]);
  });

  it('reports the whole fleet in /health and hello_ok, and serves Prometheus metrics', async () => {
    const { a, b } = await twoNodes({ fleetReportMs: 50 });
    const onA = await join(a, { protocol_max: 1 });
    const sessionId = String(onA.helloOk['session_id']);
    await join(b, { protocol_max: 1 });
    await join(b, { protocol_max: 1 });
    const health = async (port: number) => (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<string, unknown>;
    await eventually(async () => JSON.stringify((await health(a.port))['fleet']) === JSON.stringify({ nodes: 2, connections: 3, sessions: 3, store_reachable: true }), 5000, 'A to see the fleet');
    const late = await join(a, { protocol_max: 1, session_id: sessionId });
    expect(late.helloOk['health']).toMatchObject({ fleet: { nodes: 2 } });

    await publishMany(a, sessionId, 3);
    await late.client.until((frames) => seqs(frames).length === 3);
    const scrape = await fetch(`http://127.0.0.1:${a.port}/metrics`);
    expect(scrape.headers.get('content-type')).toContain('text/plain');
    const text = await scrape.text();
    expect(text).toMatch(/lifeline_events_published_total\{node="[^"]+"\} 3/);
    expect(text).toMatch(/lifeline_events_delivered_total\{node="[^"]+"\} 6/);
    expect(text).toMatch(/lifeline_store_reachable\{node="[^"]+"\} 1/);
    // Every bound's signal is scraped too.
    for (const name of ['lifeline_bad_frames_total', 'lifeline_inbound_pauses_total', 'lifeline_presence_capped_total', 'lifeline_evictions_total']) expect(text).toContain(`${name}{node=`);
    expect(text).toMatch(/lifeline_store_round_trip_seconds_count\{node="[^"]+"\} [1-9]/);
  });
});
