// A session's live events of the current tick, as this node's connections to it take them. The
// fan-out appends each event once; it is encoded once, then:
// - connections that batch (v2, coalescing live events) are not called per event at all: at the
//   end of the tick, or once a batch is full, each takes the run it has not sent yet, and the
//   batch text of a run is made once for all the connections that send that same run;
// - the others (v1, a translating dialect, coalescing off) get each event as it is appended.
// A connection that sends a frame of its own first takes its run (`LiveFollow.take`), so the
// frame never overtakes an event. Nothing here waits: the outbox behind each sink applies replay
// pacing and the slow-consumer bound to what it takes.
import { encodeEventFrame, rememberedPayloadJson } from '../protocol/codec.js';
import type { EventFrame } from '../protocol/index.js';
import type { StoredEvent } from './event-log.js';

/** A live event's `event` frame. */
export function liveFrame(stored: StoredEvent): EventFrame {
  return { type: 'event', seq: stored.seq, event: stored.event };
}

/** The events of a tail that a sink is handed: entries `from` to `to` (exclusive) of the current tick. */
export interface LiveRun {
  event(index: number): StoredEvent;
  /** The event's `event` frame, encoded. */
  text(index: number): string;
  /**
   * The frame for the events from `from`: a `batch` of as many as fit before `to`, `maxFrames`
   * and `maxChars` (UTF-16 units of the members), or the event alone; made once for every sink
   * that asks the same. `end` is the index after the last event it holds.
   */
  batch(from: number, to: number, maxFrames: number, maxChars: number): { readonly end: number; readonly text: string };
}

/** What a connection's outbox offers the tail. */
export interface LiveSink {
  /** Takes runs (v2, coalescing), rather than each event at once. */
  readonly batches: boolean;
  /** The most events the sink puts in one batch: once that many wait, the tail hands them over. */
  readonly maxBatchFrames: number;
  /** One event as it is appended (a sink that does not batch). */
  sendEvent(event: StoredEvent, text: string): void;
  /** The events it has not taken yet (a sink that batches). */
  sendRun(run: LiveRun, from: number, to: number): void;
}

/** One connection's place on a tail. */
export interface LiveFollow {
  /** Hand the sink what waits for it now (before a frame of its own, so the frame comes after). */
  take(): void;
  /** Stop following (the connection is closing). */
  unfollow(): void;
}

/** The live events of one session on this node. */
export interface LiveTail {
  /** Deliver an event to every connection following, in seq order (the fan-out's one call per event). */
  append(event: StoredEvent): void;
  /** Start following: events appended from now on reach `sink`. */
  follow(sink: LiveSink): LiveFollow;
}

/** One sink's place on a tail: the `LiveFollow` handed back (methods on the class, no closures per follower). */
class Follower implements LiveFollow {
  /** Index of the first event of this tick the sink has not taken. */
  from: number;
  /** Unfollowed: skipped by an iteration over a list it was in when that began. */
  left = false;

  constructor(
    private readonly tail: Tail,
    readonly sink: LiveSink,
  ) {
    this.from = tail.count;
  }

  take(): void {
    this.tail.take(this);
  }

  unfollow(): void {
    this.tail.unfollow(this);
  }
}

/** A batch made for one run, kept for the next sink that asks the same. */
interface BatchMemo {
  readonly to: number;
  readonly maxFrames: number;
  readonly maxChars: number;
  readonly end: number;
  readonly text: string;
}

// A batch of event frames, as encodeBatch and encodeEventFrame write it (the fan-out's one format).
const BATCH_OPEN = '{"type":"batch","frames":[';
const EVENT_OPEN = '{"type":"event","seq":';
const EVENT_PAYLOAD = ',"event":';
/** Characters of an event frame besides its seq and payload. */
const EVENT_FRAME_CHARS = EVENT_OPEN.length + EVENT_PAYLOAD.length + 1;

/** No followers: shared by every tail that has none of a kind. */
const NONE: readonly Follower[] = [];

// Tails with events waiting for the end of the tick, flushed by one setImmediate for all.
let dueTails: Tail[] = [];

function flushDue(): void {
  const due = dueTails;
  dueTails = [];
  for (const tail of due) tail.flushAtTickEnd();
}

/** With `entry` added, as a new list (a literal for the first: a spread of none reserves room for 17). */
function withAdded(list: readonly Follower[], entry: Follower): readonly Follower[] {
  return list.length === 0 ? [entry] : [...list, entry];
}

/** Without `entry`, as a new list (lists are replaced, never changed, so an iteration keeps its own). */
function without(list: readonly Follower[], entry: Follower): readonly Follower[] {
  const at = list.indexOf(entry);
  if (at < 0) return list;
  return list.length === 1 ? NONE : [...list.slice(0, at), ...list.slice(at + 1)];
}

