// The socket actor: one connection per invocation, over the transport the chart chose for this
// attempt (transport.ts: WebSocket or HTTP). It resolves the token, picks the URL, has the
// transport deliver the handshake as the connection's first frame, feeds
// every frame to the frame router, turns open/close into chart events, and closes the connection
// in its cleanup. It alone holds the connection: the chart and the facade reach it by command
// (actor-contracts.ts). While joined it also runs the heartbeat watchdog (heartbeat-watchdog.ts),
// which reads the time a frame last arrived here. Reports from a connection whose actor was
// stopped are ignored, so a late close can never hit the state of the next connection.
import type { CallbackLogicFunction } from 'xstate';
import { CloseCode, closeEndsSession, encodeClientFrame, MAX_SERVER_FRAME_BYTES, placeToken, redactTokens, type ClientFrame, type HelloFrame, type HelloOkFrame, type JoinedFrame, type JoinFrame, type ProtocolRange, type TokenPlacement } from '../protocol/index.js';
import { assertNever } from '../protocol/assert-never.js';
import { authRequiredHint, scrubSecret } from '../protocol/credentials.js';
import type { GatewayMachineEvent } from '../../machines/gateway-machine.js';
import type { HandshakeMode, SocketCommand, SocketActorInput } from '../../machines/actor-contracts.js';
import type { TransportName } from '../../machines/transport-fallback.js';
import { connectFailure, connectionLost } from './connect-failure.js';
import type { ConnectionCensus } from './connection-census.js';
import { connectError, GatewayConnectError } from './errors.js';
import { createFrameRouter, type FrameRouterTarget } from './frame-router.js';
import { HeartbeatWatchdog, type WatchedConnection } from './heartbeat-watchdog.js';
import type { OutboundMessage } from './outbox.js';
import type { GapTracker } from './gap-tracker.js';
import type { ClientTransport, TransportConnection, TransportEvents } from './transport.js';
import type { ClientClock, SessionSnapshot, TokenSource } from './types.js';

/** Writes one outbox message on this connection; false when it could not be written. */
export type MessageWrite = (message: OutboundMessage) => boolean;

/**
 * Everything the socket actor needs from the client: how to connect, where frames go (the frame
 * router's target but for the parts bound per connection here: `send`, `lifecycle`, `sendJoin`,
 * `stopped`), and its outbox.
 */
export interface SocketActorDeps extends Omit<FrameRouterTarget, 'send' | 'lifecycle' | 'sendJoin' | 'stopped'> {
  /** The URL of this attempt: the `node`th of a list, or an app function's pick; throws when it cannot. */
  url(node: number): string;
  readonly agentId: string;
  /** A fixed token, or a function called before each attempt (resolved before the connection opens). */
  readonly token: TokenSource | undefined;
  readonly protocol: ProtocolRange;
  readonly capabilities: readonly string[];
  /** How a connection is made over each transport (the chart picks one per attempt). */
  transport(name: TransportName): ClientTransport;
  readonly clock: ClientClock;
  /** Told of every connection opened and closed, so `disconnect()` can wait for the last close. */
  readonly census: ConnectionCensus;
  /** Resend every queued or unacknowledged message (a new join). */
  writeOutbox(write: MessageWrite): void;
  /** Write one queued message. */
  writeOutboxMessage(id: string, write: MessageWrite): void;
  /** A connection failed with a cause: `report` it (an attempt that never opened) or only record it (a drop). */
  failed(error: GatewayConnectError, report: boolean): void;
}

function handshakeFrame(deps: SocketActorDeps, mode: HandshakeMode, tokenValue: string | undefined): HelloFrame | JoinFrame {
  const resume = deps.tracker.resumeRequest();
  const token = tokenValue === undefined ? {} : { token: tokenValue };
  if (mode === 'join') {
    return { type: 'join', agent_id: deps.agentId, min_version: deps.protocol.min, max_version: deps.protocol.max, ...resume, ...token };
  }
  return {
    type: 'hello',
    agent_id: deps.agentId,
    protocol_min: deps.protocol.min,
    protocol_max: deps.protocol.max,
    capabilities: [...deps.capabilities],
    ...resume,
    ...token,
  };
}

