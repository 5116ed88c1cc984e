// Fan-out of delivered events to async iterators, bounded. Each iterator queues at most
// `maxBufferedEvents`; at the bound the client is told to pause (it leaves the gateway and rejoins
// from its cursor once every iterator has read its queue down to half): replay is the
// backpressure, so nothing is lost and memory stays bounded, in browsers too, where a WebSocket
// cannot stop reading. Events delivered before the first `events()` call are kept, up to the same
// bound, for it, so `await connect(); for await (… of events())` misses nothing in between.
import type { GatewayConnectError } from './errors.js';
import type { GatewayEvent } from './types.js';

/** Events one `events()` iterator may queue before the client pauses the connection. @default 10000 */
export const DEFAULT_MAX_BUFFERED_EVENTS = 10_000;

/** What the fan-out tells the client. */
export interface EventStreamHooks {
  /** An iterator's queue reached the bound: leave the gateway until `drained`. Called on every push at or past it. */
  overflow(buffered: number): void;
  /** After an overflow, every iterator is back to at most half the bound: rejoin. */
  drained(): void;
  /** No iterator or `onEvent` listener took the first `maxBufferedEvents` events: they were dropped. */
  earlyDropped(count: number): void;
}

/** The event fan-out of one client. */
export interface EventStreams {
  push(event: GatewayEvent): void;
  /** End every open iterator: cleanly (`null`) or by throwing `error`, after its queued events. */
  finish(error: GatewayConnectError | null): void;
  iterable(): AsyncIterable<GatewayEvent>;
  /** Stop keeping early events (no iterator has been opened; the app consumes by listener). */
  dropEarly(): void;
  /** The longest queue of any open iterator. */
  readonly buffered: number;
  /** True from an overflow until the queues are back to half the bound. */
  readonly overflowed: boolean;
}

interface Stream {
  readonly backlog: number;
  push(event: GatewayEvent): void;
  finish(error: GatewayConnectError | null): void;
}

interface Reader {
  resolve(result: IteratorResult<GatewayEvent>): void;
  reject(error: GatewayConnectError): void;
}

const DONE: IteratorResult<GatewayEvent> = { done: true, value: undefined };

/** The iterator of one `events()` loop, with its own bounded queue. */
function openStream(fanout: Fanout, initial: GatewayEvent[]): AsyncIterator<GatewayEvent> {
  const queue = initial;
  let head = 0;
  let ended = false;
  let failure: GatewayConnectError | null = null;
  // Concurrent next() calls wait here in call order; each one settles.
  const readers: Reader[] = [];

  function take(): GatewayEvent {
    const value = queue[head++] as GatewayEvent;
    // Compact now and then so a long-lived iterator does not keep every event.
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    return value;
  }

  function end(): void {
    ended = true;
    fanout.remove(stream);
  }

  const stream: Stream = {
    get backlog() {
      return queue.length - head;
    },
    push(event) {
      const reader = readers.shift();
      if (reader) return reader.resolve({ done: false, value: event });
      queue.push(event);
      const backlog = queue.length - head;
      if (backlog >= fanout.maxBuffered) fanout.overflow(backlog);
    },
    finish(error) {
      end();
      // Queued events are still read first; readers waiting now have nothing left to read.
      const waiting = readers.splice(0);
      const first = waiting.shift();
      if (first && error !== null) first.reject(error);
      else if (first) first.resolve(DONE);
      else failure = error;
      for (const reader of waiting) reader.resolve(DONE);
    },
  };
  fanout.add(stream);

  return {
    next(): Promise<IteratorResult<GatewayEvent>> {
      if (head < queue.length) {
        const value = take();
        if (fanout.overflowed) fanout.checkDrained();
        return Promise.resolve({ done: false, value });
      }
      if (ended) {
        if (failure === null) return Promise.resolve(DONE);
        const error = failure;
        failure = null;
        return Promise.reject(error);
      }
      return new Promise((resolve, reject) => readers.push({ resolve, reject }));
    },
    return(): Promise<IteratorResult<GatewayEvent>> {
      if (!ended) end();
      queue.length = 0;
      head = 0;
      for (const reader of readers.splice(0)) reader.resolve(DONE);
      return Promise.resolve(DONE);
    },
  };
}

// A class whose queues are made when first needed: a client that is never iterated holds two
// nulls, and the early buffer starts at its first event (bench/README.md, memory).
class Fanout implements EventStreams {
  private streams: Set<Stream> | null = null;
  /** Keeping early events for a first `events()` loop: until one opens, or `dropEarly`. */
  private keepEarly = true;
  private early: GatewayEvent[] | null = null;
  overflowed = false;

  constructor(
    readonly maxBuffered: number,
    private readonly hooks: EventStreamHooks,
  ) {}

  push(event: GatewayEvent): void {
    if (this.keepEarly) {
      const early = (this.early ??= []);
      if (early.length < this.maxBuffered) early.push(event);
      else {
        // Nobody is reading: keeping more would grow without bound, and pausing would stall an
        // app that never reads events. Drop them and say so; a later events() starts from now.
        const count = early.length;
        this.dropEarly();
        this.hooks.earlyDropped(count);
      }
    }
    const streams = this.streams;
    if (streams !== null) for (const stream of streams) stream.push(event);
  }

  finish(error: GatewayConnectError | null): void {
    // The client stopped: nothing to resume, so the streams' end is no `drained`.
    this.overflowed = false;
    if (this.streams !== null) for (const stream of [...this.streams]) stream.finish(error);
  }

  iterable(): AsyncIterable<GatewayEvent> {
    return { [Symbol.asyncIterator]: () => this.open() };
  }

  dropEarly(): void {
    this.keepEarly = false;
    this.early = null;
  }

  get buffered(): number {
    let most = 0;
    if (this.streams !== null) for (const stream of this.streams) most = Math.max(most, stream.backlog);
    return most;
  }

  /** Called by a queue at or past the bound: pause the connection. */
  overflow(backlog: number): void {
    this.overflowed = true;
    this.hooks.overflow(backlog);
  }

  /** A queue shrank or went away: resume once every queue is at most half full. */
  checkDrained(): void {
    if (!this.overflowed || this.buffered > Math.floor(this.maxBuffered / 2)) return;
    this.overflowed = false;
    this.hooks.drained();
  }

  add(stream: Stream): void {
    (this.streams ??= new Set()).add(stream);
  }

  remove(stream: Stream): void {
    this.streams?.delete(stream);
    this.checkDrained();
  }

  private open(): AsyncIterator<GatewayEvent> {
    const initial = this.early ?? [];
    this.dropEarly();
    return openStream(this, initial);
  }
}

/** Create the fan-out; each `iterable()` iteration gets its own queue of at most `maxBuffered`. */
export function createEventStreams(maxBuffered: number, hooks: EventStreamHooks): EventStreams {
  return new Fanout(maxBuffered, hooks);
}
