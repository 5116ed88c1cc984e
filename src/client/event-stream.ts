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

/** Create the fan-out; each `iterable()` iteration gets its own queue of at most `maxBuffered`. */
export function createEventStreams(maxBuffered: number, hooks: EventStreamHooks): EventStreams {
  const streams = new Set<Stream>();
  let early: GatewayEvent[] | null = [];
  let overflowed = false;
  const resumeAt = Math.floor(maxBuffered / 2);

  function longest(): number {
    let most = 0;
    for (const stream of streams) most = Math.max(most, stream.backlog);
    return most;
  }

  /** A queue shrank or went away: resume once every queue is at most half full. */
  function checkDrained(): void {
    if (!overflowed || longest() > resumeAt) return;
    overflowed = false;
    hooks.drained();
  }

  function open(): AsyncIterator<GatewayEvent> {
    const queue: GatewayEvent[] = early ?? [];
    early = null;
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
      streams.delete(stream);
      checkDrained();
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
        if (backlog >= maxBuffered) {
          overflowed = true;
          hooks.overflow(backlog);
        }
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
    streams.add(stream);

    return {
      next(): Promise<IteratorResult<GatewayEvent>> {
        if (head < queue.length) {
          const value = take();
          if (overflowed) checkDrained();
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

  return {
    push(event) {
      if (early !== null) {
        if (early.length < maxBuffered) early.push(event);
        else {
          // Nobody is reading: keeping more would grow without bound, and pausing would stall an
          // app that never reads events. Drop them and say so; a later events() starts from now.
          const count = early.length;
          early = null;
          hooks.earlyDropped(count);
        }
      }
      for (const stream of streams) stream.push(event);
    },
    finish(error) {
      // The client stopped: nothing to resume, so the streams' end is no `drained`.
      overflowed = false;
      for (const stream of [...streams]) stream.finish(error);
    },
    iterable() {
      return { [Symbol.asyncIterator]: open };
    },
    dropEarly() {
      early = null;
    },
    get buffered() {
      return longest();
    },
    get overflowed() {
      return overflowed;
    },
  };
}
