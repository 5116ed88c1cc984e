// A WebSocket front in front of the reference gateway, for the two facts the gateway itself never
// produces: a gateway that predates `hello` (it answers `hello` with `error`, as old gateways did,
// and relays everything else, so the legacy `join` reaches the real gateway), and an edge that
// ends a session with a close code and no frame first (an auth proxy revoking a token: 4003).
// Real sockets both ways; frames are relayed byte for byte, in order.
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

export interface WsFront {
  readonly url: string;
  readonly port: number;
  /** While true, `hello` is answered with `error` like a pre-hello gateway. */
  legacy: boolean;
  /** Close every client socket with `code` and no frame before it. */
  closeClients(code: number, reason: string): void;
  close(): Promise<void>;
}

/** Codes a peer may not send in a close frame; relay those as 1011. */
const sendable = (code: number): number => (code === 1005 || code === 1006 || code === 1015 ? 1011 : code);

/** Start a front on 127.0.0.1:0 relaying to `upstream()` (read per connection, so a restarted gateway is followed). */
export async function startWsFront(upstream: () => string): Promise<WsFront> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const clients = new Set<WebSocket>();
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const front: WsFront = {
    url: '',
    port: (wss.address() as AddressInfo).port,
    legacy: false,
    closeClients(code, reason) {
      for (const client of clients) client.close(code, reason);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
  Object.assign(front, { url: `ws://127.0.0.1:${front.port}` });

  wss.on('connection', (client) => {
    clients.add(client);
    const up = new WebSocket(upstream());
    const queued: string[] = [];
    const toUpstream = (text: string): void => {
      if (up.readyState === WebSocket.OPEN) up.send(text);
      else queued.push(text);
    };
    up.on('open', () => queued.splice(0).forEach((text) => up.send(text)));
    up.on('message', (data: RawData) => {
      if (client.readyState === WebSocket.OPEN) client.send(String(data));
    });
    up.on('close', (code, reason) => {
      if (client.readyState === WebSocket.OPEN) client.close(sendable(code), reason.toString());
    });
    up.on('error', () => client.terminate());
    client.on('message', (data: RawData) => {
      const text = String(data);
      if (front.legacy && /"type"\s*:\s*"hello"/.test(text)) {
        client.send(JSON.stringify({ type: 'error', code: 'bad_frame', message: 'Unknown message type: hello' }));
        return;
      }
      toUpstream(text);
    });
    client.on('close', () => {
      clients.delete(client);
      if (up.readyState === WebSocket.OPEN || up.readyState === WebSocket.CONNECTING) up.terminate();
    });
    client.on('error', () => up.terminate());
  });
  return front;
}
