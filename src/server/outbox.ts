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
import type { StoredEvent } from './event-log.js';
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

/**
 * The outbox as a class, one per connection: its methods live on the prototype, it is itself the
 * sink its session's live tail hands events to, and the queue behind a paced replay is made only
 * for a replay.
 */
class PacedOutbox implements Outbox, LiveSink {
  // Pace to a quarter of the limit, and cap a batch at as much: the socket then never holds
  // more than about half the limit on account of a replay. A batch also stays under the frame size
  // clients accept (counted in UTF-16 units, at most 3 UTF-8 bytes each, so a quarter is safe).
  private readonly paceBytes: number;
  private sealed = false;
  /** The session's live tail, once joined. */
  private following: LiveFollow | undefined;
  // Frames behind a paced replay, oldest first from `head` (an index: shift() is O(n)).
  private queue: Waiting[] | undefined;
  private head = 0;
  /** Bytes of the non-replay frames in `queue`: what a stalled reader makes the gateway hold. */
  private owedBytes = 0;
  private awaitingWrite = false;
  private awaitingPage = false;
  // Writes sent with `onWritten` and not yet written out.
  private callbacksInFlight = 0;
  /** Made for the first write a paced replay waits on. */
  private onWritten: (() => void) | undefined;
  readonly batches: boolean;
  readonly maxBatchFrames: number;

  constructor(
    private readonly ws: GatewaySocket,
    private readonly options: OutboxOptions,
  ) {
    this.paceBytes = Math.max(1, Math.floor(Math.min(options.maxBufferedBytes, MAX_SERVER_FRAME_BYTES) / 4));
    this.batches = options.batching && options.coalesceLive;
    this.maxBatchFrames = options.maxBatchFrames;
  }

  private evict(): void {
    const bytes = this.ws.bufferedAmount + this.owedBytes;
    this.sealed = true;
    this.unfollow();
    this.stopPacing();
    this.options.onSlowConsumer(bytes);
  }

  private overLimit(): boolean {
    return this.ws.bufferedAmount + this.owedBytes > this.options.maxBufferedBytes;
  }

  /** Resumes a paced replay once the socket has written out what it held. */
  private written(): void {
    this.callbacksInFlight--;
    if (!this.awaitingWrite) return;
    this.awaitingWrite = false;
    this.pump();
  }

  private isPacing(): boolean {
    return this.queue !== undefined && this.head < this.queue.length;
  }

  private writeText(text: string): void {
    if (this.sealed || this.ws.readyState !== SOCKET_OPEN) return;
    // Only a paced replay waits on writes: a callback on every live frame cost ~20% of fan-out.
    if (this.isPacing()) {
      this.callbacksInFlight++;
      this.ws.send(text, (this.onWritten ??= () => this.written()));
    } else this.ws.send(text);
    if (this.overLimit()) this.evict();
  }

  private write(frame: ServerFrame): void {
    if (this.sealed) return;
    const translate = this.options.translate;
    if (translate) for (const out of translate(frame)) this.writeText(encodeFrame(out));
    else this.writeText(encodeFrame(frame));
  }

  /** Write events, batched under v2 by count and by `paceBytes`. Returns how many were taken. */
  private writeEvents(frames: readonly EventLike[], from = 0): number {
    const first = frames[from];
    if (!first) return 0;
    // A batch of one is just noise on the wire; send the frame itself.
    if (!this.options.batching || from === frames.length - 1) {
      this.write(first);
      return 1;
    }
    const texts: string[] = [];
    let bytes = 0;
    for (let i = from; i < frames.length && texts.length < this.options.maxBatchFrames; i++) {
      const text = encodeFrame(frames[i] as EventLike);
      if (texts.length > 0 && bytes + text.length > this.paceBytes) break;
      texts.push(text);
      bytes += text.length;
    }
    if (texts.length === 1) this.write(first);
    // A translating dialect rewrites frames; otherwise the members' texts make the batch as is.
    else if (this.options.translate) this.write({ type: 'batch', frames: frames.slice(from, from + texts.length) });
    else if (!this.sealed) this.writeText(encodeBatch(texts));
    return texts.length;
  }

  /** Write the next run of waiting frames: consecutive events as one batch, or one other frame. */
  private writeNextWaiting(queue: readonly Waiting[]): void {
    const head = this.head;
    const first = queue[head];
    if (!first || !('frame' in first)) return;
    if (!isEventWaiting(first)) {
      this.write(first.frame);
      this.owedBytes -= first.bytes;
      this.head++;
      return;
    }
    const items = [first];
    for (let next = queue[head + items.length]; items.length < this.options.maxBatchFrames && isEventWaiting(next); next = queue[head + items.length]) items.push(next);
    const taken = this.writeEvents(items.map((w) => w.frame));
    for (let i = 0; i < taken; i++) this.owedBytes -= items[i]?.bytes ?? 0;
    this.head += taken;
  }

