// Forget sessions nobody uses: no connection and no publish for `sessionTtlMs`, or, for a session
// created without a token that never received an event, for `anonymousSessionTtlMs`. Without
// this an in-memory gateway keeps every session it ever saw. A later resume of a forgotten id starts a
// new history (new epoch), which the client reports as a gap, so nothing is lost silently.
// A log that expires sessions itself (Redis key TTLs) is shared with other nodes, which may hold
// connections to a session this node sees idle: then the sweep only drops this node's idle live
// entries and refreshes the TTL of the sessions it holds; it never deletes a history.
import { every } from './clock.js';
import type { GatewayContext } from './context.js';
import type { HeldSession } from './session-caps.js';
import type { LiveSession } from './session-registry.js';

/**
 * Start the periodic sweep; returns a stop function. Does nothing when both TTLs are 0, unless
 * the log expires sessions itself: held sessions must then be kept alive in it all the same.
 */
export function startSessionExpiry(ctx: GatewayContext): () => void {
  const ttl = ctx.options.sessionTtlMs === 0 ? Infinity : ctx.options.sessionTtlMs;
  // Anonymous sessions that never received an event go sooner (never later than the others).
  const anonymousTtl = Math.min(ttl, ctx.options.anonymousSessionTtlMs === 0 ? Infinity : ctx.options.anonymousSessionTtlMs);
  // The store's own TTL sets the pace of touches, whatever the gateway's TTLs are.
  const { expiry } = ctx.log;
  const touchEvery = expiry.by === 'store' ? expiry.touchEveryMs : Infinity;
  const interval = Math.min(anonymousTtl, 60_000, touchEvery);
  if (anonymousTtl === Infinity && touchEvery === Infinity) return () => undefined;
  // A session is idle for at least its TTL and at most TTL + one sweep before it goes.
  return every(ctx.clock, Math.max(10, interval), () => void sweep(ctx, ttl, anonymousTtl), { unref: true });
}

/** True for a session created without a token that has never received an event: nothing to lose. */
async function isEmptyAnonymous(ctx: GatewayContext, session: LiveSession): Promise<boolean> {
  const record = session.record ?? (await ctx.log.getSession(session.id));
  if (record === undefined) return true;
  return record.owner === undefined && (await ctx.log.position(session.id)).head === 0;
}

async function sweep(ctx: GatewayContext, ttl: number, anonymousTtl: number): Promise<void> {
  try {
    if (ctx.log.expiry.by === 'store') return await sweepShared(ctx, ttl);
    // Sessions held by a log from a previous process have no live entry yet; give them one.
    for (const record of await ctx.log.listSessions()) ctx.registry.entry(record.sessionId);
    const now = ctx.clock.now();
    for (const session of [...ctx.registry.all()]) {
      if (session.subscribers.size > 0) {
        session.idleSince = undefined;
        continue;
      }
      session.idleSince ??= now;
      if (now - session.idleSince < anonymousTtl) continue;
      // In the session's queue, so a join or publish in flight finishes first and wins.
      await session.queue.run(async () => {
        if (session.subscribers.size > 0 || session.idleSince === undefined) return;
        const idle = ctx.clock.now() - session.idleSince;
        if (idle >= ttl) return forgetSession(ctx, session.id, 'idle past sessionTtlMs');
        if (idle >= anonymousTtl && (await isEmptyAnonymous(ctx, session))) return forgetSession(ctx, session.id, 'anonymous and empty past anonymousSessionTtlMs');
      });
    }
  } catch (error) {
    ctx.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'session expiry sweep failed');
  }
}

/** For a shared log: keep held sessions alive in the store, forget idle ones only locally. */
async function sweepShared(ctx: GatewayContext, ttl: number): Promise<void> {
  const held: HeldSession[] = [];
  const now = ctx.clock.now();
  for (const session of [...ctx.registry.all()]) {
    if (session.subscribers.size > 0) {
      session.idleSince = undefined;
      // The owner lets the caps count again a resumed session whose count lapsed meanwhile.
      held.push({ sessionId: session.id, owner: session.record?.owner });
      continue;
    }
    session.idleSince ??= now;
    if (now - session.idleSince < ttl) continue;
    await session.queue.run(async () => {
      if (session.subscribers.size > 0 || session.idleSince === undefined) return;
      ctx.registry.remove(session.id);
      // Caps kept in the shared store keep counting it: it may be live on another node, and its
      // count lapses with its TTL. In-process caps count only sessions this node holds, or they
      // would fill up with sessions the store has long expired.
      if (!ctx.caps.shared) await ctx.caps.release(session.id);
    });
  }
  // One more round trip per sweep: the fleet's caps count what the nodes keep alive.
  if (held.length > 0) await Promise.all([ctx.log.touch(held.map((h) => h.sessionId)), ctx.caps.refresh(held)]);
}

/** What the other nodes' connections to a session hear when it was forgotten without a reason of the app's. */
const ENDED = 'The session was ended.';

/**
 * Delete a session's history and its live entry. Call inside the session's queue, after its
 * connections have been dealt with. `reason` goes to the other nodes' connections to the session,
 * through the fleet's feed (deleted first: a client sent away must not resume the old history).
 */
export async function forgetSession(ctx: GatewayContext, sessionId: string, why: string, reason = ENDED): Promise<void> {
  await ctx.log.deleteSession(sessionId);
  await ctx.fleet.feed.end(sessionId, reason);
  ctx.registry.remove(sessionId);
  await ctx.caps.release(sessionId);
  ctx.counters.expired++;
  ctx.logger.info({ session: sessionId, why }, 'session expired');
}
