// Applies client messages once across a fleet (docs/scaling.md, "Client messages"): claim the id
// in the log (in flight under this process, with a lease), run the app's handlers while renewing
// the lease, record the id applied, and only then let the connection acknowledge it. It also
// knows what runs here, so a resend meeting its own node is answered without a store call and
// close() can wait for the handlers to finish.
import type { Logger } from 'pino';
import { type MessageFrame } from '../protocol/index.js';
import { assertNever } from '../protocol/assert-never.js';
import { every, type GatewayClock } from './clock.js';
import type { ClaimHolder, EventLog } from './event-log.js';
import type { SerialQueue } from './serial-queue.js';

/** The session a client message arrived on, as the app sees it. */
export interface GatewaySession {
  readonly id: string;
  readonly agentId: string;
  readonly epoch: string;
}

/**
 * Receives client `message` frames, once per message id. Return a promise to hold the `ack` until
 * it settles (a rejection is logged and still counts as applied). The message's `id` is the key
 * to dedupe the one case the gateway cannot: a crash between the side effect and its record.
 */
export type MessageHandler = (message: MessageFrame, session: GatewaySession) => unknown;

/** The retry hint for a message in flight is the lease left, within these bounds (ms). */
const RETRY_HINT_MIN_MS = 50;
const RETRY_HINT_MAX_MS = 1000;

/** What the connection answers a message with an id. */
export type MessageOutcome =
  /** Applied before: `ack` with `duplicate: true` at once. */
  | { readonly kind: 'duplicate' }
  /** Another holder's handlers may be running: `message_in_flight`, resend after `retryAfterMs`. */
  | { readonly kind: 'in_flight'; readonly retryAfterMs: number }
  /** Claimed here: `applied` settles (never rejects) once the handlers finished and the id was recorded; then `ack`. */
  | { readonly kind: 'running'; readonly applied: Promise<void> };

