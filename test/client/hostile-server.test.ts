// The client does not trust the server: a version it never offered, timer hints beyond any sane
// ceiling, and seqs outside the protocol's range are refused or clamped, each against a scripted
// raw `ws` peer.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_SEQ, MAX_SERVER_FRAME_BYTES, MAX_SERVER_FRAME_DEPTH } from '../../src/protocol/index.js';
import type { ClientClock, GapInfo, GatewayConnectError } from '../../src/client/index.js';
import { systemClock } from '../../src/client/options.js';
import { MAX_SERVER_HINT_MS } from '../../src/client/frame-router.js';
import { waitFor, waitForState, within } from '../support/wait-for.js';
import { makeClient } from './kit.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    for (const socket of server.clients) socket.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});

type Reply = (socket: WebSocket, handshake: Record<string, unknown>, connection: number) => void;

/** A scripted gateway: `reply` answers each `hello` (and legacy `join`); it counts connections. */
async function scripted(reply: Reply): Promise<{ url: string; connections(): number }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  let connections = 0;
  server.on('connection', (socket) => {
    const connection = ++connections;
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      if (frame['type'] === 'hello' || frame['type'] === 'join') reply(socket, frame, connection);
    });
  });
  const address = server.address();
  if (typeof address === 'string' || address === null) throw new Error('no port');
  return { url: `ws://127.0.0.1:${address.port}`, connections: () => connections };
}

function helloOk(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'hello_ok', protocol: 2, features: { methods: [], events: [], extensions: ['caught_up', 'epoch'] },
    policy: { max_payload: 1_048_576, heartbeat_ms: 0 }, session_id: 's-1', resumed: false, cursor: 0, epoch: 'e-1', ...fields,
  });
}

/** JSON text of objects nested `depth` deep: `{"a":{"a":{}}}` is 3. */
function nested(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;
}

/** An `event` frame (or, with `replay`, a replay frame) whose data nests `depth` deep. */
function deepEvent(seq: number, depth: number, type: 'event' | 'replay' = 'event'): string {
  return `{"type":"${type}","seq":${seq},"epoch":"e-1","event":{"type":"deep","data":${nested(depth)}}}`;
}

function plainEvent(seq: number, type: 'event' | 'replay' = 'event'): string {
  return JSON.stringify({ type, seq, epoch: 'e-1', event: { type: 'plain', data: { seq } } });
}

/** The system clock, recording every delay the client asks for. */
function recordingClock(): { clock: ClientClock; delays: number[] } {
  const delays: number[] = [];
  return { delays, clock: { ...systemClock, setTimeout: (fn, ms) => (delays.push(ms), systemClock.setTimeout(fn, ms)) } };
}

