// The HTTP binding in a fleet without sticky sessions: two gateway nodes on one real Redis behind
// a round-robin HTTP balancer, so a client's stream sits on one node while its POSTs land on
// either. The node that gets a POST for the other's stream relays it there over Redis and answers
// with the holder's verdict: the client stays on one stream, every message is applied once, in
// the order sent, and acknowledged once. And the relay itself (Fleet.relay): order, verdicts, a
// node that nobody serves is unknown at once.
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayClient, type GatewayClient, type SendResult } from '../../src/client/index.js';
import { tokenDigest } from '../../src/server/http/post-frames.js';
import type { DeliveryOutcome, RelayedFrames } from '../../src/server/fleet.js';
import { createRedisFleet, type Gateway, type GatewayOptions } from '../../src/server/index.js';
import { relayChannel } from '../../src/server/redis/connection-relay.js';
import type { RedisFleetOptions } from '../../src/server/redis/options.js';
import { helloFrame, publishMany, startGateway } from '../support/gateway-kit.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { startRoundRobinProxy } from '../support/round-robin-proxy.js';
import { abortStreams, httpBase, openStream, postFrames } from '../support/sse-client.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'test-secret-0123456789';
const stops: (() => Promise<void>)[] = [];
// One Redis for the file; each test names its nodes apart.
let server: RedisServer;

beforeAll(async () => {
  server = await startRedis();
});
afterAll(() => server.stop());
afterEach(async () => {
  abortStreams();
  for (const stop of stops.splice(0).reverse()) await stop();
});

function fleetNode(nodeId: string, fleetOptions: Partial<RedisFleetOptions> = {}, options: GatewayOptions = {}): Promise<Gateway> {
  return startGateway({ ...createRedisFleet({ url: server.url, secret: SECRET, ...fleetOptions }), nodeId, rateLimit: false, ...options });
}

/**
 * Every message the relay carries on `node`'s channel, as a spy subscriber hears it. The spy
 * counts as a listener that never answers: stop it before a forward whose holder says unknown.
 */
async function spyOnRelay(node: string): Promise<{ readonly heard: string[]; stop(): Promise<void> }> {
  const heard: string[] = [];
  const spy = createClient({ url: server.url });
  await spy.connect();
  const stop = async (): Promise<void> => {
    if (spy.isOpen) await spy.close();
  };
  stops.push(stop);
  await spy.sSubscribe(relayChannel('lifeline:', node), (message) => void heard.push(message));
  return { heard, stop };
}

