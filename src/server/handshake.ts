// The handshake's decisions and answers: normalise `hello` and legacy `join` into one request,
// check it (token, agent, version), and build `hello_ok` / `joined` / refusal frames.
import { EXTENSIONS, negotiate, type HelloFrame, type HelloOkFrame, type JoinedFrame, type JoinFrame, type PresenceEntry, type ProtocolRange, type RecoveryStep, type WireErrorCode } from '../protocol/index.js';
import { requestedJoinRange, requestedRange } from '../protocol/codec.js';
import type { GatewayContext } from './context.js';
import type { TokenVerdict } from './options.js';
import { scrubSecret } from '../protocol/credentials.js';
import type { LogPosition, SessionRecord } from './event-log.js';
import type { ResumePlan } from './resume-plan.js';
import { mergePresence } from './fleet-presence.js';

/** A `hello` or `join`, reduced to what the gateway decides on. */
export interface JoinRequest {
  readonly kind: 'hello' | 'join';
  readonly agentId: string;
  readonly range: ProtocolRange;
  readonly sessionId: string | undefined;
  readonly since: number | undefined;
  readonly epoch: string | undefined;
  readonly token: string | undefined;
  /**
   * The client reads `batch` frames: under v2, unless its `hello` lists capabilities without
   * `batch` (a plain EventSource's, which then gets one frame, and one SSE id, per event).
   */
  readonly batch: boolean;
}

/** Why a handshake was refused; becomes `hello_error` (or `error` for a legacy join) plus a close. */
export interface Refusal {
  readonly code: WireErrorCode;
  readonly message: string;
  readonly nextStep: RecoveryStep;
  readonly retryAfterSeconds?: number;
  /** Set on version refusals so the client sees what the gateway speaks. */
  readonly serverRange?: ProtocolRange;
}

/** Facts about the socket that the checks need. */
export interface PeerInfo {
  readonly address: string;
  readonly origin: string | undefined;
  /** The upgrade's own credential: `Authorization: Bearer`, else `?token=` on its URL. */
  readonly urlToken: string | undefined;
}

/** Normalise a `hello` frame. */
export function fromHello(frame: HelloFrame, urlToken: string | undefined): JoinRequest {
  return {
    kind: 'hello',
    agentId: frame.agent_id,
    range: requestedRange(frame),
    sessionId: frame.session_id,
    since: frame.since,
    epoch: frame.epoch,
    token: frame.token ?? urlToken,
    batch: (frame.capabilities ?? frame.caps)?.includes('batch') ?? true,
  };
}

/** Normalise a legacy `join` frame. */
export function fromJoin(frame: JoinFrame, urlToken: string | undefined): JoinRequest {
  return {
    kind: 'join',
    agentId: frame.agent_id,
    range: requestedJoinRange(frame),
    sessionId: frame.session_id,
    since: frame.since,
    epoch: frame.epoch,
    token: frame.token ?? urlToken,
    batch: false,
  };
}

/** Check token, agent and version, in that order. Returns the agreed version or a refusal. */
export async function admit(request: JoinRequest, peer: PeerInfo, ctx: GatewayContext): Promise<{ version: number; subject?: string } | Refusal> {
  const { verifyToken, agents, protocol } = ctx.options;
  let subject: string | undefined;
  if (verifyToken) {
    let allowed: TokenVerdict;
    try {
      allowed = await verifyToken(request.token, { agentId: request.agentId, sessionId: request.sessionId, origin: peer.origin, address: peer.address });
    } catch (error) {
      // Log the failure, never the token: the verifier's message may quote it, so scrub it first.
      const reason = error instanceof Error ? error.message : String(error);
      ctx.logger.error({ err: scrubSecret(reason, request.token) }, 'token verifier threw');
      return { code: 'internal_error', message: 'Could not verify credentials.', nextStep: 'wait_then_retry' };
    }
    if (typeof allowed === 'object' && allowed !== null) subject = allowed.subject;
    else if (!allowed) {
      return request.token === undefined
        ? { code: 'auth_required', message: 'Authentication required: pass a token in hello.token, ?token= or an Authorization: Bearer header.', nextStep: 'reauthenticate' }
        : { code: 'auth_unauthorized', message: 'The token was rejected.', nextStep: 'reauthenticate' };
    }
  }
  if (agents && !agents.has(request.agentId)) {
    return { code: 'agent_not_found', message: `Agent not found: ${request.agentId}`, nextStep: 'do_not_retry' };
  }
  const negotiation = negotiate(request.range, protocol);
  if (!negotiation.ok) {
    return { code: negotiation.code, message: negotiation.message, nextStep: negotiation.next_step, serverRange: protocol };
  }
  return subject === undefined ? { version: negotiation.version } : { version: negotiation.version, subject };
}

