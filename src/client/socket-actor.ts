// The socket actor: one WebSocket per invocation. It sends the handshake on open, feeds every
// frame to the frame router, turns open/close into chart events, and closes the socket in its
// cleanup. Callbacks from a socket whose actor was stopped are ignored, so a late close can
// never hit the state of the next connection.
import type { CallbackLogicFunction } from 'xstate';
import { authRequiredHint, CloseCode, closeEndsSession, encodeClientFrame, MAX_SERVER_FRAME_BYTES, placeToken, redactTokens, scrubSecret, type ClientFrame, type HelloFrame, type JoinFrame, type ProtocolRange, type TokenPlacement } from '../protocol/index.js';
import type { GatewayMachineEvent, HandshakeMode, SocketActorInput, SocketCommand } from '../../machines/gateway-machine.js';
import { connectFailure, connectionLost } from './connect-failure.js';
import { connectError, GatewayConnectError } from './errors.js';
import { createFrameRouter, type FrameRouterTarget } from './frame-router.js';
import type { ClientClock, TokenSource, WebSocketClass, WebSocketLike } from './types.js';

const OPEN = 1;

/** The live connection, shared by the socket actor, the heartbeat watchdog and the facade. */
export interface SocketLink {
  /** The socket of the running socket actor, or null between connections. */
  /** `write` takes a frame object, or a frame already encoded (outbox messages are encoded once). */
  current: { readonly attempt: number; write(frame: ClientFrame | string): boolean } | null;
  /** Monotonic time (`clock.now()`) of the last frame received (any frame counts as life). */
  lastSeenAt: number;
  /** Sockets created and not yet closed; at most one once a close has been observed. */
  openSockets: number;
  /** Resolves when every socket created so far has closed. */
  allClosed(): Promise<void>;
}

/** Create the shared link. */
export function createSocketLink(): SocketLink {
  let waiters: Array<() => void> = [];
  const link: SocketLink & { closedOne(): void } = {
    current: null,
    lastSeenAt: 0,
    openSockets: 0,
    allClosed() {
      return link.openSockets === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
    },
    closedOne() {
      link.openSockets -= 1;
      if (link.openSockets > 0) return;
      const done = waiters;
      waiters = [];
      for (const resolve of done) resolve();
    },
  };
  return link;
}

/** Everything the socket actor needs from the client. */
export interface SocketActorDeps {
  /** The URL of this attempt (a list or an app function may pick another node each time); throws when it cannot. */
  readonly url: () => string;
  readonly agentId: string;
  /** A fixed token, or a function called before each attempt (resolved before the socket opens). */
  readonly token: TokenSource | undefined;
  readonly protocol: ProtocolRange;
  readonly capabilities: readonly string[];
  readonly WebSocket: WebSocketClass;
  readonly clock: ClientClock;
  readonly link: SocketLink;
  /** Where frames go; `send`, `lifecycle`, `sendJoin` and `stopped` are bound per socket here. */
  readonly target: Omit<FrameRouterTarget, 'send' | 'lifecycle' | 'sendJoin' | 'stopped'>;
  /** A socket failed with a cause: `report` it (an attempt that never opened) or only record it (a drop). */
  readonly failed: (error: GatewayConnectError, report: boolean) => void;
}

