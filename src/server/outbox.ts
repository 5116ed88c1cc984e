// The single send path of one connection. Every frame goes through here, in order: control
// frames, replay (batched under v2), and live events (coalesced per tick under v2). It watches
// the socket's unsent bytes and reports a slow consumer once they pass the limit.
//
// Live events come from the session's live tail (live-tail.ts), which encodes each event and each
// batch once for all connections: under v2 a connection's live events of one tick go out in one
// `send`, taken at the end of the tick; otherwise each event as it comes.
//
// A replay is paced: it is written only while the socket's unsent bytes stay under a quarter of
// the limit, and resumes as writes complete, so a reader that keeps up is never evicted however
// large the window. Frames sent meanwhile (live events, acks, caught_up) wait behind the replay,
// in order; their bytes count against the limit, so a reader that stalls mid-replay while the
// session keeps publishing is still evicted. Pacing lives here, not in the session's queue: the
// join task only hands the replay over, so other connections and publishes never wait on it.
// A long replay comes in pages (ReplaySource): the next page is read only when the socket has
// taken the previous one, so a resuming connection holds one page, not the whole window.
import { MAX_SERVER_FRAME_BYTES, type EventFrame, type ReplayFrame, type ServerFrame } from '../protocol/index.js';
import { encodeBatch, encodeFrame } from '../protocol/codec.js';
import { liveFrame, type LiveFollow, type LiveRun, type LiveSink, type LiveTail } from './live-tail.js';
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
  /** Called once when a replay page could not be read; nothing is sent afterwards. */
  readonly onReplayFailed?: (error: unknown) => void;
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
  /**
   * Send replayed events, paced by the socket: one frame each under v1, batches under v2. `rest`
   * brings the pages after `frames`, each read once the socket has taken the one before; frames
   * sent meanwhile wait behind the whole replay.
   */
  sendReplay(frames: readonly ReplayFrame[], rest?: ReplaySource): void;
  /**
   * Send the session's live events from now on, as `event` frames: at once under v1, at the end
   * of the tick under v2; behind a paced replay, after it. Once per outbox.
   */
  follow(tail: LiveTail): void;
  /** Stop sending for good (the socket is closing). */
  seal(): void;
  /** Frames waiting behind a paced replay, replay included; 0 when nothing waits. */
  readonly waiting: number;
}

/** One page of a replay; `done` when no page follows. */
export interface ReplayPage {
  readonly frames: readonly ReplayFrame[];
  readonly done: boolean;
}

/** The pages of a replay after the first, read one at a time on demand. */
export interface ReplaySource {
  next(): Promise<ReplayPage>;
}

type EventLike = EventFrame | ReplayFrame;

/**
 * A frame waiting behind a paced replay (`bytes` is set for those counted against the limit),
 * or the place where the replay's next page goes once read.
 */
type Waiting = { readonly frame: ServerFrame; readonly bytes: number } | { readonly more: ReplaySource };

const isEventLike = (frame: ServerFrame): frame is EventLike => frame.type === 'event' || frame.type === 'replay';
const isEventWaiting = (w: Waiting | undefined): w is { readonly frame: EventLike; readonly bytes: number } => w !== undefined && 'frame' in w && isEventLike(w.frame);

