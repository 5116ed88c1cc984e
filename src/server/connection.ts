// One client socket from upgrade to close: pre-hello checks (origin, rate, handshake timeout),
// the handshake, then the methods of PROTOCOL.md section 5. Frames from one socket are handled
// strictly in order; anything touching a session's log runs in that session's queue.
import { CLOSE_CODE_FOR_ERROR, CloseCode, decodeClientFrame, defaultNextStep, redactTokens, type ClientFrame, type FrameError, type MessageFrame, type ServerFrame } from '../protocol/index.js';
import { assertNever } from '../protocol/assert-never.js';
import type { GatewayContext } from './context.js';
import { LogError } from './event-log.js';
import { clientAddress } from './client-address.js';
import { initialTranslator, translatorFor } from './dialects/choose.js';
import { admit, fromHello, fromJoin, type JoinRequest, type PeerInfo, type Refusal } from './handshake.js';
import { startHeartbeat } from './heartbeat.js';
import type { MessageOutcome } from './apply-message.js';
import { joinSession, type JoinedState } from './join.js';
import { tokenFromUrl } from './logger.js';
import type { Outbox } from './outbox.js';
import { createSerialQueue } from './serial-queue.js';
import { SESSION_GONE } from './session-registry.js';
import type { GatewaySocket, SocketData, UpgradeInfo } from './transport.js';

/** Lifecycle of a socket, as the gateway sees it. */
type Phase = 'awaiting_hello' | 'handshaking' | 'joined' | 'closing';

/** The gateway's handle on one socket. */
export interface Connection {
  readonly id: string;
  readonly isJoined: boolean;
  /** Send `draining` with a reconnect hint, then close 1001. */
  drain(reconnectAfterMs: number): void;
  /** Close with a code (graceful: the close frame follows any buffered data). */
  close(code: number, reason: string): void;
  /** Destroy the socket without a close frame. */
  terminate(): void;
  /** Settles when the socket has closed. */
  readonly closed: Promise<void>;
}

let nextConnection = 0;

function rawToText(data: SocketData): string {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** What a queued frame holds in memory: its bytes plus the task and promise that carry it. */
function inboundCost(data: SocketData): number {
  const INBOUND_FRAME_OVERHEAD = 512;
  if (typeof data === 'string') return data.length + INBOUND_FRAME_OVERHEAD;
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, INBOUND_FRAME_OVERHEAD);
  return data.byteLength + INBOUND_FRAME_OVERHEAD;
}

