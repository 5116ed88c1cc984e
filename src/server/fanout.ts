// Live delivery over the fleet's live feed (fleet.ts): Redis pub/sub across gateway nodes, or the
// in-process feed of a node alone. Each node subscribes to the sessions it holds connections for,
// and delivers every event to them exactly once and in order, whichever node published it (its
// own publishes come back the same way). Pub/sub may drop or reorder around reconnects, so the
// feed keeps `last`, the seq delivered to every local connection, parks early arrivals, and fills
// holes from the log (`readAfter`, whose epoch must still be the feed's).
// A join closes the subscribe-then-replay race: subscribe, read the position, anchor the feed,
// then fix the replay's end at `last` and join the feed in the same synchronous step (the replay
// itself is read in pages afterwards, up to that end).
import { LogError, positionAt, type EventLog, type LogPosition, type StoredEvent } from './event-log.js';
import type { LiveEvent, LiveFeed, Unsubscribe } from './fleet.js';
import type { Logger } from 'pino';
import { SESSION_GONE, type LiveSession } from './session-registry.js';

/** One session's feed on this node. */
interface Feed {
  /** The epoch the local connections follow; undefined until the first join anchors the feed. */
  epoch: string | undefined;
  /** Highest seq delivered to every local connection (or covered by their replay). */
  last: number;
  /** Events that arrived before the feed was anchored. */
  early: LiveEvent[] | undefined;
  /** Events that arrived ahead of a hole, by seq. */
  parked: Map<number, LiveEvent> | undefined;
  repairing: Promise<void> | undefined;
  /** An arrival was not parked (the bound) while a repair ran: it may have read before that event was stored. */
  unparked: boolean;
  unsubscribe: Unsubscribe | undefined;
}

/** What the fan-out needs from its gateway. */
export interface FanoutHost {
  readonly log: EventLog;
  /** The fleet's live feed. */
  readonly feed: LiveFeed;
  readonly logger: Logger;
  /** The live session entry (its subscribers are the local connections). */
  find(sessionId: string): LiveSession | undefined;
  /** Count a delivery to one connection (metrics). */
  delivered?(count: number): void;
  /** Events a repair reads from the log at a time. @default 128 */
  readonly pageEvents?: number;
  /**
   * The session no longer exists: some node ended it (its notice came through the feed), or it
   * was found gone after the feed came back. End its connections here with `session_expired`.
   */
  ended(sessionId: string, reason: string): void;
}

/** The fan-out of one gateway node. */
export interface Fanout {
  /**
   * In a join, inside the session's queue: subscribe if needed, anchor the feed to where the
   * log stands, and return the position with `head` raised to what the feed has delivered.
   */
  align(session: LiveSession, readPosition: () => Promise<LogPosition>): Promise<LogPosition>;
  /**
   * Where a join's replay ends: the feed's `last`. Trims `firstPage` (the replay's first page)
   * to end there; the pages after it are read up to that head. The caller must add its
   * subscriber right after, with no await in between, so events past the head come live.
   */
  replayEnd(session: LiveSession, firstPage: StoredEvent[], head: number): number;
  /**
   * The last local connection of a session left, or a join that subscribed never joined (the
   * socket closed, the store failed): unsubscribe (in the session's queue), dropping what it held.
   */
  release(session: LiveSession): void;
  /** Stop every subscription. */
  close(): Promise<void>;
  /** What the fan-out holds now: subscribed feeds, and events parked or kept early across them. */
  stats(): FanoutStats;
}

/** The fan-out's holdings, for metrics and tests. */
export interface FanoutStats {
  /** Sessions this node is subscribed to. */
  readonly feeds: number;
  /** Events waiting behind a hole, over every feed (at most `replayWindow` each). */
  readonly parked: number;
  /** Events kept before a feed was anchored, over every feed (at most 10,000 each). */
  readonly early: number;
}

