// Messages the gateway asked to have again (an `error` naming the message with `wait_then_retry`:
// `message_in_flight`, `unavailable`): each is resent under its id after the hint, on the
// client's clock. A new connection's flush resends every pending message anyway, so it cancels them.
import type { ClientClock } from './types.js';

/** The resend timers of the outbox's messages, at most one per message. */
export interface MessageRetries {
  /** Resend `id` after `afterMs` (a later call for the same id replaces the earlier timer). */
  schedule(id: string, afterMs: number): void;
  /** Drop every timer (a flush resends everything, or the client stopped). */
  cancelAll(): void;
}

/** Create the timers; `resend` writes the message if it is still pending and the client is joined. */
export function createMessageRetries(clock: ClientClock, resend: (id: string) => void): MessageRetries {
  const timers = new Map<string, unknown>();
  return {
    schedule(id, afterMs) {
      const earlier = timers.get(id);
      if (earlier !== undefined) clock.clearTimeout(earlier);
      timers.set(
        id,
        clock.setTimeout(() => {
          timers.delete(id);
          resend(id);
        }, afterMs),
      );
    },
    cancelAll() {
      for (const timer of timers.values()) clock.clearTimeout(timer);
      timers.clear();
    },
  };
}