/**
 * The tail as a class, one per session with connections on this node: its methods live on the
 * prototype, it is itself the `LiveRun` its sinks read, and what only publishing needs (the
 * tick's arrays, the batch memo) is made on the first event. The followers are kept in small
 * arrays that are replaced on follow and unfollow (a session most often has one connection).
 */
class Tail implements LiveTail, LiveRun {
  private immediate: readonly Follower[] = NONE;
  private batching: readonly Follower[] = NONE;
  // This tick's events, the first `count` entries, with their payloads' JSON and (made only when a
  // sink needs one alone) their frames' texts, index for index. The arrays are kept from tick to
  // tick (regrowing them per tick was much of the fan-out's garbage), made on the first event.
  private events: Array<StoredEvent | undefined> | undefined;
  private payloads: Array<string | undefined> | undefined;
  private texts: Array<string | undefined> | undefined;
  count = 0;
  private due = false;
  // The smallest batch a batching sink wants: a flush hands over at most that many to each.
  private flushEvery = Infinity;
  private batches: Map<number, BatchMemo> | undefined;

  event(index: number): StoredEvent {
    return (this.events as StoredEvent[])[index] as StoredEvent;
  }

  private payloadAt(index: number): string {
    const payloads = this.payloads as Array<string | undefined>;
    return (payloads[index] ??= rememberedPayloadJson(this.event(index).event) ?? JSON.stringify(this.event(index).event));
  }

  text(index: number): string {
    const texts = this.texts as Array<string | undefined>;
    return (texts[index] ??= encodeEventFrame(this.event(index).seq, this.event(index).event));
  }

  batch(from: number, to: number, maxFrames: number, maxChars: number): BatchMemo {
    const memo = this.batches?.get(from);
    if (memo !== undefined && memo.to === to && memo.maxFrames === maxFrames && memo.maxChars === maxChars) return memo;
    // The members written straight into one text, as encodeEventFrame writes each (appended
    // pieces are only linked until the text is read, then copied once).
    let text = BATCH_OPEN;
    let end = from;
    let chars = 0;
    for (; end < to && end - from < maxFrames; end++) {
      const seq = String(this.event(end).seq);
      const payload = this.payloadAt(end);
      const length = EVENT_FRAME_CHARS + seq.length + payload.length;
      if (end > from && chars + length > maxChars) break;
      chars += length;
      text += `${end > from ? ',' : ''}${EVENT_OPEN}${seq}${EVENT_PAYLOAD}${payload}}`;
    }
    // A batch of one is just noise on the wire: the event goes alone.
    text = end - from === 1 ? this.text(from) : `${text}]}`;
    const made = { to, maxFrames, maxChars, end, text };
    (this.batches ??= new Map()).set(from, made);
    return made;
  }

  take(entry: Follower): void {
    if (entry.from >= this.count) return;
    const from = entry.from;
    entry.from = this.count;
    entry.sink.sendRun(this, from, this.count);
  }

  /** Every batching sink takes what waits for it; then the tick's arrays start over. */
  private flush(): void {
    for (const entry of this.batching) if (!entry.left) this.take(entry);
    const count = this.count;
    this.events?.fill(undefined, 0, count);
    this.payloads?.fill(undefined, 0, count);
    this.texts?.fill(undefined, 0, count);
    this.count = 0;
    this.batches?.clear();
    for (const entry of this.batching) entry.from = 0;
  }

  flushAtTickEnd(): void {
    this.due = false;
    this.flush();
  }

  append(event: StoredEvent): void {
    if (this.immediate.length > 0) {
      const text = encodeEventFrame(event.seq, event.event);
      for (const entry of this.immediate) if (!entry.left) entry.sink.sendEvent(event, text);
    }
    if (this.batching.length === 0) return;
    if (this.events === undefined) {
      this.events = [];
      this.payloads = [];
      this.texts = [];
    }
    this.events[this.count] = event;
    this.count++;
    if (this.count >= this.flushEvery) this.flush();
    else if (!this.due) {
      this.due = true;
      if (dueTails.length === 0) setImmediate(flushDue);
      dueTails.push(this);
    }
  }

  follow(sink: LiveSink): LiveFollow {
    const entry = new Follower(this, sink);
    if (sink.batches) {
      this.batching = withAdded(this.batching, entry);
      this.flushEvery = Math.min(this.flushEvery, sink.maxBatchFrames);
    } else this.immediate = withAdded(this.immediate, entry);
    return entry;
  }

  unfollow(entry: Follower): void {
    entry.left = true;
    this.immediate = without(this.immediate, entry);
    this.batching = without(this.batching, entry);
  }
}

/** Create the tail of a session (once, when its first connection on this node follows it). */
export function createLiveTail(): LiveTail {
  return new Tail();
}
