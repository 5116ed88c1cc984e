// What the chart's actors take besides the chart's own events: their inputs and their commands.
// The chart names the actors (`socket`, `transportProbe`, `browserSignals`) and sends some of these
// commands; the client's implementations send each other the rest (nothing outside the socket
// actor holds its connection). XState types an actor's events exactly, so each actor's whole
// vocabulary is declared here, once, for the chart and every implementation of it.
import type { ClientFrame } from '../src/protocol/index.js';
import type { TransportName } from './transport-fallback.js';

/** Which handshake the next socket sends: `hello`, or the legacy `join` once a gateway refused `hello`. */
export type HandshakeMode = 'hello' | 'join';

/** The socket actor's id among the chart's children, where the client finds it to send it commands. */
export const SOCKET_ACTOR_ID = 'socket';

/** Input of the socket actor: which handshake to send, the attempt it belongs to (its tag), to which node and over which transport. */
export interface SocketActorInput {
  readonly handshake: HandshakeMode;
  readonly attempt: number;
  readonly transport: TransportName;
  /** The node: the index of the URL to use in a `url` list (a single URL or a url function ignores it). */
  readonly node: number;
}

/** The transport probe's id among the chart's children. */
export const TRANSPORT_PROBE_ID = 'transportProbe';

/**
 * Input of the transport probe, which a client joined over a fallback transport runs when the
 * preferred one is due: open `transport` to the node of the current connection, sending nothing,
 * and report within `deadlineMs` whether it opened.
 */
export interface TransportProbeInput {
  readonly transport: TransportName;
  readonly deadlineMs: number;
}

/** Input of the browser-signals watcher: whether the chart believes the network is up. */
export interface BrowserSignalsInput {
  readonly online: boolean;
}

/** Anything commands can be sent to: an actor's ref. */
export interface CommandTarget<C> {
  send(command: C): void;
}

/**
 * Commands the socket actor takes. From the chart: `socket.watch_liveness` (joined: run the
 * heartbeat watchdog at the negotiated interval, 0 for none; it sends `heartbeat.missed`),
 * `socket.unwatch_liveness` (no longer joined), `socket.probe_liveness` (check liveness now: the
 * page became visible, the network changed) and `socket.terminate` (the heartbeat presumed the link
 * dead: close without the closing handshake). From the client: `socket.send` (one frame: a resync
 * request), `socket.flush` (the join's resend of every queued or unacknowledged message) and
 * `socket.send_message` (one outbox message, by id). What the connection cannot take is not
 * written; the outbox keeps its messages for the next join.
 */
export type SocketCommand =
  | { readonly type: 'socket.watch_liveness'; readonly heartbeatMs: number }
  | { readonly type: 'socket.unwatch_liveness' }
  | { readonly type: 'socket.probe_liveness' }
  | { readonly type: 'socket.terminate' }
  | { readonly type: 'socket.send'; readonly frame: ClientFrame }
  | { readonly type: 'socket.flush' }
  | { readonly type: 'socket.send_message'; readonly id: string };

/** The running socket actor among a chart snapshot's children, or undefined between connections. */
export function socketActorOf(snapshot: { readonly children: Readonly<Record<string, unknown>> }): CommandTarget<SocketCommand> | undefined {
  return snapshot.children[SOCKET_ACTOR_ID] as CommandTarget<SocketCommand> | undefined;
}