/**
 * A refusal as the chart records it: never quoting the token, and after `auth_required`, saying
 * where this attempt sent one (a gateway that reads only `?token=` looks like one that got none).
 */
function refusalSeen(event: GatewayMachineEvent, placement: TokenPlacement, token: string | undefined): GatewayMachineEvent {
  if (event.type !== 'hello.rejected') return event;
  const message = scrubSecret(redactTokens(event.message), token);
  return { ...event, message: event.code === 'auth_required' ? `${message} ${authRequiredHint(placement)}` : message };
}

const FRAME_TOO_LARGE = 'frame_too_large';

function frameTooLarge(): GatewayConnectError {
  return connectError(
    'bad_server_frame',
    `The gateway sent a frame over ${MAX_SERVER_FRAME_BYTES} bytes (MAX_SERVER_FRAME_BYTES), refused before it was read. The connection was closed; the client resumes from its cursor with backoff.`,
    { nextStep: 'wait_then_retry', closeCode: CloseCode.BadFrame },
  );
}

type SocketCallback = CallbackLogicFunction<SocketCommand, GatewayMachineEvent, SocketActorInput>;

type SocketArgs = Parameters<SocketCallback>[0];

/**
 * One attempt, from token to cleanup: the body of the socket actor (see `client-machine.ts`). A
 * token function is called first; a throw, a rejection or a non-string result fails this attempt
 * with `token_unavailable` (the chart backs off and the next attempt calls it again).
 */
export function runSocket(deps: SocketActorDeps, args: SocketArgs): ReturnType<SocketCallback> {
  const source = deps.token;
  if (typeof source !== 'function') return openSocket(deps, args, source);
  let stopped = false;
  let cleanup: ReturnType<SocketCallback>;
  const fail = (cause: unknown): void => {
    if (stopped) return;
    const detail = cause instanceof Error ? cause.message : String(cause);
    deps.error(connectError('token_unavailable', `The token function failed: ${detail}`, { nextStep: 'wait_then_retry' }, cause));
    args.sendBack({ type: 'socket.closed', code: CloseCode.Abnormal, reason: 'token unavailable', noConnection: true });
  };
  const use = (token: unknown): void => {
    if (stopped) return;
    if (token !== undefined && typeof token !== 'string') fail(new TypeError(`token() must return a string or undefined; got ${typeof token}`));
    else cleanup = openSocket(deps, args, token);
  };
  try {
    const value = source();
    if (typeof (value as PromiseLike<unknown> | undefined)?.then === 'function') (value as PromiseLike<unknown>).then(use, fail);
    else use(value);
  } catch (error) {
    queueMicrotask(() => fail(error));
  }
  return () => {
    stopped = true;
    if (typeof cleanup === 'function') cleanup();
  };
}

// Classes, not a closure per callback: one session per connection (bench/README.md, memory).

/** The frame router's target for one connection: the connection's own parts, the client's for the rest. */
class RouterTarget implements FrameRouterTarget {
  readonly tracker: GapTracker;

  constructor(
    private readonly session: SocketSession,
    private readonly client: SocketActorDeps,
  ) {
    this.tracker = client.tracker;
  }

  send(frame: ClientFrame): void {
    this.session.write(frame);
  }
  lifecycle(event: GatewayMachineEvent): void {
    this.session.report(event);
  }
  sendJoin(): void {
    this.session.sendJoin();
  }
  stopped(): boolean {
    return !this.session.live;
  }
  accepted(frame: HelloOkFrame | JoinedFrame): void {
    this.client.accepted(frame);
  }
  ack(id: string, duplicate: boolean): void {
    this.client.ack(id, duplicate);
  }
  messageError(id: string, error: GatewayConnectError): void {
    this.client.messageError(id, error);
  }
  messageRetry(id: string, afterMs: number): void {
    this.client.messageRetry(id, afterMs);
  }
  snapshot(snapshot: SessionSnapshot): void {
    this.client.snapshot(snapshot);
  }
  error(error: GatewayConnectError): void {
    this.client.error(error);
  }
}

