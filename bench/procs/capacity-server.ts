// Capacity server process (run with --expose-gc): one server of one kind on 127.0.0.1, holding
// every connection the capacity clients open, and its memory on request after forced GCs.
//   lifeline   the reference gateway (memory log), each connection joined to a session of its own
//   ws         a bare `ws` server that answers the first message with a constant frame and holds
//   socket.io  a socket.io server, default options (clients come over its websocket transport)
// Like a deploy behind a proxy, the gateway runs without per-address rate limits or caps: every
// bench connection comes from 127.0.0.1.
//   argv: <lifeline|ws|socket.io>
import { createServer, type Server as HttpServer } from 'node:http';
import { Server as SocketIoServer } from 'socket.io';
import { WebSocketServer } from 'ws';
import { createGateway } from '../../src/server/index.js';
import { serve, sleep, tell } from '../lib/proc.js';

export type CapacityKind = 'lifeline' | 'ws' | 'socket.io';
const kind = process.argv[2];

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with --expose-gc');
  collect();
  collect();
}

function listen(http: HttpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => {
      const address = http.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

/** Start the server; returns its port and how many connections it holds right now. */
async function start(): Promise<{ port: number; held: () => number }> {
  switch (kind) {
    case 'lifeline': {
      const gateway = await createGateway({
        port: 0,
        logger: false,
        rateLimit: false,
        maxConnectionsPerAddress: 1_000_000,
        maxSessionsPerAddress: 1_000_000,
        maxSessions: 1_000_000,
      });
      return { port: gateway.port, held: () => gateway.stats().joined };
    }
    case 'ws': {
      const http = createServer();
      const wss = new WebSocketServer({ server: http });
      const HELLO_OK = JSON.stringify({ type: 'hello_ok' });
      wss.on('connection', (socket) => socket.once('message', () => socket.send(HELLO_OK)));
      return { port: await listen(http), held: () => wss.clients.size };
    }
    case 'socket.io': {
      const http = createServer();
      const io = new SocketIoServer(http, { serveClient: false });
      return { port: await listen(http), held: () => io.engine.clientsCount };
    }
    default:
      throw new Error(`capacity-server: unknown kind ${String(kind)}`);
  }
}

const server = await start();
serve(async (msg) => {
  if (msg.type !== 'measure') return;
  gc();
  await sleep(100);
  gc();
  const m = process.memoryUsage();
  // Heap as V8 sees it plus off-heap buffers (the sockets' read and write buffers).
  tell({ type: 'measured', rss: m.rss, heap: m.heapUsed + m.external, held: server.held() });
});
tell({ type: 'ready', port: server.port });
