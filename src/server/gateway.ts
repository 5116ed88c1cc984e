// createGateway: the reference Lifeline gateway on `ws`. Wires the HTTP server, the WebSocket
// server and per-connection handling to one event log, one fleet (the services shared with other
// nodes, or this node's own) and a session registry, and exposes the app-facing API (publish,
// onMessage, setState) plus lifecycle (drain, close, terminate). Longer than most modules: it is
// the one place the parts are assembled and the app's API is kept; each part has its own module.
import { randomUUID } from 'node:crypto';
import { CloseCode, MAX_SERVER_FRAME_DEPTH, type Health, type PresenceEntry } from '../protocol/index.js';
import { EVENT_PAYLOAD_FRAME_DEPTH, nestingExceeds } from '../protocol/frame-limits.js';
import { rememberPayloadJson } from '../protocol/codec.js';
import type { GatewayClock, TimerHandle } from './clock.js';
import { acceptConnection, type Connection, type ConnectionTransport } from './connection.js';
import type { GatewayContext, GatewayCounters, GatewayGauges, MessageHandler } from './context.js';
import { LogError, type EventLog, type NewEvent } from './event-log.js';
import type { Fleet, FleetView } from './fleet.js';
import { createLogger } from './logger.js';
import { createMessageApplier } from './apply-message.js';
import { createFanout, type FanoutStats } from './fanout.js';
import { startFleetHealth } from './fleet-health.js';
import { createFleetPresence } from './fleet-presence.js';
import { DEFAULT_GATEWAY_PARTS, type GatewayParts } from './gateway-parts.js';
import { createLocalFleet } from './local-fleet.js';
import { createMetrics } from './metrics.js';
import { createMemoryLog } from './memory-log.js';
import { GatewayError } from './errors.js';
import { resolveOptions, type GatewayOptions } from './options.js';
import { createRateLimiter } from './rate-limiter.js';
import { forgetSession, startSessionExpiry } from './session-expiry.js';
import { createPublishBursts } from './publish-bursts.js';
import { createSessionRegistry, type SessionSummary } from './session-registry.js';
import type { GatewaySocket, UpgradeInfo } from './transport.js';
import { createWsTransport } from './ws-transport.js';
import { createHttpBinding } from './http/http-binding.js';

/** What the app publishes; the gateway adds `event_id` and `timestamp` when missing. */
export interface PublishEvent {
  readonly type: string;
  readonly data?: unknown;
  readonly source?: string;
  readonly event_id?: string;
  /**
   * The app's key for this publish: retrying with the same key (after a timeout or an
   * `unavailable` rejection) resolves to the first publish's seq and never creates the event twice.
   */
  readonly idempotencyKey?: string;
}

/** A point-in-time view of the gateway, for tests and dashboards. */
export interface GatewayStats {
  /** Open sockets, joined or not. */
  readonly connections: number;
  /** Sockets joined to a session. */
  readonly joined: number;
  /** Sessions loaded in this process. */
  readonly sessions: number;
  readonly uptimeS: number;
  readonly draining: boolean;
  readonly counters: Readonly<GatewayCounters>;
  /** Bytes of received frames waiting to be handled, all connections together (bounded per connection by `maxInboundQueueBytes`). */
  readonly inboundQueuedBytes: number;
  /**
   * The live feed: sessions this node is subscribed to, and events it holds for them (parked
   * ahead of a hole, at most `replayWindow` per session; kept before a join anchored the feed).
   * Both stay 0 on a node alone, whose feed delivers in order.
   */
  readonly feed: FanoutStats;
}