/** Sessions that stamped a frame in this turn of the event loop; their stamps expire when it ends. */
const stampedThisTurn: SocketSession[] = [];

function endTurn(): void {
  for (const session of stampedThisTurn) session.heardThisTurn = false;
  stampedThisTurn.length = 0;
}

/** One connection, from open to close: the transport reports to it, and the chart's commands reach it. */
class SocketSession implements TransportEvents, WatchedConnection {
  live = true;
  connection: TransportConnection | null = null;
  url = '';
  placement: TokenPlacement = { url: '', inHello: false, inHeader: false, inUrl: 'none' };
  private isOpen = false;
  private failure: unknown = null;
  /** False when the transport's failure showed that no server was reached (the gateway or the network is down). */
  private reachedServer = true;
  private tooLarge = false;
  /** Set by the chart's answer to a missed heartbeat: the peer will not answer a closing handshake. */
  private hard = false;
  /** Monotonic time of the last frame received (any frame counts as life), for the heartbeat. */
  private lastHeardAt: number;
  /** Running while the chart is joined on this connection (`socket.watch_liveness`). */
  private watchdog: HeartbeatWatchdog | null = null;
  /** `lastHeardAt` is this turn's: the frames of one turn of the event loop arrived at one time. */
  heardThisTurn = false;
  private readonly route: (text: string) => void;
  private readonly writeMessage: MessageWrite = (message) => this.write(message.text);

  constructor(
    private readonly deps: SocketActorDeps,
    private readonly handshake: HandshakeMode,
    private readonly sendBack: (event: GatewayMachineEvent) => void,
    private readonly token: string | undefined,
  ) {
    this.lastHeardAt = deps.clock.now();
    this.route = createFrameRouter(new RouterTarget(this, deps), handshake, deps.protocol);
  }

  write(frame: ClientFrame | string): boolean {
    return this.live && this.connection !== null && this.connection.send(typeof frame === 'string' ? frame : encodeClientFrame(frame));
  }

  /** A lifecycle fact for the chart, while this connection is the current one. */
  report(event: GatewayMachineEvent): void {
    if (this.live) this.sendBack(refusalSeen(event, this.placement, this.token));
  }

  /** The handshake frame, encoded, with the token where the token rule puts it in the frame. */
  handshakeText(mode: HandshakeMode = this.handshake): string {
    return encodeClientFrame(handshakeFrame(this.deps, mode, this.placement.inHello ? this.token : undefined));
  }

  sendJoin(): void {
    this.write(this.handshakeText('join'));
  }

  heardAt(): number {
    return this.lastHeardAt;
  }

  missed(): void {
    this.report({ type: 'heartbeat.missed' });
  }

  /** Watch liveness at `heartbeatMs` (0, or absent: the gateway does not ping, so no watchdog rather than false alarms). */
  private watch(heartbeatMs: number): void {
    this.unwatch();
    if (this.live && heartbeatMs > 0) this.watchdog = new HeartbeatWatchdog(this.deps.clock, heartbeatMs, this);
  }

  private unwatch(): void {
    this.watchdog?.stop();
    this.watchdog = null;
  }

  // The transport delivered the handshake first.
  opened(): void {
    if (!this.live) return;
    this.isOpen = true;
    this.lastHeardAt = this.deps.clock.now();
    this.sendBack({ type: 'socket.opened' });
  }

  message(data: unknown): void {
    if (!this.live) return;
    if (!this.heardThisTurn) this.hear();
    if (typeof data === 'string') this.route(data);
    else this.deps.error(connectError('bad_server_frame', 'Binary frames are not part of the protocol.'));
  }

  // A close always follows: keep the cause for it.
  error(cause: unknown, reachedServer: boolean): void {
    this.failure = cause;
    this.reachedServer = reachedServer;
  }

