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
import { startHeartbeat, type Heartbeat, type HeartbeatHost } from './heartbeat.js';
import type { MessageOutcome } from './apply-message.js';
import { joinSession, type JoinedState, type JoinHooks } from './join.js';
import { tokenFromUrl } from './logger.js';
import type { Outbox, OutboxOptions } from './outbox.js';
import { createSerialQueue, type SerialQueue } from './serial-queue.js';
import { SESSION_GONE } from './session-registry.js';
import type { GatewaySocket, SocketData, UpgradeInfo } from './transport.js';
import type { TimerHandle } from './clock.js';
import type { Level, Logger } from 'pino';

/** Lifecycle of a socket, as the gateway sees it. */
type Phase = 'awaiting_hello' | 'handshaking' | 'joined' | 'closing';

/** How a connection's frames travel (UpgradeInfo.transport). */
export type ConnectionTransport = 'websocket' | 'http';

/** The gateway's handle on one socket. */
export interface Connection {
  readonly id: string;
  readonly transport: ConnectionTransport;
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
  return new SocketConnection(ws, upgrade, ctx, onClosed);
}

/**
 * One connection as a class: the gateway holds thousands of idle ones, so its steps are methods
 * on the prototype rather than closures per socket, and it is itself its heartbeat's host and its
 * session's subscriber. What only some connections need (the child logger, the `closed` promise,
 * the wait for a handler slot) is made on first use.
 */
class SocketConnection implements Connection, HeartbeatHost, JoinHooks {
  readonly id = `c${++nextConnection}`;
  readonly transport: ConnectionTransport;
  private readonly peer: PeerInfo;
  private readonly inbound: SerialQueue = createSerialQueue();
  private outboxOptions: OutboxOptions;
  private outbox: Outbox;
  private phase: Phase = 'awaiting_hello';
  private joined: JoinedState | undefined;
  private seenAt: number;
  private heartbeat: Heartbeat | undefined;
  /** Until the join or the close: a cleared timer is let go, not held for the connection's life. */
  private handshakeTimer: TimerHandle | undefined;
  private childLog: Logger | undefined;
  private closedPromise: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;
  private hasClosed = false;
  // Handlers of this connection's messages still running; at maxMessagesInFlight the inbound
  // queue waits for one to finish (so TCP pushes back), while pings and the rest of a long
  // handler's connection keep flowing below the bound.
  private handlersRunning = 0;
  private slotFreed: (() => void) | undefined;
  // Frames wait in `inbound` while a step awaits (the token verifier, a slow log). Bound them:
  // past the limit, stop reading, so TCP pushes back on the peer; read again at half.
  private inboundBytes = 0;
  private readingPaused = false;