/** A running gateway. */
export interface Gateway {
  /** `ws://host:port`, ready for clients. */
  readonly url: string;
  readonly port: number;
  /** The event log; pass it to a new gateway to restart with its history. */
  readonly log: EventLog;
  /** The services this node shares with the others of its deployment (its own on a local fleet). */
  readonly fleet: Fleet;
  /**
   * Append an event to a session and deliver it live. Resolves to its seq; rejects with
   * `session_not_found` for a session the log does not hold, `gateway_closed` after close().
   */
  publish(sessionId: string, event: PublishEvent): Promise<number>;
  /**
   * Receive client `message` frames (once per message id, fleet-wide). A handler may return a
   * promise: the client's `ack` waits for it (docs/scaling.md, "Client messages"). Returns an
   * unsubscribe function.
   */
  onMessage(handler: MessageHandler): () => void;
  /** Set the state `resync` snapshots return, as of the session's current head. Rejects with `session_not_found`. */
  setState(sessionId: string, state: unknown): Promise<void>;
  /** Send each client `draining` with reconnect hints spread over `spreadMs`, then close 1001. */
  drain(options?: { readonly spreadMs?: number }): Promise<void>;
  /** Close every socket with 1001 and stop listening. */
  close(): Promise<void>;
  /** Test hook: destroy every socket without a close frame (like a crash) and stop listening. */
  terminate(): Promise<void>;
  sessions(): SessionSummary[];
  /**
   * End a session now (a logout, a revoked grant): its connections get `session_expired` and
   * close 4040, and its history is deleted from the log. On a shared fleet (Redis) its
   * connections on every other node end the same way, with the same `reason`. Clients
   * reconnect as a new session and report the gap. Resolves false when the session is unknown;
   * rejects `unavailable` when the store cannot be reached (this node's connections have ended
   * by then; call it again).
   */
  expireSession(sessionId: string, reason?: string): Promise<boolean>;
  /**
   * Sessions with open connections **on this node**, optionally for one agent, with every
   * owner's sessions (the operator's view). On a shared log, clients see the fleet in
   * `hello_ok.presence`; for a fleet-wide operator view, sum this over the nodes.
   */
  presence(agentId?: string): PresenceEntry[];
  stats(): GatewayStats;
}

/** How long close() and drain() wait for close handshakes before destroying sockets. */
const CLOSE_GRACE_MS = 2000;

/** Deepest event (or state) the gateway stores: carried in a `batch`, it must stay within what clients read. */
const MAX_PAYLOAD_DEPTH = MAX_SERVER_FRAME_DEPTH - (EVENT_PAYLOAD_FRAME_DEPTH - 1);

/** Wait for sockets to close, destroying any still open after the grace period. */
/** Open connections by transport, for the metrics (read at a scrape, not kept up to date). */
function countByTransport(connections: ReadonlySet<Connection>): Record<ConnectionTransport, number> {
  const counts: Record<ConnectionTransport, number> = { websocket: 0, http: 0 };
  for (const c of connections) counts[c.transport]++;
  return counts;
}

async function settle(connections: readonly Connection[], clock: GatewayClock): Promise<void> {
  let timer: TimerHandle;
  const grace = new Promise<void>((resolve) => {
    timer = clock.setTimeout(() => {
      for (const c of connections) c.terminate();
      resolve();
    }, CLOSE_GRACE_MS);
  });
  await Promise.race([Promise.all(connections.map((c) => c.closed)), grace]);
  clock.clearTimeout(timer);
  await Promise.all(connections.map((c) => c.closed));
}

/** Run a log call, turning its typed {@link LogError} into the gateway API's {@link GatewayError}. */
async function asGatewayError<T>(run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw asGatewayFailure(error);
  }
}

/** A log's typed {@link LogError} as the gateway API's {@link GatewayError}; anything else as is. */
function asGatewayFailure(error: unknown): unknown {
  return error instanceof LogError ? new GatewayError(error.code, error.message) : error;
}

/**
 * Start a gateway; resolves once it is listening. Rejects (never throws later) with a
 * `GatewayError`: `configuration_error` on bad options, `address_in_use` or `address_unavailable`
 * (with `port`) when it cannot listen.
 */
export function createGateway(options: GatewayOptions = {}): Promise<Gateway> {
  return assembleGateway(options, DEFAULT_GATEWAY_PARTS);
}

