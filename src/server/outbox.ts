// The single send path of one connection. Every frame goes through here, in order: control
// frames, replay (batched under v2), and live events (coalesced per tick under v2). It also
// watches the socket's unsent bytes and reports a slow consumer once they pass the limit.
import { encodeFrame, type EventFrame, type ReplayFrame, type ServerFrame } from '../protocol/index.js';
import { SOCKET_OPEN, type GatewaySocket } from './transport.js';

/** Options for {@link createOutbox}. */
export interface OutboxOptions {
  /** Whether `batch` frames may be sent: only when v2 was agreed, and never on a legacy join. */
  readonly batching: boolean;
  /** Coalesce live events published in the same tick into one batch (only when batching). */
  readonly coalesceLive: boolean;
  readonly maxBatchFrames: number;
  readonly maxBufferedBytes: number;
  /** Called once when `bufferedAmount` passes `maxBufferedBytes`; nothing is sent afterwards. */
  readonly onSlowConsumer: (bufferedBytes: number) => void;
}

/** Ordered sending for one socket. */
export interface Outbox {
  /** Send one frame now (after any live events still waiting for their tick). */
  send(frame: ServerFrame): void;
  /** Send replayed events: one frame each under v1, batches under v2. */
  sendReplay(frames: readonly ReplayFrame[]): void;
  /** Send a live event: at once under v1, at the end of the tick under v2. */
  sendLive(frame: EventFrame): void;
  /** Stop sending for good (the socket is closing). */
  seal(): void;
}

/** Create the outbox for a socket. */
export function createOutbox(ws: GatewaySocket, options: OutboxOptions): Outbox {
  let sealed = false;
  let pendingLive: EventFrame[] = [];
  let flushScheduled = false;

  const write = (frame: ServerFrame): void => {
    if (sealed || ws.readyState !== SOCKET_OPEN) return;
    ws.send(encodeFrame(frame));
    if (ws.bufferedAmount > options.maxBufferedBytes) {
      sealed = true;
      pendingLive = [];
      options.onSlowConsumer(ws.bufferedAmount);
    }
  };

  const writeMany = (frames: readonly (EventFrame | ReplayFrame)[]): void => {
    if (!options.batching) {
      for (const frame of frames) write(frame);
      return;
    }
    for (let i = 0; i < frames.length; i += options.maxBatchFrames) {
      const chunk = frames.slice(i, i + options.maxBatchFrames);
      // A batch of one is just noise on the wire; send the frame itself.
      if (chunk.length === 1 && chunk[0]) write(chunk[0]);
      else write({ type: 'batch', frames: chunk });
    }
  };

  const flushLive = (): void => {
    flushScheduled = false;
    if (pendingLive.length === 0) return;
    const frames = pendingLive;
    pendingLive = [];
    writeMany(frames);
  };

  return {
    send(frame) {
      flushLive();
      write(frame);
    },
    sendReplay(frames) {
      flushLive();
      writeMany(frames);
    },
    sendLive(frame) {
      if (!options.batching || !options.coalesceLive) {
        write(frame);
        return;
      }
      pendingLive.push(frame);
      if (pendingLive.length >= options.maxBatchFrames) flushLive();
      else if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushLive);
      }
    },
    seal() {
      sealed = true;
      pendingLive = [];
    },
  };
}
