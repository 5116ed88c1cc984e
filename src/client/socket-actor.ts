// The socket actor: one connection per invocation, over the client's transport (transport.ts; a
// WebSocket by default). It resolves the token, picks the URL, sends the handshake on open, feeds
// every frame to the frame router, turns open/close into chart events, and closes the connection
// in its cleanup. It alone holds the connection: the chart, the facade and the heartbeat reach it
// by command (actor-commands.ts). Reports from a connection whose actor was stopped are ignored,
// so a late close can never hit the state of the next connection.
import type { CallbackLogicFunction } from 'xstate';
import { CloseCode, closeEndsSession, encodeClientFrame, MAX_SERVER_FRAME_BYTES, placeToken, redactTokens, type ClientFrame, type HelloFrame, type JoinFrame, type ProtocolRange, type TokenPlacement } from '../protocol/index.js';
import { assertNever } from '../protocol/assert-never.js';
import { authRequiredHint, scrubSecret } from '../protocol/credentials.js';
import type { GatewayMachineEvent } from '../../machines/gateway-machine.js';
import type { HandshakeMode, SocketActorInput, SocketCommand } from '../../machines/actor-contracts.js';
import { connectFailure, connectionLost } from './connect-failure.js';
import type { ConnectionCensus } from './connection-census.js';
import { connectError, GatewayConnectError } from './errors.js';
import { createFrameRouter, type FrameRouterTarget } from './frame-router.js';
import type { OutboundMessage } from './outbox.js';
import type { ClientTransport, TransportConnection } from './transport.js';
import type { ClientClock, TokenSource } from './types.js';

/** Writes one outbox message on this connection; false when it could not be written. */
export type MessageWrite = (message: OutboundMessage) => boolean;

/** The client's outbox, as the socket actor writes it on `socket.flush` and `socket.send_message`. */
export interface OutboxWriter {
  /** Resend every queued or unacknowledged message (a new join). */
  flush(write: MessageWrite): void;
  /** Write one queued message. */
  writeOne(id: string, write: MessageWrite): void;
}

/** Everything the socket actor needs from the client. */
export interface SocketActorDeps {
  /** The URL of this attempt (a list or an app function may pick another node each time); throws when it cannot. */
  readonly url: () => string;
  readonly agentId: string;
  /** A fixed token, or a function called before each attempt (resolved before the connection opens). */
  readonly token: TokenSource | undefined;
  readonly protocol: ProtocolRange;
  readonly capabilities: readonly string[];
  /** How the connection is made. */
  readonly transport: ClientTransport;
  readonly clock: ClientClock;
  /** Told of every connection opened and closed, so `disconnect()` can wait for the last close. */
  readonly census: ConnectionCensus;
  readonly outbox: OutboxWriter;
  /** Where frames go; `send`, `lifecycle`, `sendJoin` and `stopped` are bound per connection here. */
  readonly target: Omit<FrameRouterTarget, 'send' | 'lifecycle' | 'sendJoin' | 'stopped'>;
  /** A connection failed with a cause: `report` it (an attempt that never opened) or only record it (a drop). */
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
  const { clock } = deps;
  let live = true;
  let connection: TransportConnection;
  let url = '';
  let placement: TokenPlacement = { url, inHello: false, inUrl: 'none' };
  let opened = false;
  let failure: unknown = null;
  let tooLarge = false;
  /** Monotonic time of the last frame received (any frame counts as life), for the heartbeat. */
  let lastHeardAt = clock.now();

  const write = (frame: ClientFrame | string): boolean => live && connection.send(typeof frame === 'string' ? frame : encodeClientFrame(frame));
  const writeMessage: MessageWrite = (message) => write(message.text);
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

  try {
    placement = placeToken(deps.url(), token);
    url = placement.url;
    connection = deps.transport.connect(url, {
      opened() {
        if (!live) return;
        opened = true;
        lastHeardAt = clock.now();
        write(handshakeFrame(deps, input.handshake, token));
        sendBack({ type: 'socket.opened' });
      },
      message(data) {
        if (!live) return;
        lastHeardAt = clock.now();
        if (typeof data === 'string') route(data);
        else deps.target.error(connectError('bad_server_frame', 'Binary frames are not part of the protocol.'));
      },
      // A close always follows: keep the cause for it.
      error(cause) {
        failure = cause;
      },
      frameTooLarge() {
        if (!live) return;
        // The gateway broke the frame limit. Our 1009 must not read as "our message was too big"
        // (that would refuse an innocent send), and waiting for the peer's closing handshake could
        // take ws's 30 s: close now and report the close as the protocol violation it is (4000).
        tooLarge = true;
        deps.failed(frameTooLarge(), true);
        connection.terminate();
      },
      closed(code, reason) {
        deps.census.closed();
        if (!live) return;
        live = false;
        if (closeEndsSession(code)) deps.target.tracker.forgetSession();
        if (!opened) {
          // Never opened: say why, after every failed attempt (the close alone says 1006 and nothing more).
          const why = connectFailure(failure, url, code);
          deps.failed(why.error, true);
          reason ||= why.short;
        } else if (tooLarge) {
          return sendBack({ type: 'socket.closed', code: CloseCode.BadFrame, reason: FRAME_TOO_LARGE });
        } else if (failure !== null) {
          const lost = connectionLost(failure, code);
          if (lost) deps.failed(lost, false);
        }
        sendBack({ type: 'socket.closed', code, reason });
      },
    });
  } catch (error) {
    // An invalid URL (or a url() that threw) fails at once; report it as a failed connection, not a crash.
    const failed = error instanceof GatewayConnectError ? { error, short: 'no gateway url' } : connectFailure(error, url, CloseCode.Abnormal);
    deps.failed(failed.error, true);
    queueMicrotask(() => sendBack({ type: 'socket.closed', code: CloseCode.Abnormal, reason: failed.short }));
    return undefined;
  }
  deps.census.opened();

  // Set by the chart's answer to a missed heartbeat: the peer will not answer a closing handshake.
  let hard = false;
  receive((command: SocketCommand) => {
    switch (command.type) {
      case 'socket.send':
        return void write(command.frame);
      case 'socket.flush':
        return deps.outbox.flush(writeMessage);
      case 'socket.send_message':
        return deps.outbox.writeOne(command.id, writeMessage);
      case 'socket.report_heard':
        return command.replyTo.send({ type: 'heard', at: lastHeardAt });
      case 'socket.terminate':
        hard = true;
        return;
      default:
        return assertNever(command);
    }
  });

  return () => {
    const wasLive = live;
    live = false;
    if (!wasLive) return;
    if (hard) connection.terminate();
    else connection.close();
  };
}