/** Take over an upgraded socket. `onClosed` runs once, after the socket has closed. */
export function acceptConnection(ws: GatewaySocket, upgrade: UpgradeInfo, ctx: GatewayContext, onClosed: (c: Connection) => void): Connection {
  const id = `c${++nextConnection}`;
  const log = ctx.logger.child({ conn: id });
  const peer: PeerInfo = {
    address: clientAddress(upgrade.remoteAddress, upgrade.forwardedFor, ctx.options.trustedProxies),
    origin: upgrade.origin,
    urlToken: upgrade.token ?? tokenFromUrl(upgrade.url),
  };
  // Over HTTP a pong could only come by POST: ping down the stream, and never reap for silence.
  const watchesSilence = upgrade.transport !== 'http';
  const inbound = createSerialQueue();
  let outboxOptions = {
    translate: initialTranslator(ctx.options.dialect, id),
    batching: false,
    coalesceLive: ctx.options.coalesceLive,
    maxBatchFrames: ctx.options.maxBatchFrames,
    maxBufferedBytes: ctx.options.maxBufferedBytes,
    onSlowConsumer: (bytes: number) => {
      ctx.counters.slowConsumers++;
      log.warn({ bufferedBytes: bytes }, 'slow consumer evicted');
      closeWith(CloseCode.SlowConsumer, 'slow_consumer');
    },
    onReplayFailed: (error: unknown) => {
      // The store failed mid-replay (Redis away): the client resumes from what it got.
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'replay page unreadable; the client resumes');
      closeWith(CloseCode.GoingAway, 'replay_failed');
    },
  };
  let outbox: Outbox = ctx.parts.createOutbox(ws, outboxOptions);
  let phase: Phase = 'awaiting_hello';
  let joined: JoinedState | undefined;
  const { clock } = ctx;
  let lastSeen = clock.now();
  let stopHeartbeat: (() => void) | undefined;
  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });

  // A function, not an inline test: TS would keep `phase` narrowed across awaits.
  const isOpen = (): boolean => phase !== 'closing';

  const detach = (): void => {
    clock.clearTimeout(handshakeTimer);
    stopHeartbeat?.();
    stopHeartbeat = undefined;
    if (!joined) return;
    joined.session.subscribers.delete(joined.subscriber);
    ctx.presence.changed(joined.session);
    ctx.fanout.release(joined.session);
  };

  function closeWith(code: number, reason: string): void {
    if (phase === 'closing') return;
    phase = 'closing';
    detach();
    outbox.seal();
    ws.close(code, reason);
  }

  const sendError = (error: { code: string; message: string }, extra: { readonly id?: string; readonly retry_after_seconds?: number } = {}): void => {
    outbox.send({ type: 'error', code: error.code, message: error.message, next_step: defaultNextStep(error.code), ...extra });
  };

  /**
   * The event store failed (Redis unreachable): typed and recoverable, never an internal error.
   * A handshake is refused with `unavailable` (close 4503); a joined connection gets an `error`
   * for that frame (a message carries its id and stays unacked, so the client sends it again).
   */
  const storeFailed = (error: LogError, id?: string): void => {
    // The store no longer holds the session (ended on another node, expired): say so, never
    // "unavailable", which would have the client retry a send that can never succeed.
    if (error.code === 'session_not_found') {
      log.info({ err: error.message }, 'session no longer exists');
      if (joined) return expire(SESSION_GONE);
      return refuse({ code: 'session_expired', message: SESSION_GONE, nextStep: defaultNextStep('session_expired') });
    }
    log.warn({ err: error.message }, 'event store unavailable');
    const retryAfterSeconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
    const message = `The event store is unavailable; nothing was lost. Retry in ${retryAfterSeconds} s.`;
    if (joined) sendError({ code: 'unavailable', message }, id === undefined ? {} : { id });
    else refuse({ code: 'unavailable', message, nextStep: 'wait_then_retry', retryAfterSeconds });
  };

  /** The session ended: send `session_expired` and close 4040 (the client starts a new session). */
  const expire = (message: string): void => {
    sendError({ code: 'session_expired', message });
    closeWith(CloseCode.SessionExpired, 'session_expired');
  };

  /** Refuse the handshake: one `hello_error` (or `error` for a legacy join), then the matching close. */
  const refuse = (refusal: Refusal, kind: JoinRequest['kind'] = 'hello'): void => {
    if (phase === 'closing') return;
    ctx.counters.refused[refusal.code] = (ctx.counters.refused[refusal.code] ?? 0) + 1;
    log.info({ code: refusal.code, kind }, 'handshake refused');
    const common = {
      code: refusal.code,
      message: refusal.message,
      next_step: refusal.nextStep,
      ...(refusal.retryAfterSeconds === undefined ? {} : { retry_after_seconds: refusal.retryAfterSeconds }),
    };
    const range = refusal.serverRange;
    const frame: ServerFrame =
      kind === 'hello'
        ? { type: 'hello_error', ...common, ...(range ? { server_min: range.min, server_max: range.max } : {}) }
        : { type: 'error', ...common, ...(range ? { server_min_version: range.min, server_max_version: range.max } : {}) };
    outbox.send(frame);
    closeWith(CLOSE_CODE_FOR_ERROR[refusal.code] ?? CloseCode.BadFrame, refusal.code);
  };

  const handshakeTimer = clock.setTimeout(() => {
    refuse({ code: 'handshake_timeout', message: `No hello within ${ctx.options.handshakeTimeoutMs} ms.`, nextStep: 'wait_then_retry' });
  }, ctx.options.handshakeTimeoutMs);

  const join = async (request: JoinRequest): Promise<void> => {
    phase = 'handshaking';
    const verdict = await admit(request, peer, ctx);
    if (!isOpen()) return;
    if (!('version' in verdict)) return refuse(verdict, request.kind);
    const result = await joinSession(request, verdict, ctx, {
      isOpen,
      expire,
      restart: (reason) => closeWith(CloseCode.GoingAway, reason),
      start: (version) => {
        // From here the socket is joined: batching follows the agreed version and the client's
        // capabilities (never for join).
        // Another dialect gets one frame per event, as PraisonAI sends them.
        outbox = ctx.parts.createOutbox(ws, { ...outboxOptions, batching: request.batch && version >= 2 && !outboxOptions.translate });
        phase = 'joined';
        clock.clearTimeout(handshakeTimer);
        stopHeartbeat = startHeartbeat({
          intervalMs: ctx.options.heartbeatMs,
          lastSeen: watchesSilence ? () => lastSeen : () => clock.now(),
          clock,
          // Wall-clock ms: the peer echoes it and may read it as a time of day.
          ping: () => outbox.send({ type: 'ping', ts: clock.wallNow() }),
          onSilent: () => {
            ctx.counters.reaped++;
            log.info('liveness timeout');
            closeWith(CloseCode.LivenessTimeout, 'liveness_timeout');
          },
        });
        return outbox;
      },
    }, peer.address);
    if (result === undefined) return; // the socket closed while waiting for the session
    if ('code' in result) return refuse(result, request.kind);
    joined = result;
    ctx.counters.joined++;
    log.info({ session: joined.gatewaySession.id, agent: request.agentId, resumed: result.resumed, version: verdict.version }, 'joined');
  };

  // Handlers of this connection's messages still running; at maxMessagesInFlight the inbound
  // queue waits for one to finish (so TCP pushes back), while pings and the rest of a long
  // handler's connection keep flowing below the bound.
  let handlersRunning = 0;
  let slotFreed: (() => void) | undefined;
  const whileRunning = async (applied: Promise<void>, then: () => void): Promise<void> => {
    handlersRunning++;
    void applied.then(() => {
      handlersRunning--;
      then();
      const wake = slotFreed;
      slotFreed = undefined;
      wake?.();
    });
    if (handlersRunning < ctx.options.maxMessagesInFlight) return;
    ctx.counters.messagePauses++;
    await new Promise<void>((resolve) => (slotFreed = resolve));
  };

  const onMessageFrame = async (frame: MessageFrame, state: JoinedState): Promise<void> => {
    ctx.counters.messages++;
    const { gatewaySession: gs, session } = state;
    if (frame.id === undefined) return whileRunning(ctx.messages.run(frame, gs), () => undefined);
    const id = frame.id;
    let outcome: MessageOutcome;
    try {
      outcome = await ctx.messages.apply(frame, id, gs, session.queue);
    } catch (error) {
      if (error instanceof LogError) return storeFailed(error, id);
      throw error;
    }
    switch (outcome.kind) {
      case 'duplicate':
        ctx.counters.duplicates++;
        return outbox.send({ type: 'ack', id, duplicate: true });
      case 'in_flight': {
        // Never "duplicate" before some node finished the handlers: the client resends it.
        const seconds = outcome.retryAfterMs / 1000;
        const message = `Message ${id} is being applied (its claim is held by a running handler); send it again in ${seconds} s under the same id.`;
        return sendError({ code: 'message_in_flight', message }, { id, retry_after_seconds: seconds });
      }
      case 'running':
        return whileRunning(outcome.applied, () => outbox.send({ type: 'ack', id }));
      default:
        return assertNever(outcome);
    }
  };

  const onResync = async (state: JoinedState): Promise<void> => {
    const id = state.gatewaySession.id;
    const { stored, position } = await state.session.queue.run(async () => ({
      stored: await ctx.log.getState(id),
      position: await ctx.log.position(id),
    }));
    outbox.send({ type: 'snapshot', state: stored?.state ?? null, cursor: stored?.cursor ?? position.head, epoch: position.epoch });
  };

  const dispatch = async (frame: ClientFrame): Promise<void> => {
    switch (frame.type) {
      case 'hello':
      case 'join':
        if (joined) return sendError({ code: 'bad_frame', message: 'Already joined; open a new connection for another session.' });
        // The dialect is settled here, so refusals of this very frame already speak it.
        outboxOptions = { ...outboxOptions, translate: translatorFor(ctx.options.dialect, frame, id) };
        outbox = ctx.parts.createOutbox(ws, outboxOptions);
        return join(frame.type === 'hello' ? fromHello(frame, peer.urlToken) : fromJoin(frame, peer.urlToken));
      case 'message':
        return joined ? onMessageFrame(frame, joined) : sendError({ code: 'not_joined', message: 'Send hello (or join) first.' });
      case 'resync':
        return joined ? onResync(joined) : sendError({ code: 'not_joined', message: 'Send hello (or join) first.' });
      case 'leave':
        return closeWith(CloseCode.Normal, 'left');
      case 'ping':
        return outbox.send(frame.ts === undefined ? { type: 'pong' } : { type: 'pong', ts: frame.ts });
      case 'pong':
        return;
      default:
        return assertNever(frame);
    }
  };

  const rejectFrame = (error: FrameError): void => {
    ctx.counters.badFrames++;
    // Before the handshake a broken frame ends the connection; after it, only that frame is lost.
    // An oversized message names its id, so the client fails that send and never resends it.
    if (joined) sendError(error, error.id === undefined ? {} : { id: error.id });
    else refuse({ code: error.code, message: error.message, nextStep: defaultNextStep(error.code) });
  };

  // Frames wait in `inbound` while a step awaits (the token verifier, a slow log). Bound them:
  // past the limit, stop reading, so TCP pushes back on the peer; read again at half.
  const inboundLimit = ctx.options.maxInboundQueueBytes;
  let inboundBytes = 0;
  let readingPaused = false;
  const holdInbound = (bytes: number): void => {
    inboundBytes += bytes;
    ctx.gauges.inboundQueuedBytes += bytes;
    if (readingPaused || inboundBytes <= inboundLimit) return;
    readingPaused = true;
    ctx.counters.inboundPauses++;
    log.debug({ inboundBytes }, 'inbound queue full; reading paused');
    ws.pause();
  };
  const releaseInbound = (bytes: number): void => {
    inboundBytes -= bytes;
    ctx.gauges.inboundQueuedBytes -= bytes;
    if (!readingPaused || inboundBytes > inboundLimit / 2) return;
    readingPaused = false;
    ws.resume();
  };

  const handle = async (data: SocketData, isBinary: boolean): Promise<void> => {
    if (phase === 'closing') return;
    if (isBinary) return rejectFrame({ code: 'bad_frame', message: 'Binary frames are not supported; send one JSON object per text frame.' });
    const decoded = decodeClientFrame(rawToText(data), ctx.options.maxPayload);
    if (!decoded.ok) return rejectFrame(decoded.error);
    return dispatch(decoded.frame);
  };

  ws.on('message', (data, isBinary) => {
    lastSeen = clock.now();
    const bytes = inboundCost(data);
    holdInbound(bytes);
    inbound.run(() => handle(data, isBinary).finally(() => releaseInbound(bytes))).catch((error: unknown) => {
      if (phase === 'closing') return;
      if (error instanceof LogError) return storeFailed(error);
      log.error({ err: error instanceof Error ? error.message : String(error) }, 'frame handling failed');
      if (joined) sendError({ code: 'internal_error', message: 'The gateway could not handle this frame.' });
      else refuse({ code: 'internal_error', message: 'The gateway could not complete the handshake.', nextStep: 'wait_then_retry' });
    });
  });
  ws.on('error', (error) => {
    // ws reports protocol violations here (e.g. a frame over twice max_payload) and closes itself.
    log.debug({ err: error.message }, 'socket error');
  });
  ws.on('close', (code) => {
    const open = (ctx.gauges.openByAddress.get(peer.address) ?? 1) - 1;
    if (open > 0) ctx.gauges.openByAddress.set(peer.address, open);
    else ctx.gauges.openByAddress.delete(peer.address);
    phase = 'closing';
    detach();
    outbox.seal();
    log.info({ code }, 'connection closed');
    resolveClosed();
    onClosed(connection);
  });

  const connection: Connection = {
    id,
    get isJoined() {
      return phase === 'joined';
    },
    drain(reconnectAfterMs) {
      if (phase === 'closing') return;
      outbox.send({ type: 'draining', reconnect_after_ms: reconnectAfterMs });
      closeWith(CloseCode.GoingAway, 'draining');
    },
    close: closeWith,
    terminate: () => ws.terminate(),
    closed,
  };

  ctx.counters.accepted++;
  log.info({ address: peer.address, url: redactTokens(upgrade.url ?? '') }, 'connection opened');
  const open = (ctx.gauges.openByAddress.get(peer.address) ?? 0) + 1;
  ctx.gauges.openByAddress.set(peer.address, open);
  const origin = ctx.options.allowedOrigins;
  if (origin && peer.origin !== undefined && !origin.has(peer.origin)) {
    refuse({ code: 'origin_not_allowed', message: 'This Origin is not allowed to connect.', nextStep: 'do_not_retry' });
  } else if (open > ctx.options.maxConnectionsPerAddress) {
    const max = ctx.options.maxConnectionsPerAddress;
    refuse({ code: 'rate_limited', message: `Too many open connections from this address (at most ${max}); close some first.`, nextStep: 'wait_then_retry', retryAfterSeconds: 10 });
  } else {
    const rate = ctx.rateLimiter?.check(peer.address);
    if (rate && !rate.ok) {
      refuse({ code: 'rate_limited', message: 'Too many connections from this address.', nextStep: 'wait_then_retry', retryAfterSeconds: rate.retryAfterSeconds });
    }
  }
  return connection;
}