/** Create the outbox for a socket. */
export function createOutbox(ws: GatewaySocket, options: OutboxOptions): Outbox {
  // Pace to a quarter of the limit, and cap a batch at as much: the socket then never holds
  // more than about half the limit on account of a replay. A batch also stays under the frame size
  // clients accept (counted in UTF-16 units, at most 3 UTF-8 bytes each, so a quarter is safe).
  const paceBytes = Math.max(1, Math.floor(Math.min(options.maxBufferedBytes, MAX_SERVER_FRAME_BYTES) / 4));
  let sealed = false;
  /** The session's live tail, once joined. */
  let following: LiveFollow | undefined;
  // Frames behind a paced replay, oldest first from `head` (an index: shift() is O(n)).
  let queue: Waiting[] = [];
  let head = 0;
  /** Bytes of the non-replay frames in `queue`: what a stalled reader makes the gateway hold. */
  let owedBytes = 0;
  let awaitingWrite = false;
  let awaitingPage = false;

  const evict = (): void => {
    const bytes = ws.bufferedAmount + owedBytes;
    sealed = true;
    unfollow();
    queue = [];
    head = 0;
    owedBytes = 0;
    options.onSlowConsumer(bytes);
  };

  const overLimit = (): boolean => ws.bufferedAmount + owedBytes > options.maxBufferedBytes;

  // Writes sent with `onWritten` and not yet written out.
  let callbacksInFlight = 0;

  // Resumes a paced replay once the socket has written out what it held.
  const onWritten = (): void => {
    callbacksInFlight--;
    if (!awaitingWrite) return;
    awaitingWrite = false;
    pump();
  };

  const writeText = (text: string): void => {
    if (sealed || ws.readyState !== SOCKET_OPEN) return;
    // Only a paced replay waits on writes: a callback on every live frame cost ~20% of fan-out.
    if (head < queue.length) {
      callbacksInFlight++;
      ws.send(text, onWritten);
    } else ws.send(text);
    if (overLimit()) evict();
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
    // A translating dialect rewrites frames; otherwise the members' texts make the batch as is.
    else if (options.translate) write({ type: 'batch', frames: frames.slice(from, from + texts.length) });
    else if (!sealed) writeText(encodeBatch(texts));
    return texts.length;
  };

  /** Write the next run of waiting frames: consecutive events as one batch, or one other frame. */
  const writeNextWaiting = (): void => {
    const first = queue[head];
    if (!first || !('frame' in first)) return;
    if (!isEventWaiting(first)) {
      write(first.frame);
      owedBytes -= first.bytes;
      head++;
      return;
    }
    const items = [first];
    for (let next = queue[head + items.length]; items.length < options.maxBatchFrames && isEventWaiting(next); next = queue[head + items.length]) items.push(next);
    const taken = writeEvents(items.map((w) => w.frame));
    for (let i = 0; i < taken; i++) owedBytes -= items[i]?.bytes ?? 0;
    head += taken;
  };

  const stopPacing = (): void => {
    queue = [];
    head = 0;
    owedBytes = 0;
  };

  /** Read the replay's next page into the place `more` holds at `head`, then go on pumping. */
  const readPage = (more: ReplaySource): void => {
    awaitingPage = true;
    more.next().then(
      (page) => {
        awaitingPage = false;
        if (sealed) return;
        // Drop what was written, so pages already sent are not kept alive by the queue.
        queue = queue.slice(head + 1);
        head = 0;
        const frames: Waiting[] = page.frames.map((frame) => ({ frame, bytes: 0 }));
        queue.unshift(...frames, ...(page.done ? [] : [{ more }]));
        pump();
      },
      (error: unknown) => {
        awaitingPage = false;
        if (sealed) return;
        sealed = true;
        unfollow();
        stopPacing();
        options.onReplayFailed?.(error);
      },
    );
  };

  function pump(): void {
    if (awaitingPage) return;
    while (head < queue.length) {
      if (sealed || ws.readyState !== SOCKET_OPEN) return stopPacing();
      // Wait for a write to finish; if none in flight will say so (the buffer holds live frames,
      // sent without a callback), write one more frame, which will.
      if (ws.bufferedAmount >= paceBytes && callbacksInFlight > 0) {
        awaitingWrite = true;
        return;
      }
      const next = queue[head];
      if (next && 'more' in next) return readPage(next.more);
      writeNextWaiting();
    }
    stopPacing();
  }

  const isPacing = (): boolean => head < queue.length;

  /** Put a frame behind the replay; its bytes count against the limit. */
  const enqueue = (frame: ServerFrame, bytes = encodeFrame(frame).length): void => {
    if (sealed) return;
    queue.push({ frame, bytes });
    owedBytes += bytes;
    if (overLimit()) evict();
  };

  /** Live events this outbox has not written yet: written now, before a frame of its own. */
  const flushLive = (): void => following?.take();

  function unfollow(): void {
    following?.unfollow();
    following = undefined;
  }

  const sink: LiveSink = {
    batches: options.batching && options.coalesceLive,
    maxBatchFrames: options.maxBatchFrames,
    sendEvent(stored, text) {
      if (sealed) return;
      if (options.translate) {
        if (isPacing()) enqueue(liveFrame(stored));
        else write(liveFrame(stored));
      } else if (isPacing()) enqueue(liveFrame(stored), text.length);
      else writeText(text);
    },
    sendRun(run: LiveRun, from, to) {
      if (isPacing()) {
        for (let i = from; i < to && !sealed; i++) enqueue(liveFrame(run.event(i)), run.text(i).length);
        return;
      }
      for (let i = from; i < to && !sealed; ) {
        const { end, text } = run.batch(i, to, options.maxBatchFrames, paceBytes);
        writeText(text);
        i = end;
      }
    },
  };

  return {
    send(frame) {
      flushLive();
      // A ping has no place in the order, and keeps a long replay's reader answering.
      if (isPacing() && frame.type !== 'ping') enqueue(frame);
      else write(frame);
    },
    sendReplay(frames, rest) {
      flushLive();
      if (sealed || (frames.length === 0 && !rest)) return;
      for (const frame of frames) queue.push({ frame, bytes: 0 });
      if (rest) queue.push({ more: rest });
      if (!awaitingWrite) pump();
    },
    follow(tail) {
      if (sealed || following) return;
      following = tail.follow(sink);
    },
    seal() {
      sealed = true;
      unfollow();
      stopPacing();
    },
    get waiting() {
      return queue.length - head;
    },
  };
}
