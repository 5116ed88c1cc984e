// The throughput server: answers the WebSocket upgrade by hand and then copies pre-encoded frames
// to the TCP socket as fast as the kernel takes them, so the client is the only bottleneck.
// Path `/live?n=N`: hello_ok, caught_up, then N `event` frames. Path `/batch?n=N`: hello_ok, N
// `replay` frames in v2 batches of 256, then caught_up. Both wait for the client's first frame
// (its `hello`, or the raw baseline's stand-in) before answering, like a gateway.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { caughtUpFrame, eventFrame, helloOkFrame, replayBatches, wireChunks } from '../lib/frames.js';
import { serve, tell } from '../lib/proc.js';

const CHUNK_BYTES = 256 * 1024;
const BATCH = 256;
const cache = new Map<string, Buffer[]>();

function chunksFor(mode: string, n: number): Buffer[] {
  const key = `${mode}:${n}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const texts: string[] = [helloOkFrame()];
  if (mode === 'live') {
    texts.push(caughtUpFrame(0));
    for (let seq = 1; seq <= n; seq++) texts.push(eventFrame(seq));
  } else {
    texts.push(...replayBatches(n, BATCH), caughtUpFrame(n));
  }
  const chunks = wireChunks(texts, CHUNK_BYTES);
  cache.set(key, chunks);
  return chunks;
}

/** Write every chunk, waiting for `drain` whenever the kernel buffer is full. */
function pump(socket: Socket, chunks: readonly Buffer[]): void {
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

const server = createServer((_req, res) => res.writeHead(426).end());
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
    tell({ type: 'prepared' });
  }
});
