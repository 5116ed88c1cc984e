// Deadlines on every call to Redis, and the watch that tells a stalled link from a quiet one.
// node-redis 6 bounds a command only until it is written (its `timeout` and `abortSignal` are
// dropped once the command is on the socket), and TCP cannot tell a route that stopped forwarding,
// or a Redis stopped with SIGSTOP, from a quiet link: without this a call waits out the whole
// partition. So each call races a deadline here, a PING checks the connection every
// `pingIntervalMs`, and a missed deadline marks the link down: calls then fail at once, and
// nothing more is written, so node-redis's `socketTimeout` (an idle timer that every write
// re-arms) ends the dead socket and its reconnect loop takes over. Its `ready` brings the link up,
// as does a late answer to a call that missed its deadline, or a PING sent now and then while down.
import { ErrorReply } from 'redis';
import { unrefTimer, type GatewayClock, type TimerHandle } from '../clock.js';
import { LogError } from '../event-log.js';

/** The deadlines of a {@link RedisLink}, all in ms. */
export interface RedisDeadlines {
  /** How long any one call may wait for its answer. */
  readonly commandTimeoutMs: number;
  /** How often an idle link is checked with a PING. */
  readonly pingIntervalMs: number;
  /** Calls waiting for an answer at once; one more is refused at once. */
  readonly maxPendingCalls: number;
  /** When a refused call should be retried. */
  readonly retryAfterMs: number;
}

/**
 * node-redis's socket idle timeout for a link with these deadlines: longer than the gap between
 * two PINGs of a healthy link (so it never fires there), and reached soon after a link went
 * down and stopped writing.
 */
export function socketTimeoutFor(deadlines: RedisDeadlines): number {
  return deadlines.pingIntervalMs + deadlines.commandTimeoutMs;
}

/**
 * Runs one Redis call, turning a connection failure into a {@link LogError} `unavailable`;
 * `extraMs` gives a call that blocks on purpose (WAIT) more time than the deadline.
 */
export type RedisCall = <T>(what: string, run: () => Promise<T>, extraMs?: number) => Promise<T>;

/** One connection (or cluster) a link watches. */
export interface LinkConnection {
  /** One round trip to every server behind it. */
  ping(): Promise<unknown>;
}

/** A watched Redis connection with deadlines. */
export interface RedisLink {
  /**
   * Run one call under the deadline (plus `extraMs` for a call that blocks on purpose, such as
   * WAIT) and the pending bound. Rejects with a {@link LogError} `unavailable` while the link is
   * down, at the bound, or when the deadline passes (which takes the link down); other failures
   * reject as they came.
   */
  run<T>(what: string, call: () => Promise<T>, extraMs?: number): Promise<T>;
  /** Is the link answering? */
  isUp(): boolean;
  /** Why it is down, for errors and logs. */
  reason(): string;
  /** The connection is (again) ready: the link is up, and checked at once. */
  ready(): void;
  /** The connection failed (node-redis reported an error): down until it is ready again. */
  failed(cause: unknown): void;
  /** Start the periodic PING. */
  start(): void;
  /** Stop the PING; calls in flight keep their deadlines. */
  stop(): void;
}

function message(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * A Redis error reply (a script's error, NOSCRIPT, WRONGTYPE, ...): the link works. node-redis 6
 * throws subclasses (SimpleError, BlobError), so a check of the class name misses most of them.
 */
export function isErrorReply(error: unknown): error is ErrorReply {
  return error instanceof ErrorReply;
}

/** Watch `connection` with `deadlines` on `clock`. The link starts down until {@link RedisLink.ready}. */
export function createRedisLink(name: string, connection: LinkConnection, deadlines: RedisDeadlines, clock: GatewayClock): RedisLink {
  let up = false;
  let why = `the ${name} connection is not open yet`;
  let pending = 0;
  let probing = false;
  let timer: TimerHandle | undefined;
  let downSince = clock.now();
  // While down, a PING only this rarely: between two, the idle socket has time to be replaced.
  const downProbeMs = socketTimeoutFor(deadlines) + deadlines.commandTimeoutMs;

  const down = (reason: string): void => {
    up = false;
    why = reason;
    downSince = clock.now();
  };

  /**
   * A call that missed its deadline was answered after all: the stall is over and the connection
   * works (no need to wait for node-redis to replace it).
   */
  const answeredLate = (): void => {
    up = true;
    why = '';
  };

  /** The call under its deadline, whatever the link's state (the probe uses this directly). */
  function bounded<T>(what: string, call: () => Promise<T>, extraMs: number): Promise<T> {
    const limitMs = deadlines.commandTimeoutMs + extraMs;
    pending++;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const expire = (): void => {
        if (settled) return;
        settled = true;
        // Stop writing: the idle socket is then ended by node-redis's socketTimeout and replaced.
        down(`Redis did not answer ${what} on the ${name} connection within ${limitMs} ms`);
        reject(new LogError('unavailable', `${why}; nothing more is sent until it reconnects.`, deadlines.retryAfterMs));
      };
      // One more turn of the event loop first: after a stall of this process (GC, CPU starvation)
      // timers run before pending I/O, and an answer already received must still count.
      const deadline = clock.setTimeout(() => unrefTimer(clock.setTimeout(expire, 0)), limitMs);
      unrefTimer(deadline);
      call().then(
        (value) => {
          if (settled) return answeredLate();
          settled = true;
          clock.clearTimeout(deadline);
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return isErrorReply(error) ? answeredLate() : undefined;
          settled = true;
          clock.clearTimeout(deadline);
          if (!isErrorReply(error) && !(error instanceof LogError)) down(`the ${name} connection failed: ${message(error)}`);
          reject(error);
        },
      );
    }).finally(() => {
      pending--;
    });
  }

  /**
   * PING while up; while down only every `downProbeMs`, for a link that went down without its
   * connection being replaced (so no `ready` follows): an answer brings it up.
   */
  function probe(): void {
    if (probing || (!up && clock.now() - downSince < downProbeMs)) return;
    probing = true;
    bounded('PING', () => connection.ping(), 0)
      .then(answeredLate, () => undefined)
      .finally(() => {
        probing = false;
      });
  }

  const tick = (): void => {
    timer = clock.setTimeout(tick, deadlines.pingIntervalMs);
    unrefTimer(timer);
    probe();
  };

  return {
    run(what, call, extraMs = 0) {
      if (!up) return Promise.reject(new LogError('unavailable', `Redis is unreachable (${what}): ${why}.`, deadlines.retryAfterMs));
      if (pending >= deadlines.maxPendingCalls) {
        return Promise.reject(
          new LogError('unavailable', `${pending} calls are already waiting on Redis (maxPendingCalls ${deadlines.maxPendingCalls}); ${what} was refused. Redis is slow or the node is overloaded.`, deadlines.retryAfterMs),
        );
      }
      return bounded(what, call, extraMs);
    },
    isUp: () => up,
    reason: () => why,
    ready() {
      up = true;
      why = '';
      probe();
    },
    failed(cause) {
      down(`the ${name} connection failed: ${message(cause)}`);
    },
    start() {
      if (timer !== undefined) return;
      timer = clock.setTimeout(tick, deadlines.pingIntervalMs);
      unrefTimer(timer);
    },
    stop() {
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
