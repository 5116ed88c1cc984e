// A message the gateway can never take must not poison the outbox: the client refuses it before
// sending (`payload_too_large`, measured in UTF-8 bytes of the frame against policy.max_payload), a
// refusal by the gateway fails exactly that send and it is never resent, and everything behind it
// is applied. No reconnect loop.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { GatewayConnectError } from '../../src/client/index.js';
import { startGateway } from '../support/gateway-kit.js';
import { waitFor, waitForState, within } from '../support/wait-for.js';
import { makeClient } from './kit.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    for (const socket of server.clients) socket.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A gateway that announces a large max_payload but refuses any message whose content is "poison", by id. */
async function refusingServer(): Promise<{ url: string; messages: Array<{ connection: number; id: string }>; dropAll(): void }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const messages: Array<{ connection: number; id: string }> = [];
  let connections = 0;
  server.on('connection', (socket) => {
    const connection = ++connections;
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      if (frame['type'] === 'hello') {
        socket.send(
          JSON.stringify({
            type: 'hello_ok', protocol: 2, features: { methods: [], events: [], extensions: ['ack', 'caught_up'] },
            policy: { max_payload: 1_048_576, heartbeat_ms: 0 }, session_id: 's-1', resumed: connection > 1, cursor: 0,
          }),
        );
        socket.send(JSON.stringify({ type: 'caught_up', cursor: 0 }));
      }
      if (frame['type'] !== 'message') return;
      const id = String(frame['id']);
      messages.push({ connection, id });
      if (frame['content'] === 'poison') socket.send(JSON.stringify({ type: 'error', code: 'payload_too_large', message: 'too big', next_step: 'do_not_retry', id }));
      else socket.send(JSON.stringify({ type: 'ack', id }));
    });
  });
  const address = server.address();
  if (typeof address === 'string' || address === null) throw new Error('no port');
  return { url: `ws://127.0.0.1:${address.port}`, messages, dropAll: () => server.clients.forEach((s) => s.terminate()) };
}

/**
 * A gateway behind something with a smaller frame limit than it announces (a proxy or API
 * gateway that caps frames): hello_ok says max_payload 1 MiB, but `ws` closes the socket with 1009
 * on any frame over `limit` bytes. Records every message it reads, per connection.
 */
async function silentLimitServer(limit: number): Promise<{ url: string; received: Array<{ connection: number; bytes: number }>; connections(): number }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: limit });
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const received: Array<{ connection: number; bytes: number }> = [];
  let connections = 0;
  server.on('connection', (socket) => {
    const connection = ++connections;
    socket.on('error', () => undefined); // ws reports the oversized frame here, then closes 1009
    socket.on('message', (data) => {
      const text = String(data);
      const frame = JSON.parse(text) as Record<string, unknown>;
      if (frame['type'] === 'hello') {
        socket.send(JSON.stringify({ type: 'hello_ok', protocol: 2, features: { methods: [], events: [], extensions: ['ack', 'caught_up'] }, policy: { max_payload: 1_048_576, heartbeat_ms: 0 }, session_id: 's-1', resumed: connection > 1, cursor: 0 }));
        socket.send(JSON.stringify({ type: 'caught_up', cursor: 0 }));
      }
      if (frame['type'] !== 'message') return;
      received.push({ connection, bytes: Buffer.byteLength(text) });
      socket.send(JSON.stringify({ type: 'ack', id: frame['id'] }));
    });
  });
  const address = server.address();
  if (typeof address === 'string' || address === null) throw new Error('no port');
  return { url: `ws://127.0.0.1:${address.port}`, received, connections: () => connections };
}

