// Group commit of the app's publishes: the publishes that queue for one session while its
// previous burst is being stored go to the log together, in one `append` (one script and one
// round trip on Redis, one pub/sub message to the other nodes). Bursts run in the session's queue
// like every other log access, and a publish joins a burst only while that burst is the queue's
// last task, so no publish overtakes a join or a snapshot queued after it. A burst never waits
// for company: one publish awaited at a time still costs exactly one round trip.
// A log that stores at once (in memory) gets a publish with nothing ahead of it inside the publish
// call, as a burst of one, so it delivers at once with no promise chain per event. A log that
// answers later gets it one microtask later, with every publish made in the same turn: started at
// once, the first publish alone would split the publishers into two cohorts that take turns (a
// burst of one, then one of all the others), halving what each round trip carries.
import { rememberedPayloadJson } from '../protocol/codec.js';
import type { AppendEntry, AppendResult, EventLog } from './event-log.js';
import { isThenable } from './serial-queue.js';
import type { LiveSession } from './session-registry.js';

/** Most events in one burst: bounds one script call and one pub/sub message. */
export const MAX_BURST_EVENTS = 256;

/**
 * Most payload bytes (as JSON) in one burst, unless its first event alone is larger: Redis ends a
 * subscriber whose output buffer passes 32 MB (`client-output-buffer-limit pubsub`), and one
 * burst is one message on every subscribed node.
 */
export const MAX_BURST_BYTES = 1_048_576;

/** What the bursts need from their gateway. */
export interface PublishBurstsHost {
  readonly log: EventLog;
  /** Before a burst is stored, in the session's queue: load the session (throws when unknown). */
  load(session: LiveSession): Promise<void> | void;
  /** One event of a burst was stored (or found a duplicate): count it and hand it to the live feed. */
  stored(session: LiveSession, result: AppendResult): void;
  /** A failure of the log as the error a publish rejects with. */
  failure(error: unknown): unknown;
}

/** Publishes of one session waiting to be stored together. */
interface Burst {
  readonly entries: AppendEntry[];
  readonly settle: Array<{ resolve(seq: number): void; reject(error: unknown): void }>;
  bytes: number;
  /** The queue's `queued` count once this burst was queued: still equal, it is the last task. */
  readonly ticket: number;
}

/** The bursts of one gateway. */
export interface PublishBursts {
  /**
   * Store `entry` with the session's next burst: its seq, at once when the log stored it inside
   * this call, or a promise. Throws the log's failure (as `host.failure` made it) when a burst
   * of one stored at once failed at once.
   */
  publish(session: LiveSession, entry: AppendEntry): number | Promise<number>;
}

/** Payload bytes of an entry, as the JSON the gateway made at publish (0 when none was kept). */
const bytesOf = (entry: AppendEntry): number => rememberedPayloadJson(entry.event)?.length ?? 0;

/** Create the bursts of one gateway. */
export function createPublishBursts(host: PublishBurstsHost): PublishBursts {
  // Only bursts not yet being stored: a burst leaves as its turn in the queue comes.
  const open = new Map<LiveSession, Burst>();
  // Set once an append answered with a promise: from then on, bursts only.
  let answersLater = false;

  /** May `bytes` more join `burst`? Only while it is the queue's last task and within its bounds. */
  const joinable = (burst: Burst, session: LiveSession, bytes: number): boolean =>
    burst.ticket === session.queue.queued && burst.entries.length < MAX_BURST_EVENTS && burst.bytes + bytes <= MAX_BURST_BYTES;

  function checked(results: readonly AppendResult[], size: number): readonly AppendResult[] {
    if (results.length !== size) throw new RangeError(`The log returned ${results.length} results for a burst of ${size} events.`);
    return results;
  }

  /** The one result of a burst of one, handed to the host. */
  function storedOne(session: LiveSession, results: readonly AppendResult[]): number {
    const result = checked(results, 1)[0]!;
    host.stored(session, result);
    return result.seq;
  }

  /** A burst of one, stored inside the publish call when nothing is ahead of it. */
  function storeNow(session: LiveSession, entry: AppendEntry): number | Promise<number> {
    let appended: readonly AppendResult[] | Promise<readonly AppendResult[]>;
    try {
      appended = host.log.append(session.id, [entry]);
    } catch (error) {
      throw host.failure(error);
    }
    if (!isThenable(appended)) return storedOne(session, appended);
    answersLater = true;
    return Promise.resolve(appended).then(
      (results) => storedOne(session, results),
      (error: unknown) => {
        throw host.failure(error);
      },
    );
  }

  async function store(session: LiveSession, burst: Burst): Promise<void> {
    if (open.get(session) === burst) open.delete(session);
    let results: readonly AppendResult[];
    try {
      await host.load(session);
      results = checked(await host.log.append(session.id, burst.entries), burst.entries.length);
    } catch (error) {
      const failure = host.failure(error);
      for (const waiter of burst.settle) waiter.reject(failure);
      return;
    }
    results.forEach((result, i) => {
      const waiter = burst.settle[i]!;
      try {
        host.stored(session, result);
        waiter.resolve(result.seq);
      } catch (error) {
        waiter.reject(error);
      }
    });
  }

  function openBurst(session: LiveSession): Burst {
    const burst: Burst = { entries: [], settle: [], bytes: 0, ticket: session.queue.queued + 1 };
    open.set(session, burst);
    // store() settles every publish of the burst itself and never rejects.
    void session.queue.run(() => store(session, burst));
    return burst;
  }

  return {
    publish(session, entry) {
      const bytes = bytesOf(entry);
      let burst = open.get(session);
      if (burst === undefined || !joinable(burst, session, bytes)) {
        // Nothing ahead of it and a log that stores at once: stored now. Otherwise it starts the
        // burst that waits its turn (at least the microtask in which the queue starts a task).
        if (!answersLater && session.record !== undefined && session.queue.pending === 0) return session.queue.runNow(() => storeNow(session, entry));
        burst = openBurst(session);
      }
      const joined = burst;
      return new Promise<number>((resolve, reject) => {
        joined.entries.push(entry);
        joined.settle.push({ resolve, reject });
        joined.bytes += bytes;
      });
    },
  };
}
