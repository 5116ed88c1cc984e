// Joining a session, as one task in the session's queue: load or create the session, decide the
// resume, subscribe, then send the accept frame, the replay and caught_up. Because publishes run
// in the same queue, none can slip between the replay and the subscription: each event reaches
// the client exactly once, as replay if it was appended before and as live if after. Only the
// replay's first page is read in the queue; the rest is read page by page up to the head fixed
// there, as the socket takes it (replay-pages.ts), with live events waiting behind it.
import type { GatewayContext, GatewaySession } from './context.js';
import { LogError, positionAt, type LogPosition, type SessionRecord, type StoredEvent } from './event-log.js';
import { buildHelloOk, buildJoined, wrongAgent, wrongOwner, type JoinRequest, type Refusal } from './handshake.js';
import type { Outbox } from './outbox.js';
import { createLiveTail } from './live-tail.js';
import { replayFrame, replayPages } from './replay-pages.js';
import { acrossEpochs, type ResumePlan, type ResumeRequest } from './resume-plan.js';
import type { SessionCapName } from './session-caps.js';
import type { LiveSession, Subscriber } from './session-registry.js';

/** How the join reaches back into its connection (which is also the session's subscriber). */
export interface JoinHooks extends Subscriber {
  /** False once the socket is closing; the join then stops without subscribing. */
  isOpen(): boolean;
  /** Switch the connection to joined (timers, batching) and return the outbox to write with. */
  start(version: number): Outbox;
}

/** A connection's membership in a session. */
export interface JoinedState {
  readonly session: LiveSession;
  readonly subscriber: Subscriber;
  readonly gatewaySession: GatewaySession;
  readonly resumed: boolean;
}

/**
 * Join (or create) the session a request names. Returns the membership, a refusal (the session
 * belongs to another agent), or undefined when the socket closed meanwhile.
 */
export async function joinSession(
  request: JoinRequest,
  admitted: { readonly version: number; readonly subject?: string },
  ctx: GatewayContext,
  hooks: JoinHooks,
  address: string,
): Promise<JoinedState | Refusal | undefined> {
  const { version, subject } = admitted;
  // Crypto-random ids by default: a session id is what a client resumes with, so it must not be guessable.
  const sessionId = request.sessionId ?? ctx.options.newId();
  const session = ctx.registry.entry(sessionId);
  // A refused, abandoned or failed join must not leave behind an empty live entry for every id
  // tried, nor a feed it subscribed (and the events it keeps) that no connection would release.
  const abandon = (): void => {
    ctx.registry.discardIfUnused(sessionId);
    ctx.fanout.release(session);
  };
  const joining = session.queue.run(async (): Promise<JoinedState | Refusal | undefined> => {
    if (!hooks.isOpen()) return undefined;
    const existing = await ctx.log.getSession(sessionId);
    // Bound to the verifier's subject when it named one (a refreshed token still resumes), else to the token.
    const credential = subject === undefined ? request.token : `subject:${subject}`;
    const owner = credential === undefined ? undefined : ctx.log.ownerOf(credential);
    // An unknown id is adopted as a new session with a new epoch: a client that outlived a
    // gateway restart keeps its id and learns from the epoch that its history is gone.
    // A shared log may return a session another node created meanwhile, so check it either way.
    const record = existing ?? (await createCapped(sessionId, request, owner, address, ctx));
    if ('code' in record) return record;
    if (record.agentId !== request.agentId) return wrongAgent();
    if (record.owner !== owner) return wrongOwner();
    session.record = record;
    // Other nodes' presence, read alongside the position and the backlog (no round trip of its own).
    const fleetPresence = ctx.presence.others(record);
    const resume = { since: request.since, epoch: request.epoch };
    const start = await readStart(session, resume, ctx);
    const { plan, firstPage } = start;
    let { position } = start;
    const pageEvents = ctx.options.replayPageEvents;
    const otherNodes = await fleetPresence;
    // No await from here to the subscriber: the replay's end and the feed must not move apart.
    position = positionAt(position, ctx.fanout.replayEnd(session, firstPage, position.head));
    const firstTop = firstPage[firstPage.length - 1]?.seq ?? plan.replayAfter;
    // Below the head, more pages follow: the page was full, or the feed delivered more while it was read.
    const rest = firstTop < position.head
      ? replayPages(ctx.log, { sessionId, epoch: position.epoch, after: firstTop, head: position.head, pageEvents }, {
          read: (events) => void (ctx.counters.replayedEvents += events),
          trimmed: () => void (ctx.counters.gaps['window'] = (ctx.counters.gaps['window'] ?? 0) + 1),
          // The history moved under the replay: resume, as a connection whose live feed moved does.
          moved: (reason) => {
            ctx.logger.warn({ session: sessionId, from: position.epoch }, 'session history moved under a replay; the connection resumes');
            hooks.restart(reason);
          },
        })
      : undefined;
    if (firstPage.length > 0) {
      ctx.counters.replays++;
      ctx.counters.replayedEvents += firstPage.length;
    }
    if (plan.gap) {
      const reason = acrossEpochs(resume, position) ? 'epoch' : 'window';
      ctx.counters.gaps[reason] = (ctx.counters.gaps[reason] ?? 0) + 1;
    }
    if (!hooks.isOpen()) return undefined;

    // The connection itself (its hooks are a Subscriber's methods): no object per join.
    const subscriber: Subscriber = hooks;
    session.subscribers.add(subscriber);
    ctx.presence.changed(session);
    const outbox = hooks.start(version);
    // Live events from here on; any that came before are in the replay.
    outbox.follow((session.live ??= createLiveTail()));
    const acceptance = { version, batching: request.batch && version >= 2, record, resumed: existing !== undefined, position, plan, otherNodes };
    outbox.send(request.kind === 'hello' ? buildHelloOk(acceptance, ctx) : buildJoined(acceptance, ctx));
    outbox.sendReplay(firstPage.map(replayFrame), rest);
    if (request.kind === 'join' && plan.resyncRequired) {
      // Legacy clients expect a snapshot after resync_required (PraisonAI sends one).
      const stored = await ctx.log.getState(sessionId);
      outbox.send({ type: 'snapshot', state: stored?.state ?? null, cursor: stored?.cursor ?? position.head, epoch: position.epoch });
    }
    outbox.send({ type: 'caught_up', cursor: position.head, epoch: position.epoch });
    // Told now: the next resume without an epoch counts in this epoch (unless it moves again).
    if (request.epoch === undefined && position.movedUnseen) await moveSeen(sessionId, position.epoch, ctx);
    return {
      session,
      subscriber,
      gatewaySession: { id: sessionId, agentId: record.agentId, epoch: record.epoch },
      resumed: existing !== undefined,
    };
  });
  const result = await joining.catch((error: unknown) => {
    abandon();
    throw error;
  });
  if (result === undefined || 'code' in result) abandon();
  return result;
}