describe('the HTTP binding in a fleet without sticky sessions', () => {
  it('a client whose POSTs land on either node stays on its stream: every message applied once, in order, acknowledged once, and live events arrive', async () => {
    const [a, b] = await Promise.all([fleetNode('a1'), fleetNode('b1')]);
    const applied: string[] = [];
    a.onMessage((m) => void applied.push(`a:${String((m.content as { k: number }).k)}`));
    b.onMessage((m) => void applied.push(`b:${String((m.content as { k: number }).k)}`));
    const balancer = await startRoundRobinProxy([a.port, b.port]);
    stops.push(() => balancer.close());
    const client: GatewayClient = createGatewayClient({ url: balancer.url.replace(/^http/, 'ws'), agentId: 'demo', transports: ['http'], reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    stops.push(() => client.disconnect());
    let joins = 0;
    client.onState((state) => void (state === 'joined' && joins++));
    const events: number[] = [];
    client.onEvent((event) => void events.push(event.seq ?? -1));
    await client.connect();
    expect(balancer.routed[0]).toEqual({ method: 'GET', upstream: a.port }); // the stream is on a

    const sends: Promise<SendResult>[] = [];
    for (let k = 1; k <= 20; k++) {
      sends.push(client.send({ k }));
      // Pacing the sender (not waiting for a condition), so most POSTs carry one or two frames
      // and go out while the previous ones' acks are still on their way.
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const results = await Promise.all(sends);
    expect(results.every((r) => r.acknowledged && !r.duplicate)).toBe(true);
    // Only the holder runs handlers, each once, in the order sent.
    expect(applied).toEqual(Array.from({ length: 20 }, (_, i) => `a:${i + 1}`));
    const posts = balancer.routed.filter((r) => r.method === 'POST');
    expect(posts.filter((r) => r.upstream === b.port).length).toBeGreaterThan(1);
    expect(posts.filter((r) => r.upstream === a.port).length).toBeGreaterThan(1);
    // b forwarded every POST that reached it, and says so; a, the holder, forwarded none.
    expect(b.stats().counters.postsRelayed).toBe(posts.filter((r) => r.upstream === b.port).length);
    expect(a.stats().counters.postsRelayed).toBe(0);
    expect(await (await fetch(`http://127.0.0.1:${b.port}/metrics`)).text()).toMatch(/lifeline_http_posts_relayed_total\{node="b1"\} [1-9]/);

    await publishMany(b, client.info.sessionId ?? '', 5);
    await waitFor(() => events.length === 5, 5000, 'five live events');
    expect(events).toEqual([1, 2, 3, 4, 5]);
    expect(joins).toBe(1);
  });

  it('relays a POSTed token as its digest only; another token is 403, a closed stream or a node that is gone 404', async () => {
    const [a, b] = await Promise.all([fleetNode('a2'), fleetNode('b2')]);
    const { heard, stop: stopSpy } = await spyOnRelay('a2');
    const token = 'the-stream-token-0123';
    const stream = await openStream(httpBase(a.url), { hello: helloFrame({ token }) });
    await stream.next('hello_ok');
    const id = stream.connectionId ?? '';
    const onB = httpBase(b.url);

    expect((await postFrames(onB, id, [{ type: 'ping', ts: 7 }], { authorization: `Bearer ${token}` })).status).toBe(204);
    expect(await stream.next('pong')).toMatchObject({ ts: 7 });
    expect(heard.join('\n')).toContain(tokenDigest(token));
    expect(heard.join('\n')).not.toContain(token);
    await stopSpy();

    const refused = await postFrames(onB, id, [{ type: 'ping' }], { authorization: 'Bearer another-token' });
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ code: 'auth_unauthorized' });

    const ghost = await postFrames(onB, `ghost.${'A'.repeat(22)}`, [{ type: 'ping' }]);
    expect(ghost.status).toBe(404);
    expect(ghost.json).toMatchObject({ type: 'error', code: 'unknown_connection' });

    stream.abort();
    await waitFor(() => a.stats().connections === 0, 5000, 'the stream to close on a');
    expect((await postFrames(onB, id, [{ type: 'ping' }])).status).toBe(404);
  });

  it('a holder that does not answer is 404 after commandTimeoutMs, and past maxPendingForwards a POST is 429 at once', async () => {
    // Something hears forwards to node `mute` and never answers: a node hung after subscribing.
    const { heard } = await spyOnRelay('mute');
    const b = await fleetNode('b3', { commandTimeoutMs: 300, maxPendingForwards: 1 });
    const id = `mute.${'A'.repeat(22)}`;
    const first = postFrames(httpBase(b.url), id, [{ type: 'ping' }]);
    await waitFor(() => heard.length === 1, 2000, 'the first forward to be sent');
    const second = await postFrames(httpBase(b.url), id, [{ type: 'ping' }]);
    expect(second.status).toBe(429);
    expect(second.headers['retry-after']).toBe('1');
    expect(second.json).toMatchObject({ code: 'rate_limited', retry_after_seconds: 1 });
    const late = await first;
    expect(late.status).toBe(404);
    expect(late.json).toMatchObject({ code: 'unknown_connection' });
  });
});

/** A node's fleet, serving its relay with `deliver`. */
async function relayNode(id: string, deliver: (frames: RelayedFrames) => DeliveryOutcome, options: Partial<RedisFleetOptions> = {}) {
  const { log, fleet } = createRedisFleet({ url: server.url, secret: SECRET, ...options });
  await log.open();
  stops.push(() => log.close());
  const stop = await fleet.relay.serve(id, deliver);
  stops.push(stop);
  return fleet;
}

const frames = (lines: string[], connection = 'a.conn'): RelayedFrames => ({ connection, lines, tokenDigest: undefined });

describe('the connection relay on Redis', () => {
  it('hands forwarded frames to the holder in the order they were forwarded, and answers with its verdict', async () => {
    const received: string[] = [];
    const verdicts: DeliveryOutcome[] = [];
    await relayNode('r-a', (relayed) => {
      received.push(...relayed.lines);
      return verdicts.shift() ?? 'delivered';
    });
    const b = await relayNode('r-b', () => 'unknown_connection');
    const sent = Array.from({ length: 20 }, (_, i) => [`{"n":${2 * i}}`, `{"n":${2 * i + 1}}`]);
    const outcomes = await Promise.all(sent.map((lines) => b.relay.forward('r-a', frames(lines))));
    expect(outcomes.every((o) => o === 'delivered')).toBe(true);
    expect(received).toEqual(sent.flat());
    verdicts.push('busy', 'forbidden', 'unknown_connection');
    expect(await b.relay.forward('r-a', frames(['{}']))).toBe('busy');
    expect(await b.relay.forward('r-a', frames(['{}']))).toBe('forbidden');
    expect(await b.relay.forward('r-a', frames(['{}']))).toBe('unknown_connection');
  });

  it('a node nobody serves is unknown at once, without waiting out the deadline', async () => {
    const b = await relayNode('r-b1', () => 'delivered', { commandTimeoutMs: 5000 });
    const started = performance.now();
    expect(await b.relay.forward('gone', frames(['{}'], 'gone.conn'))).toBe('unknown_connection');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('two processes under one node id: the one that holds the connection answers', async () => {
    await relayNode('twin', () => 'unknown_connection');
    await relayNode('twin', () => 'delivered');
    const b = await relayNode('r-b2', () => 'unknown_connection');
    expect(await b.relay.forward('twin', frames(['{}'], 'twin.conn'))).toBe('delivered');
  });
});