  /**
   * Stamp the first frame of a turn. Reading the clock costs about 60 ns (`performance.now()`), as
   * much as the rest of the per-event path, and a turn delivers thousands of frames from one read;
   * to a watchdog that counts seconds they all arrived at once (bench/README.md, throughput).
   */
  private hear(): void {
    this.heardThisTurn = true;
    this.lastHeardAt = this.deps.clock.now();
    if (stampedThisTurn.push(this) === 1) queueMicrotask(endTurn);
  }

  frameTooLarge(): void {
    if (!this.live) return;
    // The gateway broke the frame limit. Our 1009 must not read as "our message was too big"
    // (that would refuse an innocent send), and waiting for the peer's closing handshake could
    // take ws's 30 s: close now and report the close as the protocol violation it is (4000).
    this.tooLarge = true;
    this.deps.failed(frameTooLarge(), true);
    this.connection?.terminate();
  }

  closed(code: number, reason: string): void {
    this.deps.census.closed();
    if (!this.live) return;
    this.live = false;
    if (closeEndsSession(code)) this.deps.tracker.forgetSession();
    if (!this.isOpen) {
      // Never opened: say why, after every failed attempt (the close alone says 1006 and nothing more).
      const why = connectFailure(this.failure, this.url, code);
      this.deps.failed(why.error, true);
      // A gateway that is down (restarting, say) is no reason to leave the transport.
      if (!this.reachedServer) return this.sendBack({ type: 'socket.closed', code, reason: reason || why.short, noConnection: true });
      reason ||= why.short;
    } else if (this.tooLarge) {
      return this.sendBack({ type: 'socket.closed', code: CloseCode.BadFrame, reason: FRAME_TOO_LARGE });
    } else if (this.failure !== null) {
      const lost = connectionLost(this.failure, code);
      if (lost) this.deps.failed(lost, false);
    }
    this.sendBack({ type: 'socket.closed', code, reason });
  }

  command(command: SocketCommand): void {
    switch (command.type) {
      case 'socket.send':
        return void this.write(command.frame);
      case 'socket.flush':
        return this.deps.writeOutbox(this.writeMessage);
      case 'socket.send_message':
        return this.deps.writeOutboxMessage(command.id, this.writeMessage);
      case 'socket.watch_liveness':
        return this.watch(command.heartbeatMs);
      case 'socket.unwatch_liveness':
        return this.unwatch();
      case 'socket.probe_liveness':
        return this.watchdog?.probe();
      case 'socket.terminate':
        this.hard = true;
        return;
      default:
        return assertNever(command);
    }
  }

  /** The actor stopped: close the connection (without the closing handshake after a missed heartbeat). */
  stop(): void {
    this.unwatch();
    const wasLive = this.live;
    this.live = false;
    if (!wasLive || this.connection === null) return;
    if (this.hard) this.connection.terminate();
    else this.connection.close();
  }
}

function openSocket(deps: SocketActorDeps, { input, sendBack, receive }: SocketArgs, token: string | undefined): ReturnType<SocketCallback> {
  const session = new SocketSession(deps, input.handshake, sendBack, token);
  try {
    const placement = placeToken(deps.url(input.node), token, input.transport);
    session.placement = placement;
    session.url = placement.url;
    const request = { url: placement.url, handshake: session.handshakeText(), bearer: placement.inHeader ? token : undefined };
    session.connection = deps.transport(input.transport).connect(request, session);
  } catch (error) {
    // An invalid URL (or a url() that threw) fails at once; report it as a failed connection, not a crash.
    // No URL to be had is no connection tried: not held against the transport.
    const noUrl = error instanceof GatewayConnectError;
    const failed = noUrl ? { error, short: 'no gateway url' } : connectFailure(error, session.url, CloseCode.Abnormal);
    deps.failed(failed.error, true);
    queueMicrotask(() => sendBack({ type: 'socket.closed', code: CloseCode.Abnormal, reason: failed.short, ...(noUrl ? { noConnection: true as const } : {}) }));
    return undefined;
  }
  deps.census.opened();
  receive((command: SocketCommand) => session.command(command));
  return () => session.stop();
}
