// The single send path of one connection. Every frame goes through here, in order: control
// frames, replay (batched under v2), and live events (coalesced per tick under v2). It watches
// the socket's unsent bytes and reports a slow consumer once they pass the limit.
//
// A replay is paced: it is written only while the socket's unsent bytes stay under a quarter of
// the limit, and resumes as writes complete, so a reader that keeps up is never evicted however
// large the window. Frames sent meanwhile (live events, acks, caught_up) wait behind the replay,
// in order; their bytes count against the limit, so a reader that stalls mid-replay while the
// session keeps publishing is still evicted. Pacing lives here, not in the session's queue: the
// join task only hands the replay over, so other connections and publishes never wait on it.
import { encodeFrame, type EventFrame, type ReplayFrame, type ServerFrame } from '../protocol/index.js';
import { mutations } from '../mutations.js';
import { SOCKET_OPEN, type GatewaySocket } from './transport.js';

/** Options for {@link createOutbox}. */
export interface OutboxOptions {
  /** Whether `batch` frames may be sent: only when v2 was agreed, and never on a legacy join. */
  readonly batching: boolean;
  /** Coalesce live events published in the same tick into one batch (only when batching). */
  readonly coalesceLive: boolean;
  readonly maxBatchFrames: number;
  readonly maxBufferedBytes: number;
  /** Called once when unsent bytes pass `maxBufferedBytes`; nothing is sent afterwards. */
  readonly onSlowConsumer: (bufferedBytes: number) => void;
  /**
   * Rewrites each frame for another dialect (src/server/dialects/) just before it is written.
   * @default undefined: frames go out as Lifeline frames
   */
  readonly translate?: ((frame: ServerFrame) => readonly object[]) | undefined;
}

/** Ordered sending for one socket. */
export interface Outbox {
  /** Send one frame (after any live events still waiting for their tick, and any replay still being paced). */
  send(frame: ServerFrame): void;
  /** Send replayed events, paced by the socket: one frame each under v1, batches under v2. */
  sendReplay(frames: readonly ReplayFrame[]): void;
  /** Send a live event: at once under v1, at the end of the tick under v2; behind a paced replay, after it. */
  sendLive(frame: EventFrame): void;
  /** Stop sending for good (the socket is closing). */
  seal(): void;
  /** Frames waiting behind a paced replay, replay included; 0 when nothing waits. */
  readonly waiting: number;
}

type EventLike = EventFrame | ReplayFrame;

/** A frame waiting behind a paced replay; `bytes` is set for those counted against the limit. */
interface Waiting {
  readonly frame: ServerFrame;
  readonly bytes: number;
}

const isEventLike = (frame: ServerFrame): frame is EventLike => frame.type === 'event' || frame.type === 'replay';

