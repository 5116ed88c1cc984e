// A join's replay after its first page, read from the log one page at a time as the outbox asks
// (outbox.ts paces it by the socket). The join fixed the replay's end (`head`) in the session's
// queue and subscribed, so every event after it reaches the connection live, behind the replay.
// Every page must be of the epoch the join answered in: a page of another history (reset, or
// moved after Redis lost writes) is never sent as a continuation; the connection resumes instead.
import type { ReplayFrame } from '../protocol/index.js';
import type { EventLog, StoredEvent } from './event-log.js';
import type { ReplayPage, ReplaySource } from './outbox.js';

/** A stored event as a replay frame. */
export function replayFrame(stored: StoredEvent): ReplayFrame {
  return { type: 'replay', seq: stored.seq, event: stored.event };
}

/** What the pages report as they are read. */
export interface ReplayPagesHooks {
  /** A page was read with this many events. */
  read(events: number): void;
  /** The log trimmed events the replay had not reached yet (publishes outran it): the client sees the jump as a gap. */
  trimmed(): void;
  /**
   * The session's history is no longer `epoch`'s: the connection must resume (close 1001), and
   * its resume is answered with the epoch gap (PROTOCOL.md section 4). No page follows.
   */
  moved(reason: string): void;
}

/** Which replay to read: the events of `sessionId` in `epoch`, in (`after`, `head`], `pageEvents` at a time. */
export interface ReplayRange {
  readonly sessionId: string;
  readonly epoch: string;
  readonly after: number;
  readonly head: number;
  readonly pageEvents: number;
}

/**
 * The pages of `range`. Events the log trimmed meanwhile are skipped (the client's gap tracker
 * reports the jump); when the log holds none of the rest, the replay ends there and the jump comes
 * with the first live event. A page read in another epoch ends the replay with `hooks.moved`.
 */
export function replayPages(log: EventLog, range: ReplayRange, hooks: ReplayPagesHooks): ReplaySource {
  const { sessionId, epoch, head, pageEvents } = range;
  let cursor = range.after;
  let reportedTrim = false;
  return {
    async next(): Promise<ReplayPage> {
      const page = await log.readAfter(sessionId, cursor, Math.min(pageEvents, head - cursor));
      if (page.epoch !== epoch) {
        hooks.moved('epoch changed');
        return { frames: [], done: true };
      }
      const read = page.events;
      const events = read.filter((event) => event.seq <= head);
      hooks.read(events.length);
      // The next seq the log holds, or past the head when it holds none of the rest.
      const next = Math.min(read[0]?.seq ?? head + 1, head + 1);
      if (next > cursor + 1 && !reportedTrim) {
        reportedTrim = true;
        hooks.trimmed();
      }
      cursor = events[events.length - 1]?.seq ?? head;
      return { frames: events.map(replayFrame), done: cursor >= head };
    },
  };
}
