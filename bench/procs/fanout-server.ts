// Fan-out server process: the reference gateway (all clients join one session; the app publishes
// M events) or a bare `ws` server broadcasting the same event frames, one per event per socket.
//   argv: <gateway|ws>
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { createGateway } from '../../src/server/index.js';
import { serve, tell, wallNow } from '../lib/proc.js';

const mode = process.argv[2] === 'ws' ? 'ws' : 'gateway';
/** The session every fan-out client joins (fanout-clients.ts sends it in `hello`). */
const FANOUT_SESSION = 'fanout-session';

if (mode === 'gateway') {
  // No rate limit (one address) and no slow-consumer eviction: the run publishes faster than
  // clients read by design, and we measure delivery, not the eviction policy.
  const gateway = await createGateway({ port: 0, logger: false, rateLimit: false, maxBufferedBytes: 1 << 30, replayWindow: 1000 });
  serve(async (msg) => {
    if (msg.type !== 'start') return;
    const m = Number(msg['m']);
    tell({ type: 'started', at: wallNow() });
    const pending: Array<Promise<number>> = [];
    for (let i = 0; i < m; i++) pending.push(gateway.publish(FANOUT_SESSION, { type: 'token', data: { t: 'hi' } }));
    await Promise.all(pending);
    tell({ type: 'published', at: wallNow() });
  });
  tell({ type: 'ready', port: gateway.port });
} else {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  const sockets = new Set<WebSocket>();
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', () => undefined);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  serve((msg) => {
    if (msg.type !== 'start') return;
    const m = Number(msg['m']);
    tell({ type: 'started', at: wallNow() });
    // The same frame the gateway sends for a live v1 event, built once and sent to every socket.
    for (let seq = 1; seq <= m; seq++) {
      const frame = JSON.stringify({ type: 'event', seq, event: { type: 'token', data: { t: 'hi' }, event_id: randomUUID(), timestamp: Date.now() / 1000 } });
      for (const ws of sockets) ws.send(frame);
    }
    tell({ type: 'published', at: wallNow() });
  });
  const address = http.address();
  tell({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
}
