// The client over HTTP (SSE down, POST up) against a real gateway's HTTP binding, through a
// reverse proxy that refuses every WebSocket upgrade (test/support/blocking-proxy.ts) and the TCP
// fault proxy in front of that. Given a client, when it joins over HTTP, loses its
// connection or meets the binding's refusals, then it keeps the WebSocket path's promises: live
// events, acks, resume with no gap and no duplicate. And the default client falls back to HTTP.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayConnectError } from '../../src/client/index.js';
import { CLOSE_CODE_FOR_ERROR } from '../../src/protocol/index.js';
import { httpTransport, type HttpTransportOptions } from '../../src/client/http-transport.js';
import { systemClock } from '../../src/client/options.js';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { publishMany, startGateway } from '../support/gateway-kit.js';
import { startBlockingProxy, type BlockingProxy } from '../support/blocking-proxy.js';
import { recordEvents, waitFor, waitForCount, waitForState } from '../support/wait-for.js';
import { makeClient } from './kit.js';

const blockers: BlockingProxy[] = [];
const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await Promise.all(blockers.splice(0).map((b) => b.close()));
});

/** A gateway behind a proxy that blocks WebSockets (`bridge`), and a fault proxy in front of that (`url`). */
async function httpGateway(options: Parameters<typeof startGateway>[0] = {}) {
  const gw = await startGateway(options);
  const bridge = await startBlockingProxy(gw.port);
  blockers.push(bridge);
  const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: bridge.port } });
  proxies.push(proxy);
  return { gw, bridge, proxy, url: proxy.url };
}

describe('the HTTP transport', () => {
  it('joins, receives live events and sends with acks; the token travels as a Bearer header, never in the URL', async () => {
    const { gw, bridge, url } = await httpGateway({ verifyToken: (token) => token === 'sesame', heartbeatMs: 250 });
    const client = makeClient(url, { transports: ['http'], token: 'sesame' });
    const { events } = recordEvents(client);
    let received: unknown;
    gw.onMessage((message) => {
      received = message.content;
    });
    await client.connect();
    expect(client.info).toMatchObject({ transport: 'http', protocol: 2 });
    const sessionId = client.info.sessionId ?? '';
    await publishMany(gw, sessionId, 3);
    await waitForCount(events, 3);
    expect(await client.send({ text: 'hi' })).toMatchObject({ acknowledged: true, duplicate: false });
    expect(received).toEqual({ text: 'hi' });
    expect((await client.resync()).cursor).toBe(3);
    // The client answers a ping at once: had it POSTed the pong, the POST would be in by the next one.
    await waitFor(() => bridge.pings >= 2, 2000, 'two pings down the stream');

    expect(events.map((e) => [e.seq, e.replayed])).toEqual([[1, false], [2, false], [3, false]]);
    expect(bridge.refusedUpgrades).toBe(0);
    expect(bridge.streams).toHaveLength(1);
    expect(bridge.streams[0]?.authorization).toBe('Bearer sesame');
    expect(bridge.streams[0]?.hello).not.toHaveProperty('token');
    expect(bridge.posts.flat()).toEqual(expect.arrayContaining(['message', 'resync']));
    // The gateway pings down the stream; no pong goes up.
    expect(bridge.posts.flat()).not.toContain('pong');
  });

  it('resumes after a drop with exactly the missed events, and a message sent while down is applied once', async () => {
    const { gw, proxy, url } = await httpGateway();
    const applied: unknown[] = [];
    gw.onMessage((message) => {
      applied.push(message.content);
    });
    const client = makeClient(url, { transports: ['http'] });
    const { events } = recordEvents(client);
    const gaps: unknown[] = [];
    client.onGap((g) => gaps.push(g));
    await client.connect();
    const sessionId = client.info.sessionId ?? '';
    await publishMany(gw, sessionId, 3);
    await waitForCount(events, 3);

    proxy.refuse(true);
    proxy.drop();
    await waitForState(client, 'reconnecting');
    await publishMany(gw, sessionId, 4);
    const sent = client.send({ n: 1 });
    proxy.refuse(false);
    await waitForState(client, 'joined', 3000);
    await waitForCount(events, 7);
    await gw.publish(sessionId, { type: 'tick', data: { live: true } });
    await waitForCount(events, 8);

    expect(await sent).toMatchObject({ acknowledged: true });
    expect(applied).toEqual([{ n: 1 }]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events.map((e) => e.replayed)).toEqual([false, false, false, true, true, true, true, false]);
    expect(gaps).toEqual([]);
    expect(client.info).toMatchObject({ sessionId, cursor: 8, transport: 'http', resume: { mode: 'full', from: 4, to: 7 } });
  });

  it('takes a POST answered 404 unknown_connection as a dead stream: it rejoins, and the outbox resends', async () => {
    const { gw, bridge, url } = await httpGateway();
    const applied: unknown[] = [];
    gw.onMessage((message) => {
      applied.push(message.content);
    });
    const client = makeClient(url, { transports: ['http'] });
    await client.connect();
    bridge.misroutePosts(1);
    const sent = client.send({ n: 1 });
    await waitForState(client, 'reconnecting');
    expect(client.info.lastError).toMatchObject({ code: 'connection_lost', message: expect.stringContaining('unknown_connection') });
    expect(await sent).toMatchObject({ acknowledged: true, duplicate: false });
    expect(applied).toEqual([{ n: 1 }]);
    expect(bridge.streams).toHaveLength(2);
  });

  it('POSTs the same frames again after a 429, on the same connection', async () => {
    const { bridge, url } = await httpGateway();
    const client = makeClient(url, { transports: ['http'] });
    await client.connect();
    bridge.rateLimitPosts(1);
    expect(await client.send({ n: 1 })).toMatchObject({ acknowledged: true });
    expect(bridge.streams).toHaveLength(1);
    expect(bridge.posts.flat()).toEqual(['message']);
  });

  it('reads a refusal on the stream (hello_error, then the close event) as over a WebSocket', async () => {
    const { url } = await httpGateway({ agents: ['someone-else'] });
    const client = makeClient(url, { transports: ['http'] });
    const error = await client.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayConnectError);
    expect(error).toMatchObject({ code: 'agent_not_found' });
    expect(client.state).toBe('disconnected');
  });
});

