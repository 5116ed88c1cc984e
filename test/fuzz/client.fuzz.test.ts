// Generated garbage from a bad server against the real client. Each bad frame is reported once
// through onError as a typed `bad_server_frame`; good events around it are still delivered in
// order; nothing throws. Garbage instead of hello_ok times the handshake out and the client
// reconnects; when the server then behaves, it joins and resumes from the right cursor.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createGatewayClient, GatewayConnectError, type GatewayClient } from '../../src/client/index.js';
import { startBadServer, type BadServer } from './bad-server.js';
import { badServerFrame } from './hostile-frames.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20_260_501);
const servers: BadServer[] = [];
const clients: GatewayClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function makeClient(url: string): GatewayClient {
  const client = createGatewayClient({ url, agentId: 'demo', reconnect: { initialDelayMs: 10, maxDelayMs: 50, minUptimeMs: 100 }, handshakeTimeoutMs: 300 });
  clients.push(client);
  return client;
}

/** Poll until `check` holds; bounded. */
async function eventually(check: () => boolean, label: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const event = (seq: number): object => ({ type: 'event', seq, event: { type: 'tick', data: { seq } } });

describe('fuzzed frames against the client', () => {
  it('reports each garbage frame as a typed protocol error and keeps the good stream intact', async () => {
    const garbage = fc.sample(badServerFrame, { seed: SEED, numRuns: 300 });
    const server = await startBadServer((c) => {
      c.sendOk();
      c.send({ type: 'caught_up', cursor: 0, epoch: 'e-bad' });
      garbage.forEach((frame, i) => {
        c.send(event(i + 1));
        c.send(frame.text);
      });
      c.ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true });
      c.send(event(garbage.length + 1));
    });
    servers.push(server);
    const client = makeClient(server.url);
    const errors: GatewayConnectError[] = [];
    const seqs: Array<number | null> = [];
    client.onError((e) => errors.push(e));
    client.onEvent((e) => seqs.push(e.seq));
    await client.connect();
    await eventually(() => seqs.length === garbage.length + 1, `${garbage.length + 1} events`);
    expect(seqs).toEqual(Array.from({ length: garbage.length + 1 }, (_, i) => i + 1));
    expect(errors).toHaveLength(garbage.length + 1);
    for (const error of errors) {
      expect(error).toBeInstanceOf(GatewayConnectError);
      expect(error.code).toBe('bad_server_frame');
      expect(error.message.length).toBeGreaterThan(0);
    }
    expect(client.state).toBe('joined');
  });

  it('garbage instead of hello_ok: typed error, handshake timeout, reconnect, then join and resume', async () => {
    const garbage = fc.sample(badServerFrame, { seed: SEED + 1, numRuns: 5 });
    const hellos: Array<Record<string, unknown>> = [];
    const server = await startBadServer((c) => {
      hellos.push(c.hello);
      if (c.index === 0) {
        c.sendOk();
        c.send({ type: 'caught_up', cursor: 0 });
        c.send(event(1));
        c.send(event(2));
        // Then the "gateway" crashes and comes back broken for a while.
        setTimeout(() => c.ws.terminate(), 20);
        return;
      }
      if (c.index <= garbage.length) {
        c.send(garbage[c.index - 1]?.text ?? 'garbage');
        return; // never answers hello: the client must time out and retry
      }
      c.sendOk({ cursor: 2, oldest_cursor: 1 });
      c.send({ type: 'caught_up', cursor: 2 });
      c.send(event(3));
    });
    servers.push(server);
    const client = makeClient(server.url);
    const errors: string[] = [];
    const seqs: Array<number | null> = [];
    client.onError((e) => errors.push(e.code));
    client.onEvent((e) => seqs.push(e.seq));
    await client.connect();
    await eventually(() => seqs.includes(3), 'the event after recovery', 10_000);
    expect(seqs).toEqual([1, 2, 3]);
    expect(server.connections).toBe(garbage.length + 2);
    expect(errors.filter((c) => c === 'bad_server_frame')).toHaveLength(garbage.length);
    // Every reconnect resumed the same session from the last delivered event.
    for (const hello of hellos.slice(1)) expect(hello).toMatchObject({ session_id: 'bad-server-session', since: 2, epoch: 'e-bad' });
    expect(client.state).toBe('joined');
  });

  // Regression: the router once delivered the members before the first bad one, then reported
  // the batch as bad. Every member is now checked before any is delivered.
  it('refuses a batch with one bad member whole, delivering none of it', async () => {
    const server = await startBadServer((c) => {
      c.sendOk();
      c.send({ type: 'caught_up', cursor: 0 });
      c.send({ type: 'batch', frames: [{ type: 'event', seq: 1, event: { type: 'tick', data: 'from the batch' } }, { type: 'event', seq: 'two', event: { type: 'tick' } }] });
      c.send({ type: 'event', seq: 1, event: { type: 'tick', data: 'standalone' } });
      c.send({ type: 'event', seq: 2, event: { type: 'tick', data: 'marker' } });
    });
    servers.push(server);
    const client = makeClient(server.url);
    const delivered: unknown[] = [];
    const errors: string[] = [];
    client.onEvent((e) => delivered.push(e.data));
    client.onError((e) => errors.push(e.code));
    await client.connect();
    await eventually(() => delivered.includes('marker'), 'the marker event');
    expect(errors).toEqual(['bad_server_frame']);
    expect(delivered).toEqual(['standalone', 'marker']);
  });
});
