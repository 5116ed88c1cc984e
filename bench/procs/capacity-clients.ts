// Capacity client process: thin connections that join a capacity server and then stay idle, so
// the server is what is measured. On `open` it opens `n` more, at most `concurrency` joining at a
// time (so the listen backlog, not the server, never turns away a burst), and reports when each
// has joined (the wall time of every join) or failed, or the deadline passed.
//   lifeline   a raw `ws` socket: `hello` (v2), joined at `hello_ok`, answers the gateway's pings
//   ws         a raw `ws` socket: the same `hello`, joined at the bare server's constant answer
//   socket.io  socket.io-client on its websocket transport, joined at `connect`
//   argv: <lifeline|ws|socket.io> <url>
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { serve, tell, wallNow } from '../lib/proc.js';

const [kind = 'ws', url = ''] = process.argv.slice(2);
const HELLO = JSON.stringify({ type: 'hello', agent_id: 'bench', protocol_min: 1, protocol_max: 2, capabilities: ['ack', 'batch', 'epoch'] });

/** Kept reachable for the whole run: a connection the GC could take would close. */
const held: Array<WebSocket | Socket> = [];

/** Open one connection; `done` is called once, with the error code if it never joined. */
function connect(done: (error?: string) => void): void {
  let settled = false;
  const settle = (error?: string): void => {
    if (settled) return;
    settled = true;
    done(error);
  };
  if (kind === 'socket.io') {
    const socket = io(url, { forceNew: true, transports: ['websocket'], reconnection: false });
    socket.once('connect', () => settle());
    socket.once('connect_error', (error: Error) => settle(errorCode(error)));
    held.push(socket);
    return;
  }
  const ws = new WebSocket(url);
  ws.once('open', () => ws.send(HELLO));
  ws.on('message', (data: Buffer) => {
    const text = data.toString();
    // Once joined, only the gateway's pings matter: anything else (caught_up) is left unparsed.
    if (settled && !text.includes('"ping"')) return;
    const frame = JSON.parse(text) as { type?: unknown; ts?: unknown; code?: unknown };
    if (frame.type === 'ping') ws.send(JSON.stringify({ type: 'pong', ...(typeof frame.ts === 'number' ? { ts: frame.ts } : {}) }));
    else if (frame.type === 'hello_ok') settle();
    else if (frame.type === 'error') settle(`refused ${String(frame.code)}`);
  });
  ws.once('error', (error: Error) => settle(errorCode(error)));
  ws.once('close', () => settle('closed'));
  held.push(ws);
}

function errorCode(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error.message.slice(0, 60);
}

/** Open `n` connections, `concurrency` at a time; resolves when all settled or at the deadline. */
function openMany(n: number, concurrency: number, deadlineMs: number): Promise<{ joinedAt: number[]; errors: Record<string, number>; first: number; timedOut: boolean }> {
  const first = wallNow();
  const joinedAt: number[] = [];
  let started = 0;
  let failed = 0;
  const errors: Record<string, number> = {};
  let finished = false;
  return new Promise((resolve) => {
    const finish = (timedOut: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve({ joinedAt, errors, first, timedOut });
    };
    const timer = setTimeout(() => finish(true), deadlineMs);
    const next = (): void => {
      // Past the deadline nothing new is opened: the count reported is the count held.
      if (started >= n || finished) return;
      started++;
      connect((error) => {
        if (error === undefined) joinedAt.push(wallNow());
        else {
          failed++;
          errors[error] = (errors[error] ?? 0) + 1;
        }
        if (joinedAt.length + failed === n) finish(false);
        else next();
      });
    };
    for (let i = 0; i < Math.min(concurrency, n); i++) next();
  });
}

serve(async (msg) => {
  if (msg.type !== 'open') return;
  const result = await openMany(Number(msg['n']), Number(msg['concurrency']), Number(msg['deadlineMs']));
  tell({ type: 'opened', ...result });
});
tell({ type: 'ready' });