  private stopPacing(): void {
    this.queue = undefined;
    this.head = 0;
    this.owedBytes = 0;
  }

  /** Read the replay's next page into the place `more` holds at `head`, then go on pumping. */
  private readPage(more: ReplaySource): void {
    this.awaitingPage = true;
    more.next().then(
      (page) => {
        this.awaitingPage = false;
        if (this.sealed) return;
        // Drop what was written, so pages already sent are not kept alive by the queue.
        const queue = (this.queue ?? []).slice(this.head + 1);
        this.head = 0;
        const frames: Waiting[] = page.frames.map((frame) => ({ frame, bytes: 0 }));
        queue.unshift(...frames, ...(page.done ? [] : [{ more }]));
        this.queue = queue;
        this.pump();
      },
      (error: unknown) => {
        this.awaitingPage = false;
        if (this.sealed) return;
        this.sealed = true;
        this.unfollow();
        this.stopPacing();
        this.options.onReplayFailed?.(error);
      },
    );
  }

  private pump(): void {
    if (this.awaitingPage) return;
    for (let queue = this.queue; queue !== undefined && this.head < queue.length; queue = this.queue) {
      if (this.sealed || this.ws.readyState !== SOCKET_OPEN) return this.stopPacing();
      // Wait for a write to finish; if none in flight will say so (the buffer holds live frames,
      // sent without a callback), write one more frame, which will.
      if (this.ws.bufferedAmount >= this.paceBytes && this.callbacksInFlight > 0) {
        this.awaitingWrite = true;
        return;
      }
      const next = queue[this.head];
      if (next && 'more' in next) return this.readPage(next.more);
      this.writeNextWaiting(queue);
    }
    this.stopPacing();
  }

  /** Put a frame behind the replay; its bytes count against the limit. */
  private enqueue(frame: ServerFrame, bytes = encodeFrame(frame).length): void {
    if (this.sealed) return;
    (this.queue ??= []).push({ frame, bytes });
    this.owedBytes += bytes;
    if (this.overLimit()) this.evict();
  }

  /** Live events this outbox has not written yet: written now, before a frame of its own. */
  private flushLive(): void {
    this.following?.take();
  }

  private unfollow(): void {
    this.following?.unfollow();
    this.following = undefined;
  }

  sendEvent(stored: StoredEvent, text: string): void {
    if (this.sealed) return;
    if (this.options.translate) {
      if (this.isPacing()) this.enqueue(liveFrame(stored));
      else this.write(liveFrame(stored));
    } else if (this.isPacing()) this.enqueue(liveFrame(stored), text.length);
    else this.writeText(text);
  }

  sendRun(run: LiveRun, from: number, to: number): void {
    if (this.isPacing()) {
      for (let i = from; i < to && !this.sealed; i++) this.enqueue(liveFrame(run.event(i)), run.text(i).length);
      return;
    }
    for (let i = from; i < to && !this.sealed; ) {
      const { end, text } = run.batch(i, to, this.options.maxBatchFrames, this.paceBytes);
      this.writeText(text);
      i = end;
    }
  }

  send(frame: ServerFrame): void {
    this.flushLive();
    // A ping has no place in the order, and keeps a long replay's reader answering.
    if (this.isPacing() && frame.type !== 'ping') this.enqueue(frame);
    else this.write(frame);
  }

  sendReplay(frames: readonly ReplayFrame[], rest?: ReplaySource): void {
    this.flushLive();
    if (this.sealed || (frames.length === 0 && !rest)) return;
    const queue = (this.queue ??= []);
    for (const frame of frames) queue.push({ frame, bytes: 0 });
    if (rest) queue.push({ more: rest });
    if (!this.awaitingWrite) this.pump();
  }

  follow(tail: LiveTail): void {
    if (this.sealed || this.following) return;
    this.following = tail.follow(this);
  }

  seal(): void {
    this.sealed = true;
    this.unfollow();
    this.stopPacing();
  }

  get waiting(): number {
    return this.queue === undefined ? 0 : this.queue.length - this.head;
  }
}

/** Create the outbox for a socket. */
export function createOutbox(ws: GatewaySocket, options: OutboxOptions): Outbox {
  return new PacedOutbox(ws, options);
}