  constructor(
    private readonly ws: GatewaySocket,
    upgrade: UpgradeInfo,
    private readonly ctx: GatewayContext,
    private readonly onClosed: (c: Connection) => void,
  ) {
    this.peer = {
      address: clientAddress(upgrade.remoteAddress, upgrade.forwardedFor, ctx.options.trustedProxies),
      origin: upgrade.origin,
      urlToken: upgrade.token ?? tokenFromUrl(upgrade.url),
    };
    this.transport = upgrade.transport ?? 'websocket';
    this.outboxOptions = {
      translate: initialTranslator(ctx.options.dialect, this.id),
      batching: false,
      coalesceLive: ctx.options.coalesceLive,
      maxBatchFrames: ctx.options.maxBatchFrames,
      maxBufferedBytes: ctx.options.maxBufferedBytes,
      onSlowConsumer: (bytes: number) => this.slowConsumer(bytes),
      onReplayFailed: (error: unknown) => this.replayFailed(error),
    };
    this.outbox = ctx.parts.createOutbox(ws, this.outboxOptions);
    this.seenAt = ctx.clock.now();
    this.handshakeTimer = ctx.clock.setTimeout(() => this.handshakeTimedOut(), ctx.options.handshakeTimeoutMs);

    ws.on('message', (data, isBinary) => this.received(data, isBinary));
    ws.on('error', (error) => {
      // ws reports protocol violations here (e.g. a frame over twice max_payload) and closes itself.
      this.logAt('debug')?.debug({ err: error.message }, 'socket error');
    });
    ws.on('close', (code) => this.socketClosed(code));

    ctx.counters.accepted++;
    this.logAt('info')?.info({ address: this.peer.address, url: redactTokens(upgrade.url ?? '') }, 'connection opened');
    const open = (ctx.gauges.openByAddress.get(this.peer.address) ?? 0) + 1;
    ctx.gauges.openByAddress.set(this.peer.address, open);
    const origin = ctx.options.allowedOrigins;
    if (origin && this.peer.origin !== undefined && !origin.has(this.peer.origin)) {
      this.refuse({ code: 'origin_not_allowed', message: 'This Origin is not allowed to connect.', nextStep: 'do_not_retry' });
    } else if (open > ctx.options.maxConnectionsPerAddress) {
      const max = ctx.options.maxConnectionsPerAddress;
      this.refuse({ code: 'rate_limited', message: `Too many open connections from this address (at most ${max}); close some first.`, nextStep: 'wait_then_retry', retryAfterSeconds: 10 });
    } else {
      const rate = ctx.rateLimiter?.check(this.peer.address);
      if (rate && !rate.ok) {
        this.refuse({ code: 'rate_limited', message: 'Too many connections from this address.', nextStep: 'wait_then_retry', retryAfterSeconds: rate.retryAfterSeconds });
      }
    }
  }

  /** This connection's logger (bound to its id), made on the first line logged. */
  private get log(): Logger {
    return (this.childLog ??= this.ctx.logger.child({ conn: this.id }));
  }

  /** The logger when `level` is logged at all: a silent level never makes the child logger. */
  private logAt(level: Level): Logger | undefined {
    return this.ctx.logger.isLevelEnabled(level) ? this.log : undefined;
  }

  get isJoined(): boolean {
    return this.phase === 'joined';
  }

  get closed(): Promise<void> {
    if (this.hasClosed) return Promise.resolve();
    return (this.closedPromise ??= new Promise<void>((resolve) => {
      this.resolveClosed = resolve;
    }));
  }

  drain(reconnectAfterMs: number): void {
    if (this.phase === 'closing') return;
    this.outbox.send({ type: 'draining', reconnect_after_ms: reconnectAfterMs });
    this.close(CloseCode.GoingAway, 'draining');
  }

  terminate(): void {
    this.ws.terminate();
  }

  // A method, not an inline test: TS would keep `phase` narrowed across awaits.
  isOpen(): boolean {
    return this.phase !== 'closing';
  }

  private slowConsumer(bytes: number): void {
    this.ctx.counters.slowConsumers++;
    this.log.warn({ bufferedBytes: bytes }, 'slow consumer evicted');
    this.close(CloseCode.SlowConsumer, 'slow_consumer');
  }