describe('oversized messages', () => {
  it('drops a message the link closed 1009 on (a smaller limit than announced), instead of resending it after every rejoin', async () => {
    const server = await silentLimitServer(2000);
    const client = makeClient(server.url);
    await client.connect();
    const big = client.send('x'.repeat(3000));
    const error = await within(big.then(() => null, (e: unknown) => e), 5000, 'the refusal');
    expect(error).toBeInstanceOf(GatewayConnectError);
    expect(error).toMatchObject({ code: 'payload_too_large', nextStep: 'do_not_retry', closeCode: 1009 });
    await waitForState(client, 'joined', 5000);
    // Messages behind it go through; the big one was never sent again.
    await expect(within(client.send('after'), 2000, 'the ack')).resolves.toMatchObject({ acknowledged: true });
    // The client learned the limit: a message as big is refused at once, with no new connection.
    const connectionsBefore = server.connections();
    await expect(within(client.send('y'.repeat(3000)), 1000, 'the local refusal')).rejects.toMatchObject({ code: 'payload_too_large' });
    await expect(within(client.send('z'.repeat(1500)), 2000, 'a smaller ack')).resolves.toMatchObject({ acknowledged: true });
    expect(server.connections()).toBe(connectionsBefore);
    expect(server.connections()).toBe(2);
    expect(server.received.every((m) => m.bytes < 2000)).toBe(true);
  });

  it('refuses a message over max_payload before sending it, and keeps going', async () => {
    const gw = await startGateway({ maxPayload: 1024 });
    const applied: unknown[] = [];
    gw.onMessage((message) => applied.push(message.content));
    const client = makeClient(gw.url);
    await client.connect();

    const over = client.send('x'.repeat(1500));
    const farOver = client.send('x'.repeat(3000)); // over twice the limit: the gateway would close 1009
    const wide = client.send('é'.repeat(600)); // 600 characters, 1,200 bytes
    const after = client.send('after');
    for (const refused of [over, farOver, wide]) {
      const error = await within(refused.then(() => null, (e: unknown) => e), 1000, 'the refusal');
      expect(error).toBeInstanceOf(GatewayConnectError);
      expect(error).toMatchObject({ code: 'payload_too_large', nextStep: 'do_not_retry' });
      expect((error as Error).message).toContain('1024');
    }
    await expect(within(after, 1000, 'the ack')).resolves.toMatchObject({ acknowledged: true });
    expect(applied).toEqual(['after']);
    expect(gw.stats().counters.badFrames).toBe(0);
    expect(client.info.lastClose).toBeNull();
    expect(client.state).toBe('joined');
  });

  it('refuses, at the first join, a message queued while the limit was unknown, and applies the rest', async () => {
    const gw = await startGateway({ maxPayload: 1024 });
    const applied: unknown[] = [];
    gw.onMessage((message) => applied.push(message.content));
    const client = makeClient(gw.url);
    const before = client.send('before');
    const big = client.send('x'.repeat(3000));
    const after = client.send('after');
    await client.connect();
    await expect(within(big, 1000, 'the refusal')).rejects.toMatchObject({ code: 'payload_too_large' });
    await expect(within(Promise.all([before, after]), 1000, 'both acks')).resolves.toHaveLength(2);
    expect(applied).toEqual(['before', 'after']);
    expect(client.info.lastClose).toBeNull();
  });

  it('fails the send the gateway refuses by id, never resends it, and applies what follows', async () => {
    const server = await refusingServer();
    const client = makeClient(server.url);
    await client.connect();
    const poison = client.send('poison');
    const after = client.send('after');
    await expect(within(poison, 1000, 'the refusal')).rejects.toMatchObject({ code: 'payload_too_large', nextStep: 'do_not_retry' });
    const { id: afterId } = await within(after, 1000, 'the ack');
    expect(server.messages.map((m) => m.id)).toContain(afterId);
    const poisonId = server.messages.find((m) => m.id !== afterId)?.id;

    // A reconnect resends only what is unacknowledged; the refused message is gone for good.
    server.dropAll();
    await waitForState(client, 'reconnecting', 2000);
    const pending = client.send('pending');
    await waitForState(client, 'joined', 2000);
    await within(pending, 2000, 'the pending ack');
    await waitFor(() => server.messages.some((m) => m.connection === 2), 1000, 'a message on the new connection');
    expect(server.messages.filter((m) => m.id === poisonId)).toHaveLength(1);
  });

  it('refuses content that is not JSON-serialisable with invalid_message, without breaking the socket', async () => {
    const gw = await startGateway();
    const client = makeClient(gw.url);
    await client.connect();
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    await expect(client.send(cyclic)).rejects.toMatchObject({ code: 'invalid_message' });
    await expect(client.send(10n)).rejects.toMatchObject({ code: 'invalid_message' });
    await expect(within(client.send('fine'), 1000, 'the ack')).resolves.toMatchObject({ acknowledged: true });
  });
});
