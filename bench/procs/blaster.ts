// The throughput server: answers the WebSocket upgrade by hand and then copies pre-encoded frames
// to the TCP socket as fast as the kernel takes them, so the client is the only bottleneck.
// Path `/live?n=N`: hello_ok, caught_up, then N `event` frames. Path `/batch?n=N`: hello_ok, N
// `replay` frames in v2 batches of 256, then caught_up. Both wait for the client's first frame
// (its `hello`, or the raw baseline's stand-in) before answering, like a gateway. The same paths
// also answer the HTTP binding (PROTOCOL.md section 9): a GET with `Accept: text/event-stream`
// gets the same frames as SSE messages (the hello is in its query), and a POST gets 204.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { CONNECTION_HEADER } from '../../src/protocol/sse.js';
import { caughtUpFrame, eventFrame, helloOkFrame, replayBatches, sseFrame, wireChunks } from '../lib/frames.js';
import { serve, tell } from '../lib/proc.js';

const CHUNK_BYTES = 256 * 1024;
const BATCH = 256;
const cache = new Map<string, Buffer[]>();

function chunksFor(mode: string, n: number, wire: 'ws' | 'sse' = 'ws'): Buffer[] {
  const key = `${mode}:${n}:${wire}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const texts: string[] = [helloOkFrame()];
  if (mode === 'live') {
    texts.push(caughtUpFrame(0));
    for (let seq = 1; seq <= n; seq++) texts.push(eventFrame(seq));
  } else {
    texts.push(...replayBatches(n, BATCH), caughtUpFrame(n));
  }
  const chunks = wireChunks(texts, CHUNK_BYTES, wire === 'sse' ? sseFrame : undefined);
  cache.set(key, chunks);
  return chunks;
}

/** Write every chunk, waiting for `drain` whenever the kernel buffer is full. */
function pump(socket: Socket | ServerResponse, chunks: readonly Buffer[]): void {
  let i = 0;
  const next = (): void => {
    while (i < chunks.length) {
      const chunk = chunks[i++] as Buffer;
      if (!socket.write(chunk)) {
        socket.once('drain', next);
        return;
      }
    }
  };
  next();
}

/** The HTTP binding: an event stream of the path's frames, and 204 for the client's POSTs. */
function answerHttp(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'POST') {
    req.resume();
    req.once('end', () => res.writeHead(204).end());
    return;
  }
  if (!(req.headers.accept ?? '').includes('text/event-stream')) {
    res.writeHead(426).end();
    return;
  }
  const url = new URL(req.url ?? '/', 'http://x');
  const mode = url.pathname === '/batch' ? 'batch' : 'live';
  const n = Number(url.searchParams.get('n') ?? '1000');
  res.socket?.setNoDelay(true);
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', [CONNECTION_HEADER]: 'blaster.1' });
  res.write('retry: 1000\n\n');
  res.on('error', () => res.destroy());
  pump(res, chunksFor(mode, n, 'sse'));
}

const server = createServer(answerHttp);
server.on('upgrade', (req, socket: Socket) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const mode = url.pathname === '/batch' ? 'batch' : 'live';
  const n = Number(url.searchParams.get('n') ?? '1000');
  const key = req.headers['sec-websocket-key'] ?? '';
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.setNoDelay(true);
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const chunks = chunksFor(mode, n);
  // The first bytes from the client are its handshake frame; we do not need to read it.
  socket.once('data', () => pump(socket, chunks));
  // The client closes when it has counted N; answer with a close frame and end.
  socket.on('data', (data: Buffer) => {
    if (data.length >= 1 && ((data[0] ?? 0) & 0x0f) === 0x8) socket.end(Buffer.concat([Buffer.from([0x88, 0x02]), Buffer.from([0x03, 0xe8])]));
  });
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  tell({ type: 'ready', port });
});

serve((msg) => {
  // Build frames before the timed runs, so the first run does not pay for it.
  if (msg.type === 'prepare') {
    chunksFor('live', Number(msg['n']));
    chunksFor('batch', Number(msg['batchN']));
    if (msg['sse'] === true) chunksFor('live', Number(msg['n']), 'sse');
    tell({ type: 'prepared' });
  }
});
