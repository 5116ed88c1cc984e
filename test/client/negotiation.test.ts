// Negotiation against real gateways with different version ranges, terminal refusals without
// retries, and the fallback to the legacy `join` handshake against a join-only gateway.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { GatewayConnectError, type ClientState } from '../../src/client/index.js';
import { startGateway } from '../support/gateway-kit.js';
import { recordEvents, waitFor, waitForCount, waitForState } from '../support/wait-for.js';
import { makeClient } from './kit.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    for (const socket of server.clients) socket.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A tiny gateway that predates `hello`: it answers it with `error` and speaks only `join`. */
async function legacyGateway(): Promise<{ url: string; frames: Array<Record<string, unknown>>; sockets: WsSocket[] }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const frames: Array<Record<string, unknown>> = [];
  const sockets: WsSocket[] = [];
  server.on('connection', (socket) => {
    sockets.push(socket);
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      frames.push(frame);
      if (frame['type'] === 'hello') socket.send(JSON.stringify({ type: 'error', message: 'Unknown message type: hello' }));
      if (frame['type'] === 'join') {
        const since = typeof frame['since'] === 'number' ? frame['since'] : 0;
        socket.send(JSON.stringify({ type: 'joined', session_id: 'legacy-1', resumed: since > 0, cursor: 3, sequence: since, protocol_version: 1 }));
        for (let seq = since + 1; seq <= 3; seq++) {
          socket.send(JSON.stringify({ type: 'replay', seq, event: { type: 'note', data: { seq } } }));
        }
      }
    });
  });
  const address = server.address();
  if (typeof address === 'string' || address === null) throw new Error('no port');
  return { url: `ws://127.0.0.1:${address.port}`, frames, sockets };
}

describe('negotiation', () => {
  it.each([
    [{ min: 1, max: 2 }, { min: 1, max: 2 }, 2],
    [{ min: 1, max: 2 }, { min: 1, max: 1 }, 1],
    [{ min: 1, max: 1 }, { min: 1, max: 2 }, 1],
    [{ min: 2, max: 5 }, { min: 1, max: 3 }, 3],
  ])('client %j with gateway %j agrees on v%i', async (client, gateway, expected) => {
    const gw = await startGateway({ protocol: gateway });
    const c = makeClient(gw.url, { protocol: client });
    await c.connect();
    expect(c.state).toBe('joined');
    expect(c.info.protocol).toBe(expected);
    expect(c.info.features?.extensions).toContain('ack');
    expect(c.info.presence.length).toBeGreaterThan(0);
    expect(c.info.health?.status).toBe('ok');
  });

  it.each([
    [{ min: 3, max: 4 }, 'downgrade_client'],
    [{ min: 1, max: 1 }, 'upgrade_client'],
  ])('refuses %j with %s and never retries', async (range, nextStep) => {
    const gw = await startGateway({ protocol: range.min === 1 ? { min: 2, max: 3 } : { min: 1, max: 2 } });
    const c = makeClient(gw.url, { protocol: range });
    const states: ClientState[] = [];
    c.onState((s) => states.push(s));
    const error = await c.connect().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GatewayConnectError);
    expect(error).toMatchObject({ code: 'protocol_unsupported', nextStep, closeCode: 4006 });
    expect(c.state).toBe('disconnected');
    expect(states).toEqual(['connecting', 'negotiating', 'disconnected']);
    expect(c.info.attempt).toBe(0);
    expect(gw.stats().counters.refused['protocol_unsupported']).toBe(1);
  });

  it('stops on an auth refusal (no retry loop) and reports it through onError', async () => {
    const gw = await startGateway({ verifyToken: (token) => token === 'good' });
    const c = makeClient(gw.url, { token: 'bad' });
    const errors: string[] = [];
    c.onError((e) => errors.push(e.code));
    await expect(c.connect()).rejects.toMatchObject({ code: 'auth_unauthorized', nextStep: 'reauthenticate' });
    expect(errors).toEqual(['auth_unauthorized']);
    const ok = makeClient(gw.url, { token: 'good' });
    await ok.connect();
    expect(ok.state).toBe('joined');
  });

  it('rejects unusable options with a typed invalid_options error', () => {
    expect(() => makeClient('not a url')).toThrowError(expect.objectContaining({ code: 'invalid_options' }) as Error);
    expect(() => makeClient('ws://127.0.0.1:1', { protocol: { min: 3, max: 1 } })).toThrowError(/protocol/);
    expect(() => makeClient('ws://127.0.0.1:1', { reconnect: { jitter: 2 } })).toThrowError(/jitter/);
    expect(() => makeClient('ws://127.0.0.1:1', { outbox: { maxMessages: 0 } })).toThrowError(/maxMessages/);
    // PraisonAI's marker: a gateway in auto dialect would answer in PraisonAI's frames.
    expect(() => makeClient('ws://127.0.0.1:1', { capabilities: ['ack', 'streaming'] })).toThrowError(expect.objectContaining({ code: 'invalid_options', message: expect.stringContaining('"streaming"') as string }) as Error);
  });

  it('falls back to join against a gateway that answers hello with error, and keeps join for resumes', async () => {
    const legacy = await legacyGateway();
    const c = makeClient(legacy.url);
    const { events } = recordEvents(c);
    await c.connect();
    expect(c.info.protocol).toBe(0);
    expect(c.info.sessionId).toBe('legacy-1');
    await waitForCount(events, 3);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(legacy.frames.map((f) => f['type'])).toEqual(['hello', 'join']);
    // No `ack` extension: send() resolves once the frame is written.
    await expect(c.send('hi')).resolves.toMatchObject({ acknowledged: false, duplicate: false });
    await waitFor(() => legacy.frames.length === 3, 1000, 'the message at the gateway');

    // Drop it: the next socket starts with join straight away and resumes from the cursor.
    for (const socket of legacy.sockets) socket.terminate();
    await waitForState(c, 'reconnecting');
    await waitForState(c, 'joined');
    expect(legacy.frames.map((f) => f['type'])).toEqual(['hello', 'join', 'message', 'join']);
    expect(legacy.frames[3]).toMatchObject({ type: 'join', agent_id: 'demo', session_id: 'legacy-1', since: 3 });
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
  });
});
