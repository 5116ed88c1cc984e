// Sending and stopping: the outbox delivers exactly once across a reconnect (resent with the same
// id, deduplicated by the gateway), refuses with outbox_full when full, and disconnect() works in
// every state and leaves at most one socket alive at any time.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { ClientState } from '../../src/client/index.js';
import { startGateway } from '../support/gateway-kit.js';
import { waitFor, waitForState } from '../support/wait-for.js';
import { makeClient, proxyFor } from './kit.js';

const silentServers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of silentServers.splice(0)) {
    for (const socket of server.clients) socket.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A WebSocket server that accepts and then says nothing: a client stays in `negotiating`. */
async function silentServer(): Promise<string> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  silentServers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  if (typeof address === 'string' || address === null) throw new Error('no port');
  return `ws://127.0.0.1:${address.port}`;
}

describe('outbox', () => {
  it('delivers each message exactly once across a reconnect, resending with the same id', async () => {
    const gw = await startGateway();
    const proxy = await proxyFor(gw);
    const received: Array<{ id: string | undefined; content: unknown }> = [];
    let dropOnce = true;
    gw.onMessage((message) => {
      received.push({ id: message.id, content: message.content });
      // Lose the ack of "lost-ack": the gateway applied it, the client never hears so.
      if (message.content === 'lost-ack' && dropOnce) {
        dropOnce = false;
        proxy.drop();
      }
    });
    const client = makeClient(proxy.url);
    await client.connect();
    await expect(client.send('first')).resolves.toMatchObject({ duplicate: false, acknowledged: true });

    const lostAck = client.send('lost-ack');
    await waitForState(client, 'reconnecting');
    proxy.refuse(true);
    const queued = [client.send('queued-1'), client.send('queued-2')];
    proxy.refuse(false);
    const results = await Promise.all([lostAck, ...queued]);

    expect(results[0]).toMatchObject({ duplicate: true, acknowledged: true });
    expect(results.slice(1).map((r) => r.duplicate)).toEqual([false, false]);
    expect(received.map((m) => m.content)).toEqual(['first', 'lost-ack', 'queued-1', 'queued-2']);
    expect(received[1]?.id).toBe(results[0]?.id);
    expect(gw.stats().counters.duplicates).toBe(1);
  });

  it('refuses with a typed outbox_full error instead of dropping silently', async () => {
    const gw = await startGateway();
    const proxy = await proxyFor(gw);
    proxy.refuse(true);
    const client = makeClient(proxy.url, { outbox: { maxMessages: 2 } });
    void client.connect().catch(() => undefined);
    const kept = [client.send(1), client.send(2)];
    await expect(client.send(3)).rejects.toMatchObject({ name: 'GatewayConnectError', code: 'outbox_full', nextStep: 'wait_then_retry' });
    proxy.refuse(false);
    await expect(Promise.all(kept)).resolves.toHaveLength(2);
  });

  it('rejects pending sends with client_closed on disconnect()', async () => {
    const gw = await startGateway();
    const proxy = await proxyFor(gw);
    proxy.refuse(true);
    const client = makeClient(proxy.url);
    const connecting = client.connect();
    const pending = client.send('never');
    await client.disconnect();
    await expect(pending).rejects.toMatchObject({ code: 'client_closed' });
    await expect(connecting).rejects.toMatchObject({ code: 'client_closed' });
  });
});

describe('disconnect()', () => {
  it.each<[ClientState, string]>([
    ['connecting', 'a stalled TCP link'],
    ['negotiating', 'a server that never answers hello'],
    ['joined', 'a healthy gateway'],
    ['reconnecting', 'a refusing link'],
    ['disconnected', 'a client never connected'],
  ])('in %s (%s) ends in disconnected, closes the socket and stays down', async (state, _) => {
    const gw = await startGateway();
    const proxy = await proxyFor(gw);
    const url = state === 'negotiating' ? await silentServer() : proxy.url;
    if (state === 'connecting') proxy.stall();
    if (state === 'reconnecting') proxy.refuse(true);
    const client = makeClient(url, { reconnect: { initialDelayMs: 10_000, minUptimeMs: 300 } });
    if (state !== 'disconnected') void client.connect().catch(() => undefined);
    await waitForState(client, state);

    const states: ClientState[] = [];
    client.onState((s) => states.push(s));
    await client.disconnect();
    expect(client.state).toBe('disconnected');
    const running: string[] = [];
    client.chart.inspect((event) => void (event.type === '@xstate.actor' && 'id' in event.actorRef && running.push(String(event.actorRef.id))))();
    expect(running).not.toContain('socket');
    proxy.resume();
    proxy.refuse(false);
    await waitFor(() => proxy.connections === 0 && gw.stats().connections === 0, 2000, 'all sockets closed');
    // Nothing comes back on its own.
    await expect(waitFor(() => states.some((s) => s !== 'disconnected'), 150, 'a reconnect')).rejects.toThrow(/Timed out/);
    // And it can connect again.
    if (state !== 'negotiating') {
      await client.connect();
      expect(client.state).toBe('joined');
    }
  });

  it('keeps at most one live socket while the link flaps', async () => {
    const gw = await startGateway();
    const proxy = await proxyFor(gw);
    const client = makeClient(proxy.url, { reconnect: { initialDelayMs: 1, maxDelayMs: 5, minUptimeMs: 300 } });
    let peak = 0;
    client.onState(() => {
      peak = Math.max(peak, proxy.connections, gw.stats().connections);
    });
    await client.connect();
    for (let i = 0; i < 10; i++) {
      proxy.drop();
      await waitForState(client, 'reconnecting');
      await waitForState(client, 'joined');
      peak = Math.max(peak, proxy.connections, gw.stats().connections);
    }
    expect(peak).toBeLessThanOrEqual(1);
    await waitFor(() => gw.stats().connections === 1, 1000, 'one gateway connection');
  });
});