/** A gateway built from the given parts (gateway-parts.ts); no entry point exports it. */
export async function assembleGateway(options: GatewayOptions, parts: GatewayParts): Promise<Gateway> {
  const resolved = resolveOptions(options);
  const log = options.log ?? createMemoryLog({ replayWindow: resolved.replayWindow, clock: resolved.clock });
  const fleet = options.fleet ?? createLocalFleet();
  const logger = createLogger(options.logger);
  const registry = createSessionRegistry();
  const connections = new Set<Connection>();
  const handlers = new Set<MessageHandler>();
  const { clock } = resolved;
  const startedAt = clock.now();
  let draining = false;
  let stopping: Promise<void> | undefined;
  const counters: GatewayCounters = { accepted: 0, joined: 0, refused: {}, badFrames: 0, messages: 0, duplicates: 0, messageRetries: 0, messageClaimsTakenOver: 0, messageHandlerTimeouts: 0, postsRelayed: 0, messagePauses: 0, published: 0, reaped: 0, expired: 0, slowConsumers: 0, inboundPauses: 0, presenceCapped: 0, sessionLimited: 0, delivered: 0, replays: 0, replayedEvents: 0, gaps: {} };
  const gauges: GatewayGauges = { inboundQueuedBytes: 0, openByAddress: new Map() };

  // Declared before use by health(); set once the log is open.
  let fleetView: () => FleetView | undefined = () => undefined;
  const fleetHealthFields = () => {
    const view = fleetView();
    if (view === undefined) return {};
    return { fleet: { nodes: view.nodes, connections: view.connections, sessions: view.sessions, store_reachable: fleet.health.isReachable() } };
  };
  const health = (): Health => ({
    // Degraded: the event store is unreachable, so joins and publishes are refused `unavailable`.
    status: draining ? 'draining' : fleet.health.isReachable() ? 'ok' : 'degraded',
    uptime_s: Math.round((clock.now() - startedAt) / 100) / 10,
    connections: connections.size,
    sessions: registry.sessionCount(),
    protocol: { ...resolved.protocol },
    draining,
    node: resolved.nodeId,
    ...fleetHealthFields(),
  });

  /**
   * End a session's connections on this node and forget its live entry: `expireSession` here, or
   * the end notice of another node (through the fan-out). In the session's queue, so no join or
   * publish is half done when it goes.
   */
  const endHere = async (sessionId: string, reason: string): Promise<void> => {
    const session = registry.find(sessionId);
    if (!session) return;
    await session.queue.run(() => {
      if (registry.find(sessionId) !== session) return; // already gone, maybe replaced by a new one
      for (const subscriber of [...session.subscribers]) subscriber.expire(reason);
      session.subscribers.clear();
      registry.remove(sessionId);
    });
  };
  const fanout = createFanout({
    log,
    feed: fleet.feed,
    logger,
    pageEvents: resolved.replayPageEvents,
    find: (id) => registry.find(id),
    delivered: (n) => void (counters.delivered += n),
    ended: (id, reason) => void endHere(id, reason),
  });
  // A per-process node name in the store: a node restarted under the same nodeId must not inherit
  // its old entries. Not from newId, whose seeded sequence the simulation replays: this name (and
  // the claims' owner below) never reaches a client.
  const presence = createFleetPresence({ store: fleet.presence, registry, clock, logger, node: `${resolved.nodeId}/${randomUUID()}`, intervalMs: resolved.fleetReportMs, limit: resolved.maxPresenceEntries });
  // Per process too: a restarted node must not take its old self's claims for its own.
  const messages = createMessageApplier({ log, handlers, owner: `${resolved.nodeId}/${randomUUID()}`, leaseMs: resolved.messageLeaseMs, handlerTimeoutMs: resolved.messageHandlerTimeoutMs, clock, logger, counters });
  const ctx: GatewayContext = {
    options: resolved,
    log,
    fleet,
    fanout,
    presence,
    registry,
    logger,
    rateLimiter: resolved.rateLimit ? createRateLimiter(resolved.rateLimit, () => clock.now()) : undefined,
    counters,
    gauges,
    caps: options.sessionCaps ?? fleet.sessionCaps(resolved.sessionLimits),
    clock,
    health,
    messages,
    parts,
  };

  // One function for every connection (a closure per connection would cost each of them).
  const forget = (c: Connection): void => void connections.delete(c);
  const accept = (ws: GatewaySocket, upgrade: UpgradeInfo): void => {
    if (stopping) {
      ws.terminate();
      return;
    }
    const connection = acceptConnection(ws, upgrade, ctx, forget);
    connections.add(connection);
  };
  // The HTTP binding belongs to the default transport, and takes part in the fleet: a POST for a
  // stream that another node holds is relayed there, and this node delivers the ones relayed to it.
  const binding =
    resolved.http
      ? createHttpBinding({ nodeId: resolved.nodeId, allowedOrigins: resolved.allowedOrigins, maxPayload: resolved.maxPayload, relay: fleet.relay, counters }, accept)
      : undefined;
  // ws enforces twice max_payload as a hard limit (close 1009); between the two, the frame
  // is read and refused with a typed payload_too_large error, and the connection stays.
  const transport =
    options.transport ??
    createWsTransport({
      host: resolved.host,
      port: resolved.port,
      handshakeTimeoutMs: resolved.handshakeTimeoutMs,
      maxFrameBytes: resolved.maxPayload * 2,
      onError: (error) => logger.error({ err: error.message }, 'gateway server error'),
      http: binding,
    });

  const stopRelay = await asGatewayError(async () => {
    await log.open();
    await fleet.open();
    return binding ? fleet.relay.serve(resolved.nodeId, binding.deliver) : async (): Promise<void> => undefined;
  });
  // A kept process-local log brings its sessions along: count them (by owner; their address is
  // unknown), or the caps would start from zero after every restart.
  if (options.sessionCaps === undefined && log.expiry.by === 'gateway') {
    for (const record of await log.listSessions()) await ctx.caps.claim({ sessionId: record.sessionId, owner: record.owner, address: undefined });
  }
  const fleetHealth = startFleetHealth(fleet.nodes, clock, logger, resolved.fleetReportMs, () => ({
    node: resolved.nodeId,
    connections: connections.size,
    sessions: registry.sessionCount(),
  }));
  fleetView = fleetHealth.view;
  presence.start();
  const metrics = createMetrics({ counters, health: fleet.health, nodeId: resolved.nodeId, connections: () => countByTransport(connections), sessions: () => registry.sessionCount() });
  const { url, port } = await transport.listen(accept, health, () => metrics.scrape());
  logger.info({ port, host: resolved.host, protocol: resolved.protocol }, 'gateway listening');

  const stopExpiry = startSessionExpiry(ctx);
  const stopListening = async (): Promise<void> => {
    stopExpiry();
    await transport.close();
    await stopRelay();
    await fanout.close();
    metrics.close();
    fleetHealth.stop();
    await presence.close();
    await fleet.close();
    await log.close();
  };

  // One stringify per publish: the price of never storing an event no client could receive. The
  // text is kept (rememberPayloadJson), so the frames that carry the event reuse it.
  const requireDeliverable = (what: 'event' | 'state', value: unknown): string => {
    const json = JSON.stringify(value) ?? '';
    const bytes = json.length * 3 <= resolved.maxEventBytes ? json.length : Buffer.byteLength(json);
    if (bytes > resolved.maxEventBytes) {
      throw new GatewayError('payload_too_large', `The ${what} is ${bytes} bytes encoded; the limit is maxEventBytes (${resolved.maxEventBytes}). Nothing was stored.`);
    }
    if (nestingExceeds(json, MAX_PAYLOAD_DEPTH)) {
      throw new GatewayError('payload_too_large', `The ${what} nests deeper than ${MAX_PAYLOAD_DEPTH} levels; clients refuse a frame deeper than MAX_SERVER_FRAME_DEPTH (${MAX_SERVER_FRAME_DEPTH}). Nothing was stored.`, {
        nextStep: 'Flatten the data (or send a reference to it): no client would read this event.',
      });
    }
    return json;
  };

  // Publishes waiting for the store (bounded by maxPendingPublishes).
  let pendingPublishes = 0;
  const admitPublish = (): void => {
    if (!fleet.health.isReachable()) {
      throw new GatewayError('unavailable', 'The event store (Redis) is not answering; nothing was stored. Retry with the same idempotency key once /health says ok.');
    }
    if (pendingPublishes >= resolved.maxPendingPublishes) {
      throw new GatewayError('unavailable', `${pendingPublishes} publishes are already waiting for the event store (maxPendingPublishes); nothing was stored. Retry with the same idempotency key.`);
    }
  };

  const requireSession = async (sessionId: string) => {
    const session = registry.entry(sessionId);
    const record = session.record ?? (await asGatewayError(async () => log.getSession(sessionId)));
    if (!record) throw new GatewayError('session_not_found', `Unknown session ${sessionId}`);
    session.record = record;
    return session;
  };

  /** The stored form of a published event, its JSON made (and checked) once and kept for the frames. Throws on a bad event. */
  const newPayload = (event: PublishEvent): NewEvent => {
    if (stopping) throw new GatewayError('gateway_closed', 'The gateway is closed; publish through the one that replaced it.');
    const { type, data, source } = event;
    if (typeof type !== 'string' || type.length === 0) throw new GatewayError('configuration_error', 'An event needs a non-empty string type.');
    const eventId = event.event_id ?? resolved.newId();
    // Seconds since the epoch, as a float: the PraisonAI gateway's convention.
    const timestamp = clock.wallNow() / 1000;
    // Two literals rather than a spread of the optional field, which took V8's slow path.
    const payload = source === undefined ? { type, data, event_id: eventId, timestamp } : { type, data, event_id: eventId, timestamp, source };
    rememberPayloadJson(payload, requireDeliverable('event', payload));
    return payload;
  };

  // The app's publishes, stored in bursts per session (publish-bursts.ts).
  const bursts = createPublishBursts({
    log,
    load: (session) => (session.record === undefined ? requireSession(session.id).then(() => undefined) : undefined),
    stored(session, stored) {
      session.idleSince = undefined;
      if (stored.duplicate) return;
      counters.published++;
      // The event reaches every node's connections through the feed (this node's at once on a local fleet).
      fleet.feed.appended(session.id, stored);
    },
    failure: asGatewayFailure,
  });

  return {
    url,
    port,
    log,
    fleet,
    publish(sessionId, event) {
      let payload: NewEvent;
      try {
        payload = newPayload(event);
        admitPublish();
      } catch (error) {
        return Promise.reject(error);
      }
      const session = registry.entry(sessionId);
      const loaded = session.record !== undefined;
      let published: number | Promise<number>;
      try {
        published = bursts.publish(session, event.idempotencyKey === undefined ? { event: payload } : { event: payload, idempotencyKey: event.idempotencyKey });
      } catch (error) {
        return Promise.reject(error);
      }
      // Stored at once (a memory log, nothing ahead of it): no promise chain per event.
      if (typeof published === 'number') return Promise.resolve(published);
      pendingPublishes++;
      // An unknown id must not leave an empty live entry behind (a loaded session never does).
      return published.finally(() => {
        pendingPublishes--;
        if (!loaded) registry.discardIfUnused(sessionId);
      });
    },
    onMessage(handler) {
      handlers.add(handler);
      return () => {
        handlers.delete(handler);
      };
    },
    async setState(sessionId, state) {
      requireDeliverable('state', state);
      await registry
        .entry(sessionId)
        .queue.run(async () => {
          await requireSession(sessionId);
          await log.setState(sessionId, state);
        })
        .finally(() => registry.discardIfUnused(sessionId));
    },
    async drain(drainOptions = {}) {
      const spreadMs = drainOptions.spreadMs ?? resolved.drainSpreadMs;
      draining = true;
      const targets = [...connections];
      logger.info({ connections: targets.length, spreadMs }, 'draining');
      // Evenly spaced hints, so returning clients arrive as a trickle instead of a wave.
      targets.forEach((c, i) => c.drain(targets.length <= 1 ? 0 : Math.round((i * spreadMs) / (targets.length - 1))));
      await settle(targets, clock);
      draining = false;
    },
    close() {
      stopping ??= (async () => {
        const open = [...connections];
        for (const c of open) c.close(CloseCode.GoingAway, 'shutdown');
        await settle(open, clock);
        // Handlers still running get their lease's worth of time to finish and be recorded;
        // closed without, their messages would be applied again after the lease (and acked never).
        await messages.idle(resolved.messageLeaseMs);
        await stopListening();
        logger.info('gateway closed');
      })();
      return stopping;
    },
    terminate() {
      stopping ??= (async () => {
        const open = [...connections];
        for (const c of open) c.terminate();
        await Promise.all(open.map((c) => c.closed));
        await stopListening();
      })();
      return stopping;
    },
    sessions: () => registry.summaries(),
    async expireSession(sessionId, reason = 'The session was ended by the server; reconnect as a new session.') {
      const session = registry.find(sessionId);
      const known = session?.record !== undefined || (await asGatewayError(async () => log.getSession(sessionId))) !== undefined;
      if (!known) return false;
      // In the session's queue, so no join or publish is half done when it goes. A shared log
      // tells the other nodes, whose connections to the session end the same way.
      await registry.entry(sessionId).queue.run(async () => {
        const live = registry.find(sessionId);
        for (const subscriber of [...(live?.subscribers ?? [])]) subscriber.expire(reason);
        live?.subscribers.clear();
        await asGatewayError(() => forgetSession(ctx, sessionId, 'expired by the app', reason));
      });
      return true;
    },
    presence: (agentId) => registry.presence(agentId),
    stats: () => ({
      connections: connections.size,
      joined: registry.joinedConnections(),
      sessions: registry.summaries().length,
      uptimeS: (clock.now() - startedAt) / 1000,
      draining,
      counters: { ...counters, refused: { ...counters.refused }, gaps: { ...counters.gaps } },
      inboundQueuedBytes: gauges.inboundQueuedBytes,
      feed: fanout.stats(),
    }),
  };
}
