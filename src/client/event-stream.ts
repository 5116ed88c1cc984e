// Fan-out of delivered events to async iterators. Events delivered before the first `events()`
// call are kept (up to a bound) for it, so `await connect(); for await (… of events())` misses
// nothing that arrived in between. An app that listens with `onEvent` first does not iterate,
// so the buffer is dropped then rather than held for the client's whole life.
import type { GatewayConnectError } from './errors.js';
import type { GatewayEvent } from './types.js';

/** Events kept for the first iterator, at most. @default 10000 */
export const EARLY_EVENTS_LIMIT = 10_000;

interface Stream {
  push(event: GatewayEvent): void;
  finish(error: GatewayConnectError | null): void;
}

/** The event fan-out of one client. */
export interface EventStreams {
  push(event: GatewayEvent): void;
  /** End every open iterator: cleanly (`null`) or by throwing `error`. */
  finish(error: GatewayConnectError | null): void;
  iterable(): AsyncIterable<GatewayEvent>;
  /** Stop keeping early events (no iterator has been opened; the app consumes by listener). */
  dropEarly(): void;
}

/** Create the fan-out; each `iterable()` iteration gets its own queue. */
export function createEventStreams(): EventStreams {
  const streams = new Set<Stream>();
  let early: GatewayEvent[] | null = [];

  function open(): AsyncIterator<GatewayEvent> {
    const queue: GatewayEvent[] = early ?? [];
    early = null;
    let ended = false;
    let failure: GatewayConnectError | null = null;
    let wake: (() => void) | null = null;
    const stream: Stream = {
      push(event) {
        queue.push(event);
        wake?.();
      },
      finish(error) {
        ended = true;
        failure = error;
        streams.delete(stream);
        wake?.();
      },
    };
    streams.add(stream);
    let head = 0;
    return {
      async next(): Promise<IteratorResult<GatewayEvent>> {
        for (;;) {
          if (head < queue.length) {
            const value = queue[head++] as GatewayEvent;
            // Compact now and then so a long-lived iterator does not keep every event.
            if (head > 1024 && head * 2 > queue.length) {
              queue.splice(0, head);
              head = 0;
            }
            return { done: false, value };
          }
          if (ended) {
            if (failure !== null) {
              const error = failure;
              failure = null;
              throw error;
            }
            return { done: true, value: undefined };
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
        }
      },
      async return(): Promise<IteratorResult<GatewayEvent>> {
        ended = true;
        streams.delete(stream);
        return { done: true, value: undefined };
      },
    };
  }

  return {
    push(event) {
      if (early !== null && early.length < EARLY_EVENTS_LIMIT) early.push(event);
      for (const stream of streams) stream.push(event);
    },
    finish(error) {
      for (const stream of [...streams]) stream.finish(error);
    },
    iterable() {
      return { [Symbol.asyncIterator]: open };
    },
    dropEarly() {
      early = null;
    },
  };
}