/** The refusal for resuming a session created with other credentials. */
export function wrongOwner(): Refusal {
  return { code: 'auth_unauthorized', message: 'Session belongs to other credentials; start a new session.', nextStep: 'reauthenticate' };
}

/** The refusal for resuming a session that belongs to another agent. */
export function wrongAgent(): Refusal {
  return { code: 'auth_unauthorized', message: 'Session does not belong to the requested agent; start a new session.', nextStep: 'reauthenticate' };
}

/** Everything the accept frames are built from. */
export interface Acceptance {
  readonly version: number;
  /** The connection gets `batch` frames (v2 agreed, and the client reads them). */
  readonly batching: boolean;
  readonly record: SessionRecord;
  readonly resumed: boolean;
  readonly position: LogPosition;
  readonly plan: ResumePlan;
  /** Sessions of the client's presence group on other nodes (empty without a shared log). */
  readonly otherNodes: readonly PresenceEntry[];
}

function policy(ctx: GatewayContext): HelloOkFrame['policy'] {
  const o = ctx.options;
  return { max_payload: o.maxPayload, heartbeat_ms: o.heartbeatMs, max_buffered_bytes: o.maxBufferedBytes, replay_window: ctx.log.replayWindow };
}

/**
 * Presence as a client may see it: sessions of its agent created with the same credentials.
 * Without a token everyone is anonymous, so only the client's own session is listed: a session
 * id is a resume capability and must not leak to strangers.
 */
function localPresence(record: SessionRecord, ctx: GatewayContext): PresenceEntry[] {
  if (record.owner === undefined) {
    // Anonymous: just this session, with no scan of the others (a reconnect storm is O(n) joins).
    const connections = ctx.registry.find(record.sessionId)?.subscribers.size ?? 0;
    return connections > 0 ? [{ session_id: record.sessionId, agent_id: record.agentId, connections }] : [];
  }
  return ctx.registry.presence(record.agentId).filter((entry) => ctx.registry.find(entry.session_id)?.record?.owner === record.owner);
}

/** This node's presence plus the other nodes' (same group), own session first, capped at `maxPresenceEntries`. */
function visiblePresence(a: Acceptance, ctx: GatewayContext): HelloOkFrame['presence'] {
  const { entries, capped } = mergePresence(a.record.sessionId, localPresence(a.record, ctx), a.otherNodes, ctx.options.maxPresenceEntries);
  if (capped) ctx.counters.presenceCapped++;
  return entries;
}

/** `hello_ok` for an accepted `hello`. */
export function buildHelloOk(a: Acceptance, ctx: GatewayContext): HelloOkFrame {
  // Only advertise batch to a connection that will actually get batches.
  const extensions = EXTENSIONS.filter((e) => e !== 'batch' || a.batching);
  return {
    type: 'hello_ok',
    protocol: a.version,
    features: { methods: ['message', 'resync', 'leave', 'ping'], events: [...ctx.options.eventTypes], extensions },
    policy: policy(ctx),
    session_id: a.record.sessionId,
    resumed: a.resumed,
    cursor: a.position.head,
    epoch: a.position.epoch,
    oldest_cursor: a.position.oldest,
    resync_required: a.plan.resyncRequired,
    ...(a.plan.gap ? { gap: a.plan.gap } : {}),
    presence: visiblePresence(a, ctx),
    health: ctx.health(),
    server_min: ctx.options.protocol.min,
    server_max: ctx.options.protocol.max,
  };
}

/** `joined` for an accepted legacy `join`. */
export function buildJoined(a: Acceptance, ctx: GatewayContext): JoinedFrame {
  return {
    type: 'joined',
    session_id: a.record.sessionId,
    agent_id: a.record.agentId,
    resumed: a.resumed,
    cursor: a.position.head,
    oldest_cursor: a.position.oldest,
    resync_required: a.plan.resyncRequired,
    sequence: a.plan.replayAfter,
    protocol_version: a.version,
    server_min_version: ctx.options.protocol.min,
    server_max_version: ctx.options.protocol.max,
    presence: visiblePresence(a, ctx),
    health: ctx.health(),
    epoch: a.position.epoch,
    ...(a.plan.gap ? { gap: a.plan.gap } : {}),
    policy: policy(ctx),
  };
}
