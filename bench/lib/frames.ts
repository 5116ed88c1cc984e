// Pre-built frames for the throughput bench: the JSON text of each frame, and the same frames
// already encoded as WebSocket server frames or as the HTTP binding's SSE messages, so the
// blaster only copies bytes to the socket.
import { sseMessage } from '../../src/protocol/sse.js';

/** A live `event` frame of about 70 bytes (seq up to six digits). */
export function eventFrame(seq: number): string {
  return `{"type":"event","seq":${seq},"event":{"type":"token","data":{"t":"hi"}}}`;
}

export function replayFrame(seq: number): string {
  return `{"type":"replay","seq":${seq},"event":{"type":"token","data":{"t":"hi"}}}`;
}

/** v2 `batch` frames holding replay frames `1..n`, `perBatch` per batch (the gateway's default is 256). */
export function replayBatches(n: number, perBatch: number): string[] {
  const out: string[] = [];
  for (let first = 1; first <= n; first += perBatch) {
    const members: string[] = [];
    for (let seq = first; seq < first + perBatch && seq <= n; seq++) members.push(replayFrame(seq));
    out.push(`{"type":"batch","frames":[${members.join(',')}]}`);
  }
  return out;
}

/** The handshake answer the blaster sends: v2 with `caught_up` and `batch`, no heartbeat to speak of. */
export function helloOkFrame(): string {
  return JSON.stringify({
    type: 'hello_ok',
    protocol: 2,
    features: { methods: ['message', 'resync', 'leave', 'ping'], events: ['token'], extensions: ['epoch', 'gap', 'caught_up', 'batch', 'ack'] },
    // A heartbeat far longer than any run, so the watchdog never fires mid-measurement.
    policy: { max_payload: 1_048_576, heartbeat_ms: 600_000, max_buffered_bytes: 1 << 30, replay_window: 1_000_000 },
    session_id: 'bench-session',
    resumed: false,
    cursor: 0,
    epoch: 'e-bench',
    oldest_cursor: 0,
  });
}

export function caughtUpFrame(cursor: number): string {
  return JSON.stringify({ type: 'caught_up', cursor, epoch: 'e-bench' });
}

/** Encode text as one unmasked, final WebSocket text frame (RFC 6455 section 5.2). */
export function wsTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const len = payload.length;
  let header: Buffer;
  if (len < 126) {
    header = Buffer.from([0x81, len]);
  } else if (len < 65_536) {
    header = Buffer.alloc(4);
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([header, payload]);
}

/** The SSE message of one frame as the gateway writes it: `id: <epoch>:<seq>` on frames with a seq. */
export function sseFrame(text: string): Buffer {
  const seq = /^\{"type":"(?:event|replay)","seq":(\d+)/.exec(text)?.[1];
  return Buffer.from(sseMessage(text, seq === undefined ? undefined : `e-bench:${seq}`), 'utf8');
}

/**
 * Many frames as one buffer, cut into chunks of about `chunkBytes` for backpressured writes:
 * WebSocket frames, or SSE messages with `encode = sseFrame`.
 */
export function wireChunks(texts: readonly string[], chunkBytes: number, encode: (text: string) => Buffer = wsTextFrame): Buffer[] {
  const chunks: Buffer[] = [];
  let pending: Buffer[] = [];
  let size = 0;
  for (const text of texts) {
    const frame = encode(text);
    pending.push(frame);
    size += frame.length;
    if (size >= chunkBytes) {
      chunks.push(Buffer.concat(pending));
      pending = [];
      size = 0;
    }
  }
  if (pending.length > 0) chunks.push(Buffer.concat(pending));
  return chunks;
}