  private replayFailed(error: unknown): void {
    // The store failed mid-replay (Redis away): the client resumes from what it got.
    this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'replay page unreadable; the client resumes');
    this.close(CloseCode.GoingAway, 'replay_failed');
  }

  private stopHandshakeTimer(): void {
    if (this.handshakeTimer === undefined) return;
    this.ctx.clock.clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }

  private detach(): void {
    this.stopHandshakeTimer();
    this.heartbeat?.stop();
    this.heartbeat = undefined;
    const joined = this.joined;
    if (!joined) return;
    joined.session.subscribers.delete(joined.subscriber);
    this.ctx.presence.changed(joined.session);
    this.ctx.fanout.release(joined.session);
  }

  /** Close with a code (graceful: the close frame follows any buffered data). */
  close(code: number, reason: string): void {
    if (this.phase === 'closing') return;
    this.phase = 'closing';
    this.detach();
    this.outbox.seal();
    this.ws.close(code, reason);
  }

  private sendError(error: { code: string; message: string }, extra: { readonly id?: string; readonly retry_after_seconds?: number } = {}): void {
    this.outbox.send({ type: 'error', code: error.code, message: error.message, next_step: defaultNextStep(error.code), ...extra });
  }

  /**
   * The event store failed (Redis unreachable): typed and recoverable, never an internal error.
   * A handshake is refused with `unavailable` (close 4503); a joined connection gets an `error`
   * for that frame (a message carries its id and stays unacked, so the client sends it again).
   */
  private storeFailed(error: LogError, id?: string): void {
    // The store no longer holds the session (ended on another node, expired): say so, never
    // "unavailable", which would have the client retry a send that can never succeed.
    if (error.code === 'session_not_found') {
      this.log.info({ err: error.message }, 'session no longer exists');
      if (this.joined) return this.expire(SESSION_GONE);
      return this.refuse({ code: 'session_expired', message: SESSION_GONE, nextStep: defaultNextStep('session_expired') });
    }
    this.log.warn({ err: error.message }, 'event store unavailable');
    const retryAfterSeconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
    const message = `The event store is unavailable; nothing was lost. Retry in ${retryAfterSeconds} s.`;
    if (this.joined) this.sendError({ code: 'unavailable', message }, id === undefined ? {} : { id });
    else this.refuse({ code: 'unavailable', message, nextStep: 'wait_then_retry', retryAfterSeconds });
  }

  /** The session ended: send `session_expired` and close 4040 (the client starts a new session). */
  expire(message: string): void {
    this.sendError({ code: 'session_expired', message });
    this.close(CloseCode.SessionExpired, 'session_expired');
  }

  /** The history moved to a new epoch: close 1001 so the client resumes and sees the gap. */
  restart(reason: string): void {
    this.close(CloseCode.GoingAway, reason);
  }

  /** Refuse the handshake: one `hello_error` (or `error` for a legacy join), then the matching close. */
  private refuse(refusal: Refusal, kind: JoinRequest['kind'] = 'hello'): void {
    if (this.phase === 'closing') return;
    this.ctx.counters.refused[refusal.code] = (this.ctx.counters.refused[refusal.code] ?? 0) + 1;
    this.logAt('info')?.info({ code: refusal.code, kind }, 'handshake refused');
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
    this.outbox.send(frame);
    this.close(CLOSE_CODE_FOR_ERROR[refusal.code] ?? CloseCode.BadFrame, refusal.code);
  }

  // HeartbeatHost: what the heartbeat reads and calls.
  lastSeen(): number {
    // Over HTTP a pong could only come by POST: ping down the stream, and never reap for silence.
    return this.transport === 'websocket' ? this.seenAt : this.ctx.clock.now();
  }

  ping(): void {
    // Wall-clock ms: the peer echoes it and may read it as a time of day.
    this.outbox.send({ type: 'ping', ts: this.ctx.clock.wallNow() });
  }

  onSilent(): void {
    this.ctx.counters.reaped++;
    this.logAt('info')?.info('liveness timeout');
    this.close(CloseCode.LivenessTimeout, 'liveness_timeout');
  }

  /** The join succeeded: switch to joined (timers, batching) and return the outbox to write with. */
  start(version: number): Outbox {
    const { ctx } = this;
    // From here the socket is joined: batching follows the agreed version and the client's
    // capabilities (never for join). Another dialect gets one frame per event, as PraisonAI sends them.
    const request = this.joining as JoinRequest;
    this.outbox = ctx.parts.createOutbox(this.ws, { ...this.outboxOptions, batching: request.batch && version >= 2 && !this.outboxOptions.translate });
    this.phase = 'joined';
    this.stopHandshakeTimer();
    this.heartbeat = startHeartbeat(ctx.options.heartbeatMs, ctx.clock, this);
    return this.outbox;
  }

  /** The handshake budget ran out: before a hello came, or while the token check or the join ran. */
  private handshakeTimedOut(): void {
    const budget = `${this.ctx.options.handshakeTimeoutMs} ms (handshakeTimeoutMs)`;
    const message = this.phase === 'handshaking'
      ? `The hello came, but the gateway could not check the token and join the session within ${budget}; nothing was joined.`
      : `No hello within ${budget}.`;
    this.refuse({ code: 'handshake_timeout', message, nextStep: 'wait_then_retry' });
  }

  /** The request of the join under way (start() reads its batching). */
  private joining: JoinRequest | undefined;

  private async join(request: JoinRequest): Promise<void> {
    const { ctx } = this;
    this.phase = 'handshaking';
    const verdict = await admit(request, this.peer, ctx);
    if (!this.isOpen()) return;
    if (!('version' in verdict)) return this.refuse(verdict, request.kind);
    this.joining = request;
    const result = await joinSession(request, verdict, ctx, this, this.peer.address);
    this.joining = undefined;
    if (result === undefined) return; // the socket closed while waiting for the session
    if ('code' in result) return this.refuse(result, request.kind);
    this.joined = result;
    ctx.counters.joined++;
    this.logAt('info')?.info({ session: result.gatewaySession.id, agent: request.agentId, resumed: result.resumed, version: verdict.version }, 'joined');
  }

  private async whileRunning(applied: Promise<void>, then: () => void): Promise<void> {
    this.handlersRunning++;
    void applied.then(() => {
      this.handlersRunning--;
      then();
      const wake = this.slotFreed;
      this.slotFreed = undefined;
      wake?.();
    });
    if (this.handlersRunning < this.ctx.options.maxMessagesInFlight) return;
    this.ctx.counters.messagePauses++;
    await new Promise<void>((resolve) => (this.slotFreed = resolve));
  }

  private async onMessageFrame(frame: MessageFrame, state: JoinedState): Promise<void> {
    const { ctx } = this;
    ctx.counters.messages++;
    const { gatewaySession: gs, session } = state;
    if (frame.id === undefined) return this.whileRunning(ctx.messages.run(frame, gs), () => undefined);
    const id = frame.id;
    let outcome: MessageOutcome;
    try {
      outcome = await ctx.messages.apply(frame, id, gs, session.queue);
    } catch (error) {
      if (error instanceof LogError) return this.storeFailed(error, id);
      throw error;
    }
    switch (outcome.kind) {
      case 'duplicate':
        ctx.counters.duplicates++;
        return this.outbox.send({ type: 'ack', id, duplicate: true });
      case 'in_flight': {
        // Never "duplicate" before some node finished the handlers: the client resends it.
        const seconds = outcome.retryAfterMs / 1000;
        const message = `Message ${id} is being applied (its claim is held by a running handler); send it again in ${seconds} s under the same id.`;
        return this.sendError({ code: 'message_in_flight', message }, { id, retry_after_seconds: seconds });
      }
      case 'running':
        return this.whileRunning(outcome.applied, () => this.outbox.send({ type: 'ack', id }));
      default:
        return assertNever(outcome);
    }
  }

  private async onResync(state: JoinedState): Promise<void> {
    const id = state.gatewaySession.id;
    const { log } = this.ctx;
    const { stored, position } = await state.session.queue.run(async () => ({
      stored: await log.getState(id),
      position: await log.position(id),
    }));
    this.outbox.send({ type: 'snapshot', state: stored?.state ?? null, cursor: stored?.cursor ?? position.head, epoch: position.epoch });
  }

  private async dispatch(frame: ClientFrame): Promise<void> {
    switch (frame.type) {
      case 'hello':
      case 'join':
        if (this.joined) return this.sendError({ code: 'bad_frame', message: 'Already joined; open a new connection for another session.' });
        // The dialect is settled here, so refusals of this very frame already speak it.
        this.outboxOptions = { ...this.outboxOptions, translate: translatorFor(this.ctx.options.dialect, frame, this.id) };
        this.outbox = this.ctx.parts.createOutbox(this.ws, this.outboxOptions);
        return this.join(frame.type === 'hello' ? fromHello(frame, this.peer.urlToken) : fromJoin(frame, this.peer.urlToken));
      case 'message':
        return this.joined ? this.onMessageFrame(frame, this.joined) : this.sendError({ code: 'not_joined', message: 'Send hello (or join) first.' });
      case 'resync':
        return this.joined ? this.onResync(this.joined) : this.sendError({ code: 'not_joined', message: 'Send hello (or join) first.' });
      case 'leave':
        return this.close(CloseCode.Normal, 'left');
      case 'ping':
        return this.outbox.send(frame.ts === undefined ? { type: 'pong' } : { type: 'pong', ts: frame.ts });
      case 'pong':
        return;
      default:
        return assertNever(frame);
    }
  }

  private rejectFrame(error: FrameError): void {
    this.ctx.counters.badFrames++;
    // Before the handshake a broken frame ends the connection; after it, only that frame is lost.
    // An oversized message names its id, so the client fails that send and never resends it.
    if (this.joined) this.sendError(error, error.id === undefined ? {} : { id: error.id });
    else this.refuse({ code: error.code, message: error.message, nextStep: defaultNextStep(error.code) });
  }

  private holdInbound(bytes: number): void {
    this.inboundBytes += bytes;
    this.ctx.gauges.inboundQueuedBytes += bytes;
    if (this.readingPaused || this.inboundBytes <= this.ctx.options.maxInboundQueueBytes) return;
    this.readingPaused = true;
    this.ctx.counters.inboundPauses++;
    this.logAt('debug')?.debug({ inboundBytes: this.inboundBytes }, 'inbound queue full; reading paused');
    this.ws.pause();
  }

  private releaseInbound(bytes: number): void {
    this.inboundBytes -= bytes;
    this.ctx.gauges.inboundQueuedBytes -= bytes;
    if (!this.readingPaused || this.inboundBytes > this.ctx.options.maxInboundQueueBytes / 2) return;
    this.readingPaused = false;
    this.ws.resume();
  }

  private async handle(data: SocketData, isBinary: boolean): Promise<void> {
    if (this.phase === 'closing') return;
    if (isBinary) return this.rejectFrame({ code: 'bad_frame', message: 'Binary frames are not supported; send one JSON object per text frame.' });
    const decoded = decodeClientFrame(rawToText(data), this.ctx.options.maxPayload);
    if (!decoded.ok) return this.rejectFrame(decoded.error);
    return this.dispatch(decoded.frame);
  }

  private received(data: SocketData, isBinary: boolean): void {
    this.seenAt = this.ctx.clock.now();
    const bytes = inboundCost(data);
    this.holdInbound(bytes);
    this.inbound.run(() => this.handle(data, isBinary).finally(() => this.releaseInbound(bytes))).catch((error: unknown) => {
      if (this.phase === 'closing') return;
      if (error instanceof LogError) return this.storeFailed(error);
      this.log.error({ err: error instanceof Error ? error.message : String(error) }, 'frame handling failed');
      if (this.joined) this.sendError({ code: 'internal_error', message: 'The gateway could not handle this frame.' });
      else this.refuse({ code: 'internal_error', message: 'The gateway could not complete the handshake.', nextStep: 'wait_then_retry' });
    });
  }

  private socketClosed(code: number): void {
    const { gauges } = this.ctx;
    const open = (gauges.openByAddress.get(this.peer.address) ?? 1) - 1;
    if (open > 0) gauges.openByAddress.set(this.peer.address, open);
    else gauges.openByAddress.delete(this.peer.address);
    this.phase = 'closing';
    this.detach();
    this.outbox.seal();
    this.logAt('info')?.info({ code }, 'connection closed');
    this.hasClosed = true;
    this.resolveClosed?.();
    this.onClosed(this);
  }
}
