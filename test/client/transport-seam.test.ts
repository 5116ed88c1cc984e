// The transport is one seam on each side. Given a client whose transport records what crosses it
// (the real WebSocket transport inside), when it joins, sends, resyncs, answers pings and leaves,
// then every frame in and out went through that transport, over the unchanged chart. And no
// module but the two WebSocket transports imports a WebSocket library.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { clientMachine } from '../../src/client/client-machine.js';
import { DEFAULT_CLIENT_PARTS } from '../../src/client/client-parts.js';
import { assembleGatewayClient } from '../../src/client/create-gateway-client.js';
import type { ClientTransport } from '../../src/client/transport.js';
import { webSocketTransport } from '../../src/client/websocket-transport.js';
import { startGateway } from '../support/gateway-kit.js';
import { waitFor, waitForState } from '../support/wait-for.js';
import { FAST } from './kit.js';

/** `inner`, with every frame written and read, and every connection's close, recorded. */
function recording(inner: ClientTransport) {
  const log = { sent: [] as string[], received: [] as string[], opened: 0, closed: 0 };
  const typeOf = (text: unknown): string => (typeof text === 'string' ? String((JSON.parse(text) as { type?: unknown }).type) : 'binary');
  const transport: ClientTransport = {
    connect(request, events) {
      // The handshake is the connection's first frame, delivered by the transport.
      log.sent.push(typeOf(request.handshake));
      const connection = inner.connect(request, {
        ...events,
        opened: () => (log.opened++, events.opened()),
        message: (data) => (log.received.push(typeOf(data)), events.message(data)),
        closed: (code, reason) => (log.closed++, events.closed(code, reason)),
      });
      // Each method by name: a spread would drop methods a connection keeps on its prototype.
      return {
        send: (text) => (log.sent.push(typeOf(text)), connection.send(text)),
        close: () => connection.close(),
        terminate: () => connection.terminate(),
      };
    },
  };
  return { transport, log };
}

describe('the client transport seam', () => {
  it('carries every frame in and out of a client, over the unchanged chart', async () => {
    const gw = await startGateway({ heartbeatMs: 100 });
    gw.onMessage(async () => undefined);
    const { transport, log } = recording(webSocketTransport());
    const parts = { ...DEFAULT_CLIENT_PARTS, createTransport: () => transport };
    const client = assembleGatewayClient({ url: gw.url, agentId: 'demo', reconnect: FAST, handshakeTimeoutMs: 1000 }, parts);
    try {
      await client.connect();
      const sessionId = client.info.sessionId ?? '';
      await client.send({ text: 'hi' });
      await gw.publish(sessionId, { type: 'token', data: 'x' });
      await waitFor(() => client.info.cursor >= 1, 2000, 'the event');
      await client.resync();
      // The gateway pings every 100 ms; the client answers on the same transport.
      await waitFor(() => log.sent.includes('pong'), 2000, 'a pong');
    } finally {
      await client.disconnect();
    }
    await waitForState(client, 'disconnected', 1000);
    expect(parts.machine).toBe(clientMachine);
    expect(log.sent.slice(0, 1)).toEqual(['hello']);
    expect(log.sent).toEqual(expect.arrayContaining(['message', 'resync', 'pong']));
    expect(log.received).toEqual(expect.arrayContaining(['hello_ok', 'ack', 'event', 'snapshot', 'ping']));
    expect({ opened: log.opened, closed: log.closed }).toEqual({ opened: 1, closed: 1 });
  });

  it('is the only place a WebSocket library is imported, on both sides', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
      });
    const importers = [...files(join(root, 'src/client')), ...files(join(root, 'src/server')), ...files(join(root, 'machines'))]
      .filter((path) => /from '(ws|isomorphic-ws)'|import\('(ws|isomorphic-ws)'\)/.test(readFileSync(path, 'utf8')))
      .map((path) => relative(root, path));
    expect(importers.sort()).toEqual(['src/client/websocket-transport.ts', 'src/server/ws-transport.ts']);
  });
});