/** Create the outbox for a socket. */
export function createOutbox(ws: GatewaySocket, options: OutboxOptions): Outbox {
  // Pace to a quarter of the limit, and cap a batch at as much: the socket then never holds
  // more than about half the limit on account of a replay.
  const paceBytes = Math.max(1, Math.floor(options.maxBufferedBytes / 4));
  let sealed = false;
  let pendingLive: EventFrame[] = [];
  let flushScheduled = false;
  // Frames behind a paced replay, oldest first from `head` (an index: shift() is O(n)).
  let queue: Waiting[] = [];
  let head = 0;
  /** Bytes of the non-replay frames in `queue`: what a stalled reader makes the gateway hold. */
  let owedBytes = 0;
  let awaitingWrite = false;

  const evict = (): void => {
    const bytes = ws.bufferedAmount + owedBytes;
    sealed = true;
    pendingLive = [];
    queue = [];
    head = 0;
    owedBytes = 0;
    options.onSlowConsumer(bytes);
  };

  const overLimit = (): boolean => ws.bufferedAmount + owedBytes > options.maxBufferedBytes;

  // Resumes a paced replay once the socket has written out what it held.
  const onWritten = (): void => {
    if (!awaitingWrite) return;
    awaitingWrite = false;
    pump();
  };

  const writeText = (text: string): void => {
    if (sealed || ws.readyState !== SOCKET_OPEN) return;
    ws.send(text, onWritten);
    if (overLimit() && !mutations.unboundedQueue) evict();
  };

  const write = (frame: ServerFrame): void => {
    if (sealed) return;
    if (options.translate) for (const out of options.translate(frame)) writeText(encodeFrame(out));
    else writeText(encodeFrame(frame));
  };

  /** Write events, batched under v2 by count and by `paceBytes`. Returns how many were taken. */
  const writeEvents = (frames: readonly EventLike[], from = 0): number => {
    const first = frames[from];
    if (!first) return 0;
    // A batch of one is just noise on the wire; send the frame itself.
    if (!options.batching || from === frames.length - 1) {
      write(first);
      return 1;
    }
    const texts: string[] = [];
    let bytes = 0;
    for (let i = from; i < frames.length && texts.length < options.maxBatchFrames; i++) {
      const text = encodeFrame(frames[i] as EventLike);
      if (texts.length > 0 && bytes + text.length > paceBytes) break;
      texts.push(text);
      bytes += text.length;
    }
    if (texts.length === 1) write(first);
    else write({ type: 'batch', frames: frames.slice(from, from + texts.length) });
    return texts.length;
  };

  const writeAllEvents = (frames: readonly EventLike[]): void => {
    for (let i = 0; i < frames.length && !sealed; ) i += writeEvents(frames, i);
  };

  /** Write the next run of waiting frames: consecutive events as one batch, or one other frame. */
  const writeNextWaiting = (): void => {
    const first = queue[head];
    if (!first) return;
    let run = 1;
    if (isEventLike(first.frame)) {
      while (run < options.maxBatchFrames && head + run < queue.length && isEventLike((queue[head + run] as Waiting).frame)) run++;
    }
    const items = queue.slice(head, head + run);
    let taken = 1;
    if (isEventLike(first.frame)) taken = writeEvents(items.map((w) => w.frame as EventLike));
    else write(first.frame);
    for (let i = 0; i < taken; i++) owedBytes -= (items[i] as Waiting).bytes;
    head += taken;
  };

  function pump(): void {
    while (head < queue.length) {
      if (sealed || ws.readyState !== SOCKET_OPEN) {
        queue = [];
        head = 0;
        owedBytes = 0;
        return;
      }
      if (ws.bufferedAmount >= paceBytes) {
        awaitingWrite = true;
        return;
      }
      writeNextWaiting();
    }
    queue = [];
    head = 0;
    owedBytes = 0;
  }

  const isPacing = (): boolean => head < queue.length;

  /** Put a frame behind the replay; its bytes count against the limit. */
  const enqueue = (frame: ServerFrame): void => {
    if (sealed) return;
    const bytes = encodeFrame(frame).length;
    queue.push({ frame, bytes });
    owedBytes += bytes;
    if (overLimit() && !mutations.unboundedQueue) evict();
  };

  const flushLive = (): void => {
    flushScheduled = false;
    if (pendingLive.length === 0) return;
    const frames = pendingLive;
    pendingLive = [];
    writeAllEvents(frames);
  };

  return {
    send(frame) {
      flushLive();
      // A ping has no place in the order, and keeps a long replay's reader answering.
      if (isPacing() && frame.type !== 'ping') enqueue(frame);
      else write(frame);
    },
    sendReplay(frames) {
      flushLive();
      if (sealed || frames.length === 0) return;
      for (const frame of frames) queue.push({ frame, bytes: 0 });
      if (!awaitingWrite) pump();
    },
    sendLive(frame) {
      if (isPacing()) enqueue(frame);
      else if (!options.batching || !options.coalesceLive) write(frame);
      else {
        pendingLive.push(frame);
        if (pendingLive.length >= options.maxBatchFrames) flushLive();
        else if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flushLive);
        }
      }
    },
    seal() {
      sealed = true;
      pendingLive = [];
      queue = [];
      head = 0;
      owedBytes = 0;
    },
    get waiting() {
      return queue.length - head;
    },
  };
}