/** Reads of a join's start that may meet a history moving under them, before the join gives up. */
const START_ATTEMPTS = 3;

/**
 * Where a join starts: the position (the feed subscribed first and anchored to it, so every event
 * reaches the connection once, as replay or as live), the resume plan, and the replay's first
 * page, all of one epoch. A history that moved between the position and the page (another node
 * found that Redis lost writes) is read again, so the answer names the new epoch and its gap;
 * one that keeps moving refuses the join `unavailable`.
 */
async function readStart(session: LiveSession, resume: ResumeRequest, ctx: GatewayContext): Promise<{ position: LogPosition; plan: ResumePlan; firstPage: StoredEvent[] }> {
  const readPosition = async () => ctx.log.position(session.id);
  for (let attempt = 1; ; attempt++) {
    const position = await ctx.fanout.align(session, readPosition);
    const plan = ctx.parts.planResume(resume, position);
    if (plan.replayAfter >= position.head) return { position, plan, firstPage: [] };
    const read = await ctx.log.readAfter(session.id, plan.replayAfter, ctx.options.replayPageEvents);
    if (read.epoch === position.epoch) return { position, plan, firstPage: [...read.events] };
    if (attempt === START_ATTEMPTS) {
      throw new LogError('unavailable', `The history of session ${session.id} moved to a new epoch ${START_ATTEMPTS} times while it was joined; retry.`);
    }
  }
}

/**
 * Record that a join without an epoch was told of the move. A failure only means the next such
 * resume is told again (one more gap than needed), so it is logged, never fatal to the join.
 */
async function moveSeen(sessionId: string, epoch: string, ctx: GatewayContext): Promise<void> {
  try {
    await ctx.log.moveSeen(sessionId, epoch);
  } catch (error) {
    ctx.logger.warn({ session: sessionId, err: error instanceof Error ? error.message : String(error) }, 'could not record that the epoch move was told');
  }
}

/**
 * Create a session within the caps: claim a slot, then create it in the log (giving the slot
 * back if that fails). Sessions vouched for by a verified token are charged to their owner
 * only; the rest to the address they came from too, since anyone can make up a token.
 */
async function createCapped(sessionId: string, request: JoinRequest, owner: string | undefined, address: string, ctx: GatewayContext): Promise<SessionRecord | Refusal> {
  const vouched = owner !== undefined && ctx.options.verifyToken !== undefined;
  const verdict = await ctx.caps.claim({ sessionId, owner, address: vouched ? undefined : address });
  if (!verdict.ok) return sessionLimit(verdict.cap, verdict.limit, ctx);
  try {
    return await ctx.log.createSession(sessionId, request.agentId, owner);
  } catch (error) {
    await ctx.caps.release(sessionId);
    throw error;
  }
}

/** Seconds a refused client waits before trying again: about one sweep of idle anonymous sessions. */
const SESSION_LIMIT_RETRY_S = 60;

function sessionLimit(cap: SessionCapName, limit: number, ctx: GatewayContext): Refusal {
  ctx.counters.sessionLimited++;
  const which: Record<SessionCapName, string> = {
    total: ctx.caps.shared ? `The gateways of this deployment hold their maximum of ${limit} sessions.` : `This gateway holds its maximum of ${limit} sessions.`,
    perOwner: `These credentials already hold ${limit} sessions.`,
    perAddress: `This address already holds ${limit} sessions created without verified credentials.`,
  };
  return {
    code: 'session_limit',
    message: `${which[cap]} Resume one of them (send its session_id), or retry once idle ones expire.`,
    nextStep: 'wait_then_retry',
    retryAfterSeconds: SESSION_LIMIT_RETRY_S,
  };
}