describe('a server the client does not trust', () => {
  it.each([99, 0])('refuses a hello_ok with protocol %i, outside the offered 1..2, as bad_server_frame', async (protocol) => {
    const server = await scripted((socket) => socket.send(helloOk({ protocol })));
    // A 5 s retry (random 0 draws the full ceiling), so the test sees exactly one failed attempt.
    const client = makeClient(server.url, { reconnect: { initialDelayMs: 5000, maxDelayMs: 5000 }, random: () => 0 });
    const errors: GatewayConnectError[] = [];
    client.onError((error) => errors.push(error));
    void client.connect().catch(() => undefined);
    await waitFor(() => errors.length > 0, 2000, 'an error');
    expect(errors[0]).toMatchObject({ code: 'bad_server_frame', nextStep: 'wait_then_retry' });
    expect(errors[0]?.message).toContain(`protocol ${protocol}`);
    // A failed attempt: never joined, retried with backoff.
    await waitForState(client, 'reconnecting', 1000);
    expect(client.info.protocol).toBeNull();
    expect(client.info.attempt).toBe(1);
  });

  it.each([
    ['a hello_ok without policy', helloOk({ policy: undefined })],
    ['a hello_ok with a negative cursor', helloOk({ cursor: -1 })],
    ['a hello_error without a message', JSON.stringify({ type: 'hello_error', code: 'rate_limited' })],
  ])('fails the attempt at once on %s, instead of waiting out the handshake timeout', async (_name, answer) => {
    const server = await scripted((socket) => socket.send(answer));
    const client = makeClient(server.url, { handshakeTimeoutMs: 20_000, reconnect: { initialDelayMs: 5000, maxDelayMs: 5000 }, random: () => 0 });
    const errors: GatewayConnectError[] = [];
    client.onError((error) => errors.push(error));
    void client.connect().catch(() => undefined);
    await waitForState(client, 'reconnecting', 2000);
    expect(errors[0]).toMatchObject({ code: 'bad_server_frame', nextStep: 'wait_then_retry' });
    expect(client.info.protocol).toBeNull();
    expect(client.info.attempt).toBe(1);
  });

  it('clamps a huge retry_after_seconds to the ceiling instead of overflowing the timer into a hot loop', async () => {
    const server = await scripted((socket) =>
      socket.send(JSON.stringify({ type: 'hello_error', code: 'rate_limited', message: 'slow down', next_step: 'wait_then_retry', retry_after_seconds: 3e9 })),
    );
    const { clock, delays } = recordingClock();
    const client = makeClient(server.url, { clock });
    void client.connect().catch(() => undefined);
    await waitFor(() => client.info.retryInMs !== null, 2000, 'a planned retry');
    expect(client.info.retryInMs).toBe(MAX_SERVER_HINT_MS);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_SERVER_HINT_MS);
    expect(server.connections()).toBe(1);
  });

  it('clamps a huge retry_after_seconds on the legacy join path too (hello answered with error, then a pre-join error)', async () => {
    // PraisonAI's shape: `hello` is unknown to it (an `error`), and it refuses the `join` with another `error`.
    const server = await scripted((socket, handshake) =>
      socket.send(
        handshake['type'] === 'hello'
          ? JSON.stringify({ type: 'error', message: 'Unknown message type: hello' })
          : JSON.stringify({ type: 'error', code: 'rate_limited', message: 'slow down', next_step: 'wait_then_retry', retry_after_seconds: 3e9 }),
      ),
    );
    const { clock, delays } = recordingClock();
    const client = makeClient(server.url, { clock });
    const errors: GatewayConnectError[] = [];
    client.onError((error) => errors.push(error));
    void client.connect().catch(() => undefined);
    await waitFor(() => client.info.retryInMs !== null, 2000, 'a planned retry');
    expect(client.info.retryInMs).toBe(MAX_SERVER_HINT_MS);
    expect(errors.find((e) => e.code === 'rate_limited')?.retryAfterMs).toBe(MAX_SERVER_HINT_MS);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_SERVER_HINT_MS);
    expect(server.connections()).toBe(1);
  });

  it('clamps draining.reconnect_after_ms and policy.heartbeat_ms', async () => {
    const server = await scripted((socket, _hello, connection) => {
      socket.send(helloOk({ policy: { max_payload: 1_048_576, heartbeat_ms: 1e12 } }));
      socket.send(JSON.stringify({ type: 'caught_up', cursor: 0 }));
      if (connection === 1) socket.send(JSON.stringify({ type: 'draining', reconnect_after_ms: 1e12 }));
    });
    const { clock, delays } = recordingClock();
    const client = makeClient(server.url, { clock });
    await client.connect();
    await waitFor(() => client.info.retryInMs !== null, 2000, 'the drain retry');
    expect(client.info.retryInMs).toBe(MAX_SERVER_HINT_MS);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_SERVER_HINT_MS);
    expect(server.connections()).toBe(1);
  });

  // Issue #18: 1001, 4002 and 4040 mean "reconnect at once", but only the first since a stable join.
  it.each([1001, 4002, 4040])('escalates to the normal backoff against a gateway that accepts and closes %i at once', async (code) => {
    const server = await scripted((socket) => {
      socket.send(helloOk());
      socket.send(JSON.stringify({ type: 'caught_up', cursor: 0 }));
      socket.close(code, 'at once');
    });
    // random 0 draws each full ceiling: a prompt 30 ms, then 30, 60, 120, 240, 480 ms.
    const client = makeClient(server.url, { reconnect: { initialDelayMs: 30, maxDelayMs: 10_000, minUptimeMs: 5000 }, random: () => 0 });
    const started = performance.now();
    void client.connect().catch(() => undefined);
    await waitFor(() => server.connections() >= 7, 5000, 'seven connections');
    // Without escalation the seven come within a few hundred ms (27-45 connects in 5 s were seen).
    expect(performance.now() - started).toBeGreaterThan(900);
    expect(client.info.attempt).toBeGreaterThanOrEqual(5);
    expect(client.info.lastClose?.code).toBe(code);
  });

  it('reports a frame nested deeper than MAX_SERVER_FRAME_DEPTH once, skips it with a gap, and stays on the connection', async () => {
    const server = await scripted((socket) => {
      socket.send(helloOk());
      socket.send(JSON.stringify({ type: 'caught_up', cursor: 0 }));
      socket.send(plainEvent(1));
      socket.send(deepEvent(2, 3000));
      socket.send(`${'['.repeat(3000)}${']'.repeat(3000)}`);
      socket.send(plainEvent(3));
    });
    const client = makeClient(server.url);
    const errors: GatewayConnectError[] = [];
    const gaps: GapInfo[] = [];
    const seqs: number[] = [];
    client.onError((error) => errors.push(error));
    client.onGap((gap) => gaps.push(gap));
    client.onEvent((event) => seqs.push(event.seq ?? -1));
    await client.connect();
    await waitFor(() => seqs.length === 2, 2000, 'events 1 and 3');
    expect(seqs).toEqual([1, 3]);
    expect(gaps).toEqual([{ expected: 2, received: 3, reason: 'live' }]);
    expect(errors.map((e) => e.code)).toEqual(['bad_server_frame', 'bad_server_frame']);
    expect(errors[0]?.message).toContain(`deeper than ${MAX_SERVER_FRAME_DEPTH}`);
    expect(client.state).toBe('joined');
    expect(server.connections()).toBe(1);
  });

  it('delivers a legal event nested 1,500 deep and its nine neighbours in one v2 batch, on one connection', async () => {
    const members = Array.from({ length: 10 }, (_, i) => (i === 4 ? deepEvent(5, 1500, 'replay') : plainEvent(i + 1, 'replay')));
    const server = await scripted((socket) => {
      socket.send(helloOk());
      socket.send(`{"type":"batch","frames":[${members.join(',')}]}`);
      socket.send(JSON.stringify({ type: 'caught_up', cursor: 10, epoch: 'e-1' }));
    });
    const client = makeClient(server.url);
    const errors: GatewayConnectError[] = [];
    const seqs: number[] = [];
    let deepest = 0;
    client.onError((error) => errors.push(error));
    client.onEvent((event) => {
      seqs.push(event.seq ?? -1);
      if (event.type !== 'deep') return;
      for (let node = event.data as { a?: unknown }; node !== undefined; node = node.a as { a?: unknown }) deepest++;
    });
    await client.connect();
    await waitFor(() => seqs.length === 10, 2000, 'ten events');
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(deepest).toBe(1500);
    expect(errors).toEqual([]);
    expect(server.connections()).toBe(1);
  });

  it('refuses a frame over MAX_SERVER_FRAME_BYTES at its header, without blaming the message in flight', async () => {
    const giant = `{"type":"event","seq":1,"event":{"type":"big","data":"${'x'.repeat(MAX_SERVER_FRAME_BYTES)}"}}`;
    const server = await scripted((socket, _handshake, connection) => {
      socket.send(helloOk({ features: { methods: [], events: [], extensions: ['caught_up', 'epoch', 'ack'] } }));
      socket.send(JSON.stringify({ type: 'caught_up', cursor: 0 }));
      socket.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { type: string; id?: string };
        if (frame.type !== 'message') return;
        if (connection === 1) socket.send(giant);
        else socket.send(JSON.stringify({ type: 'ack', id: frame.id }));
      });
    });
    const client = makeClient(server.url, { reconnect: { initialDelayMs: 100, maxDelayMs: 100 } });
    const errors: GatewayConnectError[] = [];
    client.onError((error) => errors.push(error));
    await client.connect();
    // The gateway answers the message with a frame over the limit; the resend after the rejoin is acked.
    const sent = await within(client.send('hello'), 5000, 'the ack after the rejoin');
    expect(sent.acknowledged).toBe(true);
    expect(server.connections()).toBe(2);
    const refused = errors.filter((e) => e.code === 'bad_server_frame');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ closeCode: 4000, nextStep: 'wait_then_retry' });
    expect(refused[0]?.message).toContain(`over ${MAX_SERVER_FRAME_BYTES} bytes`);
    expect(errors.map((e) => e.code)).not.toContain('payload_too_large');
    expect(client.info.lastClose).toEqual({ code: 4000, reason: 'frame_too_large' });
    expect(client.info.attempt).toBe(1);
  });

  it('refuses seqs beyond 2^53 - 2 and keeps its cursor, so it can still rejoin an honest gateway', async () => {
    const server = await scripted((socket) => {
      socket.send(helloOk());
      socket.send(JSON.stringify({ type: 'caught_up', cursor: 0 }));
      socket.send(JSON.stringify({ type: 'event', seq: MAX_SEQ, event: { type: 'edge' } }));
      socket.send(JSON.stringify({ type: 'event', seq: MAX_SEQ + 1, event: { type: 'beyond' } }));
      socket.send(JSON.stringify({ type: 'batch', frames: [{ type: 'event', seq: Number.MAX_SAFE_INTEGER + 2, event: { type: 'beyond' } }] }));
    });
    const client = makeClient(server.url);
    const errors: string[] = [];
    const types: string[] = [];
    client.onError((error) => errors.push(error.code));
    client.onEvent((event) => types.push(event.type));
    await client.connect();
    await waitFor(() => errors.length === 2, 2000, 'two refusals');
    expect(errors).toEqual(['bad_server_frame', 'bad_server_frame']);
    expect(types).toEqual(['edge']);
    expect(client.info.cursor).toBe(MAX_SEQ);
  });
});