describe('fallback to HTTP', () => {
  it('a default client whose WebSocket upgrade is refused (502 from the proxy) twice moves to HTTP and joins', async () => {
    const { gw, bridge, url } = await httpGateway();
    const client = makeClient(url);
    const errors: GatewayConnectError[] = [];
    client.onError((e) => errors.push(e));
    const { events } = recordEvents(client);
    expect(client.info.transport).toBe('websocket');
    await client.connect();
    expect(client.info.transport).toBe('http');
    expect(bridge.refusedUpgrades).toBe(2);
    expect(errors.map((e) => [e.code, e.message.includes('HTTP 502')])).toEqual([
      ['connect_failed', true],
      ['connect_failed', true],
    ]);
    await gw.publish(client.info.sessionId ?? '', { type: 'tick', data: {} });
    await waitFor(() => events.length === 1, 2000, 'the live event');
  });

  it('with transports: [\'websocket\'] it keeps to the WebSocket', async () => {
    const { bridge, url } = await httpGateway();
    const client = makeClient(url, { transports: ['websocket'], reconnect: { initialDelayMs: 5, maxDelayMs: 10 } });
    const failed = client.connect({ maxFailures: 4 }).catch((e: unknown) => e);
    expect(await failed).toMatchObject({ code: 'connect_timeout' });
    expect(client.info.transport).toBe('websocket');
    expect(bridge.streams).toHaveLength(0);
  });
});

