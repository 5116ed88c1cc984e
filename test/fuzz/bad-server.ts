// A tiny scripted WebSocket server on 127.0.0.1:0 that plays a gateway badly: each connection
// runs a script that can answer hello properly or not, send good events and garbage, and close.
import { WebSocketServer, type WebSocket } from 'ws';
import { EXTENSIONS } from '../../src/protocol/index.js';

/** One accepted connection, as a script sees it. */
export interface ScriptedConnection {
  readonly ws: WebSocket;
  /** The client's `hello`, parsed. */
  readonly hello: Record<string, unknown>;
  /** Index of this connection (0 for the first). */
  readonly index: number;
  sendOk(fields?: Record<string, unknown>): void;
  send(frame: object | string): void;
}

export interface BadServer {
  readonly url: string;
  readonly connections: number;
  close(): Promise<void>;
}

/** Start a server; `script` runs once `hello` arrives on each connection. */
export async function startBadServer(script: (c: ScriptedConnection) => void | Promise<void>): Promise<BadServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  let count = 0;
  wss.on('connection', (ws) => {
    const index = count++;
    ws.on('error', () => undefined);
    ws.once('message', (data) => {
      const hello = JSON.parse(String(data)) as Record<string, unknown>;
      const send = (frame: object | string): void => {
        if (ws.readyState === ws.OPEN) ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
      };
      const conn: ScriptedConnection = {
        ws,
        hello,
        index,
        send,
        sendOk: (fields = {}) =>
          send({
            type: 'hello_ok',
            protocol: 2,
            features: { methods: ['message', 'resync', 'leave', 'ping'], events: [], extensions: [...EXTENSIONS] },
            policy: { max_payload: 1_048_576, heartbeat_ms: 60_000, max_buffered_bytes: 4_194_304, replay_window: 1000 },
            session_id: 'bad-server-session',
            resumed: index > 0,
            cursor: 0,
            epoch: 'e-bad',
            oldest_cursor: 0,
            ...fields,
          }),
      };
      void script(conn);
    });
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const address = wss.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `ws://127.0.0.1:${port}`,
    get connections() {
      return count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}
