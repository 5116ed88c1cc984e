// A join's replay after its first page, read from the log one page at a time as the outbox asks
// (outbox.ts paces it by the socket). The join fixed the replay's end (`head`) in the session's
// queue and subscribed, so every event after it reaches the connection live, behind the replay.
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
}

/**
 * The events of `sessionId` in (`after`, `head`], `pageEvents` at a time. Events the log trimmed
 * meanwhile are skipped (the client's gap tracker reports the jump); when the log holds none of
 * the rest, the replay ends there and the jump comes with the first live event.
 */
export function replayPages(log: EventLog, sessionId: string, after: number, head: number, pageEvents: number, hooks: ReplayPagesHooks): ReplaySource {
  let cursor = after;
  let reportedTrim = false;
  return {
    async next(): Promise<ReplayPage> {
      const { events: read } = await log.readAfter(sessionId, cursor, Math.min(pageEvents, head - cursor));
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