/** A node:http server whose every answer the test writes, on 127.0.0.1 at a free port. */
async function scriptedServer(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const sockets = new Set<Socket>();
  const server = createServer(handle);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  servers.push(close);
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/lifeline`;
}
const servers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((close) => close()));
});

/** One connection of the bare transport: what it reported, in order. */
function connectOnce(url: string, options: Partial<HttpTransportOptions> = {}) {
  const log: string[] = [];
  let closed: { code: number; reason: string; error: unknown } | null = null;
  let error: unknown;
  const transport = httpTransport({ clock: systemClock, deadlineMs: 1000, maxQueuedFrames: 10, fetch: globalThis.fetch.bind(globalThis), ...options });
  const connection = transport.connect(
    { url, handshake: '{"type":"hello","agent_id":"demo"}', bearer: undefined },
    {
      opened: () => log.push('opened'),
      message: (data) => log.push(`message ${String(data)}`),
      error: (cause) => (error = cause),
      frameTooLarge: () => log.push('frameTooLarge'),
      closed: (code, reason) => (closed = { code, reason, error }),
    },
  );
  return { connection, log, closed: () => waitFor(() => closed, 2000, 'closed') };
}

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'lifeline-connection': 'n1.abc' };

describe('the HTTP transport at its seam', () => {
  it('reports each frame, and the close event as the close; a stream that just ends is 1006', async () => {
    const url = await scriptedServer((req, res) => {
      const hello = new URL(req.url ?? '', 'http://x').searchParams.get('hello');
      res.writeHead(200, SSE_HEADERS);
      res.write(`retry: 1000\n\ndata: {"echo":${hello}}\n\n: keep-alive\n\n`);
      res.end('event: close\ndata: {"code":4011,"reason":"session_expired"}\n\n');
    });
    const one = connectOnce(url);
    expect(await one.closed()).toEqual({ code: 4011, reason: 'session_expired', error: undefined });
    expect(one.log).toEqual(['opened', 'message {"echo":{"type":"hello","agent_id":"demo"}}']);

    const ended = await scriptedServer((_req, res) => {
      res.writeHead(200, SSE_HEADERS);
      res.end('data: {"type":"ping"}\n\n');
    });
    expect(await connectOnce(ended).closed()).toMatchObject({ code: 1006, reason: '' });
  });

  it('reads a refusal before the stream (403 + hello_error) as the refusal; any other answer never opened, and says why', async () => {
    const refusal = '{"type":"hello_error","code":"origin_not_allowed","message":"no","next_step":"do_not_retry"}';
    const url = await scriptedServer((req, res) => {
      if (req.url?.includes('lifeline')) res.writeHead(403, { 'content-type': 'application/json' }).end(refusal);
    });
    const one = connectOnce(url);
    expect(await one.closed()).toMatchObject({ code: CLOSE_CODE_FOR_ERROR.origin_not_allowed });
    expect(one.log).toEqual(['opened', `message ${refusal}`]);

    const proxy = await scriptedServer((_req, res) => res.writeHead(502).end('<html>Bad Gateway</html>'));
    const two = connectOnce(proxy);
    const { code, error } = await two.closed();
    expect(two.log).toEqual([]);
    expect(code).toBe(1006);
    expect((error as Error).message).toMatch(/^The event stream request answered HTTP 502/);
  });

  it('ends the connection when its POST is not answered within the deadline, and when frames pile up behind it', async () => {
    const url = await scriptedServer((req, res) => {
      if (req.method === 'POST') return; // never answered
      res.writeHead(200, SSE_HEADERS);
      res.write(': open\n\n');
    });
    const slow = connectOnce(url, { deadlineMs: 200 });
    await waitFor(() => slow.log.includes('opened'), 2000, 'opened');
    expect(slow.connection.send('{"type":"resync"}')).toBe(true);
    const late = await slow.closed();
    expect(late).toMatchObject({ code: 1006 });
    expect(late.error).toMatchObject({ code: 'connection_lost', message: expect.stringContaining('not answered within 200 ms') });

    const piled = connectOnce(url, { maxQueuedFrames: 3 });
    await waitFor(() => piled.log.includes('opened'), 2000, 'opened');
    // The first goes out at once; three may wait behind it; the fifth is one too many.
    expect([1, 2, 3, 4].map(() => piled.connection.send('{"type":"resync"}'))).toEqual([true, true, true, true]);
    expect(piled.connection.send('{"type":"resync"}')).toBe(false);
    const full = await piled.closed();
    expect(full).toMatchObject({ code: 1006, reason: 'post queue full', error: { code: 'connection_lost' } });
  });

  it("takes the gateway's refusal of one POST line as that frame's answer, and sends the others again; a refusal naming no frame ends the connection", async () => {
    const bodies: string[] = [];
    const tooLarge = '{"type":"error","code":"payload_too_large","message":"Line 1 of the body: too large. Nothing in this POST was handled.","id":"m1"}';
    const url = await scriptedServer((req, res) => {
      if (req.method !== 'POST') {
        res.writeHead(200, SSE_HEADERS);
        return void res.write(': open\n\n');
      }
      let body = '';
      req.on('data', (chunk: Buffer) => (body += String(chunk)));
      req.on('end', () => {
        bodies.push(body);
        if (body.includes('"m1"')) return void res.writeHead(413, { 'content-type': 'application/json' }).end(tooLarge);
        if (body.includes('"bad"')) return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"type":"error","code":"bad_frame","message":"Line 1."}');
        res.writeHead(204).end();
      });
    });
    const one = connectOnce(url);
    await waitFor(() => one.log.includes('opened'), 2000, 'opened');
    // Both wait behind the first POST, so they go in one body.
    one.connection.send('{"type":"resync"}');
    one.connection.send('{"type":"message","id":"m1","content":1}');
    one.connection.send('{"type":"message","id":"m2","content":2}');
    await waitFor(() => bodies.length === 3, 2000, 'three POSTs');
    expect(bodies).toEqual(['{"type":"resync"}', '{"type":"message","id":"m1","content":1}\n{"type":"message","id":"m2","content":2}', '{"type":"message","id":"m2","content":2}']);
    expect(one.log.at(-1)).toBe(`message ${tooLarge}`);

    one.connection.send('{"type":"message","id":"bad","content":3}');
    expect(await one.closed()).toMatchObject({ code: 1006, error: { code: 'connection_lost', message: expect.stringContaining('HTTP 400 (bad_frame)') } });
  });

  it('refuses a frame over its bound unread, as ws does', async () => {
    const url = await scriptedServer((_req, res) => {
      res.writeHead(200, SSE_HEADERS);
      // One line that never ends and keeps growing.
      const chunk = `data: ${'x'.repeat(1 << 20)}`;
      const more = (): void => {
        if (!res.destroyed && res.write(chunk.slice(0, 1 << 20))) setImmediate(more);
        else if (!res.destroyed) res.once('drain', more);
      };
      more();
    });
    const one = connectOnce(url);
    await waitFor(() => one.log.includes('frameTooLarge'), 10_000, 'frameTooLarge');
    one.connection.terminate();
    expect(await one.closed()).toMatchObject({ code: 1006 });
  });
});
