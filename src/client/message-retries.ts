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

// A class whose Map is made with the first retry: most clients never see one (bench/README.md, memory).
class Retries implements MessageRetries {
  private timers: Map<string, unknown> | null = null;

  constructor(
    private readonly clock: ClientClock,
    private readonly resend: (id: string) => void,
  ) {}

  schedule(id: string, afterMs: number): void {
    const timers = (this.timers ??= new Map());
    const earlier = timers.get(id);
    if (earlier !== undefined) this.clock.clearTimeout(earlier);
    timers.set(
      id,
      this.clock.setTimeout(() => {
        timers.delete(id);
        this.resend(id);
      }, afterMs),
    );
  }

  cancelAll(): void {
    if (this.timers === null) return;
    for (const timer of this.timers.values()) this.clock.clearTimeout(timer);
    this.timers.clear();
  }
}

/** Create the timers; `resend` writes the message if it is still pending and the client is joined. */
export function createMessageRetries(clock: ClientClock, resend: (id: string) => void): MessageRetries {
  return new Retries(clock, resend);
}