function handshakeFrame(deps: SocketActorDeps, mode: HandshakeMode, tokenValue: string | undefined): HelloFrame | JoinFrame {
  const resume = deps.target.tracker.resumeRequest();
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

function closeQuietly(ws: WebSocketLike, hard: boolean): void {
  try {
    if (hard && typeof ws.terminate === 'function') ws.terminate();
    else ws.close(CloseCode.Normal, 'client closing');
  } catch {
    // close() on a socket that never opened throws in some browsers; it is going away anyway.
  }
}

/** ws's error for an incoming frame over `maxPayload`: it stops reading and closes 1009. */
function isInboundTooBig(event: unknown): boolean {
  const error = (event as { error?: unknown } | null)?.error;
  return error instanceof Error && (error as Error & { code?: unknown }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
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
    deps.target.error(connectError('token_unavailable', `The token function failed: ${detail}`, { nextStep: 'wait_then_retry' }, cause));
    args.sendBack({ type: 'socket.closed', code: CloseCode.Abnormal, reason: 'token unavailable' });
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

function openSocket(deps: SocketActorDeps, { input, sendBack, receive }: SocketArgs, token: string | undefined): ReturnType<SocketCallback> {
  const { link, clock } = deps;
  let live = true;
  let ws: WebSocketLike;
  let url = '';
  let placement: TokenPlacement = { url, inHello: false, inUrl: 'none' };
  try {
    placement = placeToken(deps.url(), token);
    url = placement.url;
    ws = new deps.WebSocket(url, undefined, { maxPayload: MAX_SERVER_FRAME_BYTES });
  } catch (error) {
    // An invalid URL (or a url() that threw) fails at once; report it as a failed connection, not a crash.
    const failure = error instanceof GatewayConnectError ? { error, short: 'no gateway url' } : connectFailure(error, url, CloseCode.Abnormal);
    deps.failed(failure.error, true);
    queueMicrotask(() => sendBack({ type: 'socket.closed', code: CloseCode.Abnormal, reason: failure.short }));
    return undefined;
  }
  link.openSockets += 1;
  const write = (frame: ClientFrame | string): boolean => {
    if (!live || ws.readyState !== OPEN) return false;
    ws.send(typeof frame === 'string' ? frame : encodeClientFrame(frame));
    return true;
  };
  const route = createFrameRouter(
    {
      ...deps.target,
      send: (frame) => void write(frame),
      lifecycle: (event) => {
        if (live) sendBack(refusalSeen(event, placement, token));
      },
      sendJoin: () => void write(handshakeFrame(deps, 'join', token)),
      stopped: () => !live,
    },
    input.handshake,
    deps.protocol,
  );
  const connection = { attempt: input.attempt, write };
  link.current = connection;
  link.lastSeenAt = clock.now();

  let opened = false;
  let failure: unknown = null;
  let tooLarge = false;
  ws.onopen = () => {
    if (!live) return;
    opened = true;
    link.lastSeenAt = clock.now();
    write(handshakeFrame(deps, input.handshake, token));
    sendBack({ type: 'socket.opened' });
  };
  ws.onmessage = (message) => {
    if (!live) return;
    link.lastSeenAt = clock.now();
    if (typeof message.data === 'string') route(message.data);
    else deps.target.error(connectError('bad_server_frame', 'Binary frames are not part of the protocol.'));
  };
  // A close always follows an error: keep the cause (ws passes one, browsers hide it) for the close.
  ws.onerror = (event) => {
    failure = event;
    if (!live || !isInboundTooBig(event)) return;
    // The gateway broke the frame limit. Our 1009 must not read as "our message was too big"
    // (that would refuse an innocent send), and waiting for the peer's closing handshake could
    // take ws's 30 s: close now and report the close as the protocol violation it is (4000).
    tooLarge = true;
    deps.failed(frameTooLarge(), true);
    closeQuietly(ws, true);
  };
  ws.onclose = (event) => {
    (link as SocketLink & { closedOne(): void }).closedOne();
    if (!live) return;
    live = false;
    if (link.current === connection) link.current = null;
    if (closeEndsSession(event.code)) deps.target.tracker.forgetSession();
    let reason = event.reason;
    if (!opened) {
      // Never opened: say why, after every failed attempt (the close alone says 1006 and nothing more).
      const why = connectFailure(failure, url, event.code);
      deps.failed(why.error, true);
      reason ||= why.short;
    } else if (tooLarge) {
      return sendBack({ type: 'socket.closed', code: CloseCode.BadFrame, reason: FRAME_TOO_LARGE });
    } else if (failure !== null) {
      const lost = connectionLost(failure, event.code);
      if (lost) deps.failed(lost, false);
    }
    sendBack({ type: 'socket.closed', code: event.code, reason });
  };

  // The chart's answer to a missed heartbeat: the peer will not answer a closing handshake.
  let hard = false;
  receive((command) => {
    if (command.type === 'terminate') hard = true;
  });

  return () => {
    const wasLive = live;
    live = false;
    if (link.current === connection) link.current = null;
    if (wasLive) closeQuietly(ws, hard);
  };
}
