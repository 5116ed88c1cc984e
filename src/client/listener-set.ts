// Listener sets of the facade, each call isolated: a listener that throws is reported and the
// others still hear the value, so one buggy callback never breaks delivery, a batch or the socket.

/** The listeners of one kind (`onEvent`, `onState`, …). */
export interface ListenerSet<T> {
  /** Add a listener; returns its unsubscribe function. */
  add(listener: (value: T) => void): () => void;
  /** Call every listener with `value`; a throw is passed to the set's `failed` hook, never out. */
  emit(value: T): void;
  readonly size: number;
}

/**
 * Create a set whose failures go to `failed(cause, kind)`. `failed` must not throw itself; the
 * facade's reporter routes them to `onError` as `listener_error` with a recursion guard.
 */
export function createListenerSet<T>(kind: string, failed: (cause: unknown, kind: string) => void): ListenerSet<T> {
  const listeners = new Set<(value: T) => void>();
  return {
    add(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    emit(value) {
      for (const listener of listeners) {
        try {
          listener(value);
        } catch (cause) {
          failed(cause, kind);
        }
      }
    },
    get size() {
      return listeners.size;
    },
  };
}
