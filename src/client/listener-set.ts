// Listener sets of the facade, each call isolated: a listener that throws is reported and the
// others still hear the value, so one buggy callback never breaks delivery, a batch or the socket.
// An async listener's rejection is reported the same way, never left unhandled.
import type { InspectionEvent, Observer } from 'xstate';
import { connectError, type GatewayConnectError } from './errors.js';

/** The listeners of one kind (`onEvent`, `onState`, …). */
export interface ListenerSet<T> {
  /** Add a listener; returns its unsubscribe function. */
  add(listener: (value: T) => void): () => void;
  /** Call every listener with `value`; a throw, or a rejection of a promise it returns, goes to the set's `failed` hook, never out. */
  emit(value: T): void;
  readonly size: number;
}

// A class with its Set made on the first `add`: a client has five of these and most apps listen
// to one or two (bench/README.md, memory).
class Listeners<T> implements ListenerSet<T> {
  private listeners: Set<(value: T) => void> | null = null;

  constructor(
    private readonly kind: string,
    private readonly failed: (cause: unknown, kind: string) => void,
  ) {}

  add(listener: (value: T) => void): () => void {
    const listeners = (this.listeners ??= new Set());
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }

  emit(value: T): void {
    const listeners = this.listeners;
    if (listeners === null) return;
    for (const listener of listeners) {
      try {
        const result: unknown = listener(value);
        if (isThenable(result)) result.then(undefined, (cause: unknown) => this.failed(cause, this.kind));
      } catch (cause) {
        this.failed(cause, this.kind);
      }
    }
  }

  get size(): number {
    return this.listeners?.size ?? 0;
  }
}

/**
 * Create a set whose failures go to `failed(cause, kind)`. `failed` must not throw itself; the
 * facade's reporter routes them to `onError` as `listener_error` with a recursion guard. Call
 * `add` and `emit` on the set (they use `this`).
 */
export function createListenerSet<T>(kind: string, failed: (cause: unknown, kind: string) => void): ListenerSet<T> {
  return new Listeners<T>(kind, failed);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** The `inspect` option: a function or an observer such as `@statelyai/inspect`'s `{ next }`. */
type Inspector = ((event: InspectionEvent) => void) | Observer<InspectionEvent>;

/**
 * The `inspect` option, isolated like a listener: XState calls it in the middle of a transition
 * without a guard, so a throw there would break the chart's step. `failed` hears it instead.
 */
export function isolateInspector(inspect: Inspector, failed: (cause: unknown, kind: string) => void): (event: InspectionEvent) => void {
  const call = typeof inspect === 'function' ? inspect : (event: InspectionEvent) => inspect.next?.(event);
  return (event) => {
    try {
      call(event);
    } catch (cause) {
      failed(cause, 'inspect');
    }
  };
}

/** How one client reports its listeners' throws. */
export interface ListenerFailures {
  /** Listener calls that threw so far (`info.listenerErrors`). */
  readonly count: number;
  /** The `failed` hook of every listener set of the client. */
  failed(cause: unknown, kind: string): void;
}

// A class, not a closure per method: one per client (bench/README.md, memory).
class Failures implements ListenerFailures {
  count = 0;
  private reporting = false;

  constructor(private readonly report: (error: GatewayConnectError) => void) {}

  failed(cause: unknown, kind: string): void {
    this.count++;
    if (this.reporting) return;
    this.reporting = true;
    try {
      const why = cause instanceof Error ? cause.message : String(cause);
      this.report(connectError('listener_error', `An ${kind} listener threw: ${why}`, {}, cause));
    } finally {
      this.reporting = false;
    }
  }
}

/**
 * Report each listener throw to `report` (the `onError` listeners) as `listener_error`, with the
 * throw as its cause. A throw while hearing about a throw is only counted, so an `onError`
 * listener that always throws cannot loop. Call `failed` on the object (it uses `this`).
 */
export function createListenerFailures(report: (error: GatewayConnectError) => void): ListenerFailures {
  return new Failures(report);
}
