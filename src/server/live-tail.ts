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

interface Entry {
  readonly sink: LiveSink;
  /** Index of the first event of this tick the sink has not taken. */
  from: number;
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

// Tails with events waiting for the end of the tick, flushed by one setImmediate for all.
let dueTails: Array<() => void> = [];

function flushDue(): void {
  const due = dueTails;
  dueTails = [];
  for (const flush of due) flush();
}

/** Create the tail of a session (once, when its first connection on this node follows it). */
export function createLiveTail(): LiveTail {
  const immediate = new Set<Entry>();
  const batching = new Set<Entry>();
  // This tick's events, the first `count` entries, with their payloads' JSON and (made only when a
  // sink needs one alone) their frames' texts, index for index. The arrays are kept from tick to
  // tick (regrowing them per tick was much of the fan-out's garbage).
  const events: Array<StoredEvent | undefined> = [];
  const payloads: Array<string | undefined> = [];
  const texts: Array<string | undefined> = [];
  let count = 0;

  const payloadAt = (index: number): string => {
    const event = events[index] as StoredEvent;
    return (payloads[index] ??= rememberedPayloadJson(event.event) ?? JSON.stringify(event.event));
  };
  const textAt = (index: number): string => (texts[index] ??= encodeEventFrame((events[index] as StoredEvent).seq, (events[index] as StoredEvent).event));
  let due = false;
  // The smallest batch a batching sink wants: a flush hands over at most that many to each.
  let flushEvery = Infinity;
  const batches = new Map<number, BatchMemo>();

  const run: LiveRun = {
    event: (index) => events[index] as StoredEvent,
    text: textAt,
    batch(from, to, maxFrames, maxChars) {
      const memo = batches.get(from);
      if (memo !== undefined && memo.to === to && memo.maxFrames === maxFrames && memo.maxChars === maxChars) return memo;
      // The members written straight into one text, as encodeEventFrame writes each (appended
      // pieces are only linked until the text is read, then copied once).
      let text = BATCH_OPEN;
      let end = from;
      let chars = 0;
      for (; end < to && end - from < maxFrames; end++) {
        const seq = String((events[end] as StoredEvent).seq);
        const payload = payloadAt(end);
        const length = EVENT_FRAME_CHARS + seq.length + payload.length;
        if (end > from && chars + length > maxChars) break;
        chars += length;
        text += `${end > from ? ',' : ''}${EVENT_OPEN}${seq}${EVENT_PAYLOAD}${payload}}`;
      }
      // A batch of one is just noise on the wire: the event goes alone.
      text = end - from === 1 ? textAt(from) : `${text}]}`;
      const made = { to, maxFrames, maxChars, end, text };
      batches.set(from, made);
      return made;
    },
  };

  const take = (entry: Entry): void => {
    if (entry.from >= count) return;
    const from = entry.from;
    entry.from = count;
    entry.sink.sendRun(run, from, count);
  };

  /** Every batching sink takes what waits for it; then the tick's arrays start over. */
  const flush = (): void => {
    for (const entry of batching) take(entry);
    events.fill(undefined, 0, count);
    payloads.fill(undefined, 0, count);
    texts.fill(undefined, 0, count);
    count = 0;
    batches.clear();
    for (const entry of batching) entry.from = 0;
  };

  const flushAtTickEnd = (): void => {
    due = false;
    flush();
  };

  return {
    append(event) {
      if (immediate.size > 0) {
        const text = encodeEventFrame(event.seq, event.event);
        for (const entry of immediate) entry.sink.sendEvent(event, text);
      }
      if (batching.size === 0) return;
      events[count] = event;
      count++;
      if (count >= flushEvery) flush();
      else if (!due) {
        due = true;
        if (dueTails.length === 0) setImmediate(flushDue);
        dueTails.push(flushAtTickEnd);
      }
    },
    follow(sink) {
      const entry: Entry = { sink, from: count };
      if (sink.batches) {
        batching.add(entry);
        flushEvery = Math.min(flushEvery, sink.maxBatchFrames);
      } else immediate.add(entry);
      return {
        take: () => take(entry),
        unfollow() {
          immediate.delete(entry);
          batching.delete(entry);
        },
      };
    },
  };
}