/** Client messages as the gateway applies them. */
export interface MessageApplier {
  /**
   * Claim `id` in the session's queue and, when the claim is this node's, start the handlers.
   * Rejects with the log's error when the claim could not be made (the store is unreachable).
   */
  apply(message: MessageFrame, id: string, session: GatewaySession, queue: SerialQueue): Promise<MessageOutcome>;
  /** Run the handlers for a message without id (no claim, no ack); settles when they finished. */
  run(message: MessageFrame, session: GatewaySession): Promise<void>;
  /** Settles once nothing runs here any more, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void>;
}

/** What {@link createMessageApplier} needs from its gateway. */
export interface MessageApplierOptions {
  readonly log: EventLog;
  readonly handlers: ReadonlySet<MessageHandler>;
  /** This gateway process, as the log's claims name it. */
  readonly owner: string;
  readonly leaseMs: number;
  /** Handlers still running after this are logged and the message counts as applied. */
  readonly handlerTimeoutMs: number;
  readonly clock: GatewayClock;
  readonly logger: Logger;
  /** The gateway's counters (`stats().counters`) this applier adds to. */
  readonly counters: { messageRetries: number; messageClaimsTakenOver: number; messageHandlerTimeouts: number };
}

/** Create the applier of one gateway process. */
export function createMessageApplier(options: MessageApplierOptions): MessageApplier {
  const { log, handlers, clock, logger, counters } = options;
  const holder: ClaimHolder = { owner: options.owner, leaseMs: options.leaseMs };
  /** Message ids whose claim or handlers are under way here, per session. */
  const busy = new Map<string, Set<string>>();
  const running = new Set<Promise<void>>();

  const isBusy = (sessionId: string, id: string): boolean => busy.get(sessionId)?.has(id) === true;
  const markBusy = (sessionId: string, id: string): void => {
    const ids = busy.get(sessionId) ?? new Set<string>();
    ids.add(id);
    busy.set(sessionId, ids);
  };
  const unmarkBusy = (sessionId: string, id: string): void => {
    const ids = busy.get(sessionId);
    ids?.delete(id);
    if (ids?.size === 0) busy.delete(sessionId);
  };

  const report = (error: unknown, session: GatewaySession): void => {
    logger.error({ err: error instanceof Error ? error.message : String(error), session: session.id }, 'message handler threw');
  };

  /**
   * Every handler, each isolated: one that throws or rejects is logged and counts as run, and so
   * does one still running after `handlerTimeoutMs` (its promise is left to settle on its own).
   */
  async function runHandlers(message: MessageFrame, session: GatewaySession): Promise<void> {
    const pending: Array<Promise<void>> = [];
    for (const handler of handlers) {
      try {
        const result = handler(message, session);
        if (isThenable(result)) pending.push(Promise.resolve(result).then(() => undefined, (error: unknown) => report(error, session)));
      } catch (error) {
        report(error, session);
      }
    }
    if (pending.length === 0) return;
    let timer: unknown;
    const timedOut = new Promise<void>((resolve) => {
      timer = clock.setTimeout(() => {
        counters.messageHandlerTimeouts++;
        logger.error({ session: session.id, message: message.id, timeoutMs: options.handlerTimeoutMs }, 'message handler timed out: counted as applied (messageHandlerTimeoutMs)');
        resolve();
      }, options.handlerTimeoutMs);
    });
    try {
      await Promise.race([Promise.all(pending), timedOut]);
    } finally {
      clock.clearTimeout(timer);
    }
  }

  /** Keep the lease while the handlers run; a renewal the store refuses is tried again at the next tick. */
  function renewWhileRunning(sessionId: string, id: string): () => void {
    let warned = false;
    return every(clock, Math.max(10, Math.floor(holder.leaseMs / 3)), () => {
      void Promise.resolve(log.renewMessageClaim(sessionId, id, holder)).then(
        (held) => {
          if (held || warned) return;
          warned = true;
          logger.warn({ session: sessionId, message: id }, 'message claim lost while its handlers run: another node took it over, so it may be applied twice');
        },
        () => undefined,
      );
    });
  }

  async function runClaimed(message: MessageFrame, id: string, session: GatewaySession, queue: SerialQueue): Promise<void> {
    const stopRenewing = renewWhileRunning(session.id, id);
    try {
      await runHandlers(message, session);
    } finally {
      stopRenewing();
    }
    try {
      const held = await queue.run(() => log.recordMessageApplied(session.id, id, holder.owner));
      if (!held) logger.warn({ session: session.id, message: id }, 'message claim lost: another node took it over while the handlers ran, so it may be applied twice');
    } catch (error) {
      // The handlers ran: the ack still goes out. The claim lapses; only a resend of a message
      // whose ack was lost too could meet it (docs/scaling.md, the crash window).
      logger.warn({ err: error instanceof Error ? error.message : String(error), session: session.id, message: id }, 'message applied but not recorded');
    }
  }

  function track(work: Promise<void>): Promise<void> {
    running.add(work);
    void work.finally(() => running.delete(work));
    return work;
  }

  return {
    async apply(message, id, session, queue) {
      if (isBusy(session.id, id)) {
        counters.messageRetries++;
        return { kind: 'in_flight', retryAfterMs: RETRY_HINT_MAX_MS };
      }
      markBusy(session.id, id);
      let claimed = false;
      try {
        const claim = await queue.run(() => log.claimMessage(session.id, id, holder));
        switch (claim.status) {
          case 'applied':
            return { kind: 'duplicate' };
          case 'in_flight':
            counters.messageRetries++;
            return { kind: 'in_flight', retryAfterMs: Math.min(RETRY_HINT_MAX_MS, Math.max(RETRY_HINT_MIN_MS, claim.leaseLeftMs)) };
          case 'claimed': {
            if (claim.takenOver) {
              counters.messageClaimsTakenOver++;
              logger.info({ session: session.id, message: id }, 'message claim taken over from a lapsed lease');
            }
            claimed = true;
            const applied = runClaimed(message, id, session, queue)
              .catch((error: unknown) => report(error, session))
              .finally(() => unmarkBusy(session.id, id));
            return { kind: 'running', applied: track(applied) };
          }
          default:
            return assertNever(claim);
        }
      } finally {
        if (!claimed) unmarkBusy(session.id, id);
      }
    },
    run(message, session) {
      return track(runHandlers(message, session));
    },
    async idle(timeoutMs) {
      if (running.size === 0) return;
      let timer: unknown;
      const late = new Promise<void>((resolve) => {
        timer = clock.setTimeout(resolve, timeoutMs);
      });
      const drained = (async () => {
        while (running.size > 0) await Promise.all(running);
      })();
      await Promise.race([drained, late]);
      clock.clearTimeout(timer);
    },
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