/** Bound on events parked before a feed is anchored: past it, the oldest go (a later join re-reads them). */
const MAX_EARLY = 10_000;

/** Create the fan-out of one node over its fleet's live feed. */
export function createFanout(host: FanoutHost): Fanout {
  const { log, feed: liveFeed, logger } = host;
  const pageEvents = host.pageEvents ?? 128;
  // A repair reads at most the window plus one page: past that, the next event's hole resumes it.
  const maxRepairPages = Math.ceil(log.replayWindow / pageEvents) + 1;
  const maxParked = log.replayWindow;
  const feeds = new Map<string, Feed>();

  function deliver(sessionId: string, feed: Feed, event: StoredEvent): void {
    feed.last = event.seq;
    const session = host.find(sessionId);
    if (!session) return;
    session.live?.append(event);
    host.delivered?.(session.subscribers.size);
  }

  function drainParked(sessionId: string, feed: Feed): void {
    const parked = feed.parked;
    if (parked === undefined) return;
    for (let next = parked.get(feed.last + 1); next; next = parked.get(feed.last + 1)) {
      parked.delete(next.seq);
      deliver(sessionId, feed, next);
    }
    for (const seq of parked.keys()) if (seq <= feed.last) parked.delete(seq);
    if (parked.size === 0 && feed.parked === parked) feed.parked = undefined;
  }

  /** The history moved to another epoch (Redis lost writes): local connections must resume. */
  function moved(sessionId: string, feed: Feed, why: string): void {
    logger.warn({ session: sessionId, from: feed.epoch, why }, 'session history moved; connections resume');
    feed.epoch = undefined;
    feed.last = 0;
    feed.early = undefined;
    feed.parked = undefined;
    const session = host.find(sessionId);
    for (const subscriber of [...(session?.subscribers ?? [])]) subscriber.restart(why);
  }

  function onEvent(sessionId: string, feed: Feed, event: LiveEvent): void {
    if (feed.epoch === undefined) {
      const early = (feed.early ??= []);
      if (early.length >= MAX_EARLY) early.shift();
      early.push(event);
      return;
    }
    if (event.epoch !== feed.epoch) return moved(sessionId, feed, 'epoch changed');
    if (event.seq <= feed.last) return;
    if (event.seq === feed.last + 1) {
      deliver(sessionId, feed, event);
      return drainParked(sessionId, feed);
    }
    // Bounded: a repair reads the whole window from `last`, so an arrival past the bound is
    // re-read from the log rather than kept (the hole may be one the log cannot fill).
    const parked = (feed.parked ??= new Map());
    if (parked.size < maxParked) parked.set(event.seq, event);
    else feed.unparked = true;
    void repair(sessionId, feed);
  }

  /** Fill the hole after `last` from the log; events beyond it arrive (or arrived) by the feed. */
  function repair(sessionId: string, feed: Feed): Promise<void> {
    feed.repairing ??= (async () => {
      try {
        const epoch = feed.epoch;
        for (let pass = 0; pass < maxRepairPages; pass++) {
          const page = await log.readAfter(sessionId, feed.last, pageEvents);
          // Released meanwhile: a later join's feed serves the session's connections now.
          if (feeds.get(sessionId) !== feed || feed.epoch !== epoch) return;
          // Another history under the same seqs: never a continuation of what was delivered.
          if (page.epoch !== epoch) return moved(sessionId, feed, 'epoch changed');
          for (const event of page.events) {
            if (feed.epoch !== epoch) return;
            // Past the window the log no longer holds the hole: deliver on, the client reports a gap.
            if (event.seq > feed.last) deliver(sessionId, feed, event);
          }
          drainParked(sessionId, feed);
          if (page.events.length < pageEvents) break;
        }
      } catch (error) {
        logger.warn({ session: sessionId, err: error instanceof Error ? error.message : String(error) }, 'feed repair failed; retried on the next event');
      } finally {
        feed.repairing = undefined;
        // One more pass, so an event left unparked is read from the log now, not at the next event.
        if (feed.unparked && feeds.get(sessionId) === feed) {
          feed.unparked = false;
          void repair(sessionId, feed);
        }
      }
    })();
    return feed.repairing;
  }

  /** After the feed came back: catch every held session up to the log, or notice it moved. */
  let restoring: Promise<void> | undefined;
  let restoreAgain = false;
  function restore(): void {
    // One pass at a time; a report during a pass asks for one more (it may follow a later drop).
    if (restoring) {
      restoreAgain = true;
      return;
    }
    restoring = (async () => {
      do {
        restoreAgain = false;
        await restoreAll();
      } while (restoreAgain);
    })().finally(() => {
      restoring = undefined;
    });
  }
  async function restoreAll(): Promise<void> {
    for (const [sessionId, feed] of [...feeds]) {
      if (feed.epoch === undefined) continue;
      try {
        const position = await log.position(sessionId);
        if (position.epoch !== feed.epoch) moved(sessionId, feed, 'epoch changed while the feed was down');
        // Twice at most: a repair already under way may have read before the feed came back.
        else for (let pass = 0; pass < 2 && position.head > feed.last; pass++) await repair(sessionId, feed);
      } catch (error) {
        // Ended while the feed was down, so its notice was missed: say so, never "moved".
        if (error instanceof LogError && error.code === 'session_not_found') host.ended(sessionId, SESSION_GONE);
        else moved(sessionId, feed, error instanceof Error ? error.message : String(error));
      }
    }
  }
  const stopRestore = liveFeed.onRestored(restore);

  return {
    async align(session, readPosition) {
      let feed = feeds.get(session.id);
      if (!feed) {
        const created: Feed = { epoch: undefined, last: 0, early: undefined, parked: undefined, repairing: undefined, unparked: false, unsubscribe: undefined };
        feeds.set(session.id, created);
        try {
          created.unsubscribe = await liveFeed.subscribe(
            session.id,
            (event) => onEvent(session.id, created, event),
            (reason) => host.ended(session.id, reason),
          );
        } catch (error) {
          feeds.delete(session.id);
          throw error;
        }
        feed = created;
      }
      // Read after subscribing: whatever this position misses, the feed brings.
      const position = await readPosition();
      if (feed.epoch !== undefined && feed.epoch !== position.epoch) moved(session.id, feed, 'epoch changed');
      if (feed.epoch === undefined) {
        feed.epoch = position.epoch;
        feed.last = position.head;
        const early = feed.early;
        feed.early = undefined;
        for (const event of early ?? []) onEvent(session.id, feed, event);
      }
      if (feed.last < position.head) await repair(session.id, feed);
      // The feed may have delivered events stored after the position was read (the store's reply
      // and the feed's message can be taken in one turn).
      return positionAt(position, Math.max(position.head, feed.last));
    },
    replayEnd(session, firstPage, head) {
      const feed = feeds.get(session.id);
      if (!feed) return head;
      while (firstPage.length > 0 && firstPage[firstPage.length - 1]!.seq > feed.last) firstPage.pop();
      return feed.last;
    },
    release(session) {
      if (session.subscribers.size > 0 || !feeds.has(session.id)) return;
      void session.queue.run(async () => {
        const feed = feeds.get(session.id);
        if (session.subscribers.size > 0 || !feed) return;
        feeds.delete(session.id);
        await feed.unsubscribe?.();
      });
    },
    stats() {
      let parked = 0;
      let early = 0;
      for (const feed of feeds.values()) {
        parked += feed.parked?.size ?? 0;
        early += feed.early?.length ?? 0;
      }
      return { feeds: feeds.size, parked, early };
    },
    async close() {
      stopRestore();
      const all = [...feeds.values()];
      feeds.clear();
      await Promise.all(all.map((f) => f.unsubscribe?.()));
    },
  };
}
