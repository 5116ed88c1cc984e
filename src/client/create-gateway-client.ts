// The facade: a plain object that turns method calls into chart events and reads the snapshot.
// It holds no lifecycle logic; it wires the real actors into the chart and fans out what the
// tracker delivers (events, gaps, snapshots) to subscribers, straight from the socket.
import WebSocket from 'isomorphic-ws';
import { closeMeansTooBig, CloseCode, type ClientFrame, type Features, type Health, type HelloOkFrame, type JoinedFrame, type Policy, type PresenceEntry } from '../protocol/index.js';
import { isOnline } from './browser-signals.js';
import { connectError, GatewayConnectError } from './errors.js';
import { createConnectWaiters, DEFAULT_CONNECT_TIMEOUT_MS } from './connect-waiters.js';
import { createEventStreams, DEFAULT_MAX_BUFFERED_EVENTS } from './event-stream.js';
import { createListenerSet, isolateInspector } from './listener-set.js';
import { createClientActor, type ClientPorts } from './client-machine.js';
import { DEFAULT_CLIENT_PARTS, type ClientParts } from './client-parts.js';
import { DEFAULT_CAPABILITIES, DEFAULT_OUTBOX_MAX_MESSAGES, validateOptions } from './options.js';
import { createUrlPicker } from './gateway-urls.js';
import { createMessageRetries } from './message-retries.js';
import { createOutbox, type OutboundMessage } from './outbox.js';
import { publicState } from './public-state.js';
import { createSocketLink } from './socket-actor.js';
import type {
  ClientClock,
  ClientState,
  GapInfo,
  GatewayClient,
  GatewayClientOptions,
  GatewayEvent,
  SessionSnapshot,
  WebSocketClass,
} from './types.js';

/** The global timers, monotonic `performance.now()` and wall-clock `Date.now()`. */
export const systemClock: ClientClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
  now: () => performance.now(),
  wallNow: () => Date.now(),
};

/** `resync()`'s `configuration_error` where the gateway offers none (the Python client's words too). */
const NO_RESYNC =
  "This gateway offers no resync method (its hello_ok does not list resync; PraisonAI's does not): the events a gap reported are gone. Rebuild the state your own way (your app's own store or history), and carry on: later events keep arriving.";

/** How long `disconnect()` waits for the socket's closing handshake before it returns anyway. */
const DISCONNECT_WAIT_MS = 1000;

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: GatewayConnectError): void;
}

/** Create a client. Throws a `GatewayConnectError` with code `invalid_options` for unusable options. */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  return assembleGatewayClient(options, DEFAULT_CLIENT_PARTS);
}

/** A client built from the given parts (client-parts.ts); no entry point exports it. */
export function assembleGatewayClient(options: GatewayClientOptions, parts: ClientParts): GatewayClient {
  const protocol = validateOptions(options);
  const clock = options.clock ?? systemClock;
  let listenerErrors = 0;
  let reportingListenerError = false;
  /** A listener threw: tell `onError` listeners, once. A throw while hearing about a throw stops here. */
  function listenerFailed(cause: unknown, kind: string): void {
    listenerErrors++;
    if (reportingListenerError) return;
    reportingListenerError = true;
    try {
      const why = cause instanceof Error ? cause.message : String(cause);
      errors.emit(connectError('listener_error', `An ${kind} listener threw: ${why}`, {}, cause));
    } finally {
      reportingListenerError = false;
    }
  }
  const states = createListenerSet<ClientState>('onState', listenerFailed);
  const gaps = createListenerSet<GapInfo>('onGap', listenerFailed);
  const events = createListenerSet<GatewayEvent>('onEvent', listenerFailed);
  const errors = createListenerSet<GatewayConnectError>('onError', listenerFailed);
  const snapshots = createListenerSet<SessionSnapshot>('onSnapshot', listenerFailed);
  const maxBufferedEvents = options.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS;
  const backpressure = { overflows: 0, earlyDropped: 0 };
  const streams = createEventStreams(maxBufferedEvents, {
    overflow(buffered) {
      // Events still in the batch being delivered land here too; one pause is enough.
      if (!actor.getSnapshot().matches('joined')) return;
      backpressure.overflows++;
      actor.send({ type: 'consumer.overflow' });
      const resumeAt = Math.floor(maxBufferedEvents / 2);
      errors.emit(connectError('consumer_overflow', `An events() loop is ${buffered} events behind (maxBufferedEvents); the client left the gateway and rejoins from its cursor once the loop is down to ${resumeAt}. Nothing is lost.`));
    },
    drained() {
      // Only a pause waits for this; after the app's own connect() it is old news.
      if (actor.getSnapshot().matches({ reconnecting: 'backpressure' })) actor.send({ type: 'consumer.drained' });
    },
    earlyDropped(count) {
      backpressure.earlyDropped += count;
      errors.emit(connectError('events_dropped', `${count} events arrived before any events() loop or onEvent listener and were not kept (maxBufferedEvents); a later events() loop starts from the next event.`));
    },
  });
  const tracker = parts.createTracker(
    {
      event(event) {
        events.emit(event);
        streams.push(event);
      },
      gap: gaps.emit,
    },
    options.resume?.sessionId ?? options.sessionId,
    options.resume ? { cursor: options.resume.cursor, ...(options.resume.epoch === null ? {} : { epoch: options.resume.epoch }) } : undefined,
  );
  const maxMessages = options.outbox?.maxMessages ?? DEFAULT_OUTBOX_MAX_MESSAGES;
  const outbox = createOutbox(maxMessages, undefined, options.outbox?.store);
  const link = createSocketLink();
  // Failed attempts so far (the chart's counter resets; this one only grows), for connect({ maxFailures }).
  let failedAttempts = 0;
  let lastFailure: GatewayConnectError | null = null;
  const connectWaiters = createConnectWaiters(clock, () => failedAttempts, (waitedMs, failures) => {
    const cause = lastFailure === null ? 'no attempt has failed yet' : `last cause: ${lastFailure.message}`;
    return connectError(
      'connect_timeout',
      `connect() gave up after ${Math.round(waitedMs)} ms and ${failures} failed attempts (${cause}). The client keeps trying until disconnect().`,
      { nextStep: lastFailure?.nextStep ?? 'wait_then_retry', ...(lastFailure?.closeCode === undefined ? {} : { closeCode: lastFailure.closeCode }) },
      lastFailure ?? undefined,
    );
  });
  let resyncWaiters: Array<Waiter<SessionSnapshot>> = [];
  let handshake: {
    features: Features | null;
    policy: Policy | null;
    presence: readonly PresenceEntry[];
    health: Health | null;
    acks: boolean;
    resync: boolean;
  } = { features: null, policy: null, presence: [], health: null, acks: false, resync: true };

  const write = (frame: ClientFrame): boolean => link.current?.write(frame) ?? false;
  const writeMessage = (message: OutboundMessage): boolean => link.current?.write(message.text) ?? false;
  // Not joined when one falls due: the next join's flush resends it with everything else.
  const retries = createMessageRetries(clock, (id) => {
    if (state === 'joined') outbox.writeOne(id, writeMessage, handshake.acks);
  });

  function onAccepted(frame: HelloOkFrame | JoinedFrame): void {
    const features = frame.type === 'hello_ok' ? frame.features : null;
    const extensions = features?.extensions ?? [];
    handshake = {
      features,
      policy: frame.policy ?? null,
      presence: frame.type === 'hello_ok' ? (frame.presence ?? []) : [],
      health: frame.type === 'hello_ok' ? (frame.health ?? null) : null,
      acks: extensions.includes('ack'),
      // Legacy gateways list no methods; try, since their join path may answer resync.
      resync: features === null || features.methods.includes('resync') || extensions.includes('snapshot'),
    };
  }

  function onSnapshot(snapshot: SessionSnapshot): void {
    const waiters = resyncWaiters;
    resyncWaiters = [];
    for (const waiter of waiters) waiter.resolve(snapshot);
    snapshots.emit(snapshot);
  }

  // 1001 is a planned stop (a drain or a restart): the next node is tried, with no failure counted.
  const urls = createUrlPicker(options.url);
  const ports: ClientPorts = {
    socket: {
      url: () => {
        const { attempt, lastClose } = actor.getSnapshot().context;
        return urls.next({ attempt, lastClose, drain: lastClose?.code === CloseCode.GoingAway });
      },
      agentId: options.agentId,
      token: options.token,
      protocol,
      capabilities: options.capabilities ?? DEFAULT_CAPABILITIES,
      WebSocket: options.WebSocket ?? (WebSocket as unknown as WebSocketClass),
      clock,
      link,
      target: {
        tracker,
        accepted: onAccepted,
        ack: (id, duplicate) => outbox.ack(id, duplicate),
        messageError: (id, error) => outbox.fail(id, error),
        messageRetry: (id, afterMs) => retries.schedule(id, afterMs),
        snapshot: onSnapshot,
        error: errors.emit,
      },
      failed(error, report) {
        lastFailure = error;
        if (report) errors.emit(error);
      },
    },
    heartbeat: { clock, link },
    flushOutbox: () => {
      retries.cancelAll();
      outbox.flush(writeMessage, handshake.acks, handshake.policy?.max_payload);
      if (resyncWaiters.length > 0) requestSnapshot();
    },
  };

  const actor = createClientActor(ports, {
    input: {
      ...(options.reconnect === undefined ? {} : { reconnect: options.reconnect }),
      ...(options.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
      ...(options.random === undefined ? {} : { random: options.random }),
      refreshableToken: typeof options.token === 'function',
      online: isOnline(),
    },
    clock,
    ...(options.inspect === undefined ? {} : { inspect: isolateInspector(options.inspect, listenerFailed) }),
  }, parts.machine);

  let state: ClientState = 'disconnected';
  let lastError: unknown = null;
  let lastAttempt = 0;
  let lastClose: { readonly code: number } | null = null;
  actor.subscribe((snapshot) => {
    const error = snapshot.context.error;
    if (error !== null && error !== lastError) {
      lastFailure = new GatewayConnectError(error);
      errors.emit(lastFailure);
    }
    lastError = error;
    if (snapshot.context.attempt > lastAttempt) {
      // A socket that never answered has no cause of its own to report: say what timed out.
      if (snapshot.context.lastClose?.reason === 'handshake_timeout') handshakeTimedOut(snapshot.context.handshakeTimeoutMs);
      failedAttempts += snapshot.context.attempt - lastAttempt;
      connectWaiters.failed();
    }
    lastAttempt = snapshot.context.attempt;
    const close = snapshot.context.lastClose;
    if (close !== lastClose) {
      lastClose = close;
      // "Too big" from a gateway that announced no limit (or from one that ignored its own):
      // the largest frame in flight caused it. Resending it after the rejoin would loop forever.
      if (close && closeMeansTooBig(close.code)) outbox.refuseLargestInFlight(close.code);
    }
    const next = publicState(snapshot);
    if (next === state) return;
    state = next;
    states.emit(next);
    if (next === 'joined') settleConnect(null);
    if (next === 'disconnected' && error !== null) stopWith(new GatewayConnectError(error));
  });
  actor.start();
  let reportedDroppedOnLoad = false;

  function handshakeTimedOut(ms: number): void {
    lastFailure = connectError(
      'connect_failed',
      `No answer within handshakeTimeoutMs (${ms} ms): the socket did not open or the gateway did not answer hello. A firewall may drop the packets, or the gateway is overloaded. The client retries.`,
      { nextStep: 'wait_then_retry', closeCode: CloseCode.HandshakeTimeout },
    );
    errors.emit(lastFailure);
  }

  function settleConnect(error: GatewayConnectError | null): void {
    connectWaiters.settle(error);
  }

  /** The client stopped (terminal error, or the user): settle everything that was waiting. */
  function stopWith(error: GatewayConnectError, streamError: GatewayConnectError | null = error): void {
    settleConnect(error);
    retries.cancelAll();
    outbox.rejectAll(error);
    const waiters = resyncWaiters;
    resyncWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
    streams.finish(streamError);
  }

  function requestSnapshot(): void {
    if (!handshake.resync) {
      const waiters = resyncWaiters;
      resyncWaiters = [];
      const error = connectError('configuration_error', NO_RESYNC);
      for (const waiter of waiters) waiter.reject(error);
      return;
    }
    write({ type: 'resync' });
  }

  return {
    connect(connectOptions = {}) {
      if (state === 'joined') return Promise.resolve();
      const done = connectWaiters.add(connectOptions, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
      // Reported once the app can be listening: the store held more than the bound allows.
      if (outbox.droppedOnLoad > 0 && !reportedDroppedOnLoad) {
        reportedDroppedOnLoad = true;
        errors.emit(connectError('outbox_full', `The outbox store held ${outbox.droppedOnLoad} messages beyond outbox.maxMessages (${maxMessages}); they were dropped from it and not sent.`));
      }
      actor.send({ type: 'user.connect' });
      return done;
    },
    events: () => streams.iterable(),
    onState: states.add,
    onGap: gaps.add,
    onEvent(listener) {
      // Listening by callback: the early buffer kept for a first events() loop is not needed.
      streams.dropEarly();
      return events.add(listener);
    },
    onError: errors.add,
    onSnapshot: snapshots.add,
    send(content) {
      // Measured against the last join's max_payload; one queued before any join is checked at the flush.
      const { id, done } = outbox.add(content, handshake.policy?.max_payload);
      if (id !== '' && state === 'joined') outbox.writeOne(id, writeMessage, handshake.acks);
      return done;
    },
    resync() {
      const done = new Promise<SessionSnapshot>((resolve, reject) => resyncWaiters.push({ resolve, reject }));
      // Not joined: the request goes out with the outbox on the next join.
      if (state === 'joined' && resyncWaiters.length === 1) requestSnapshot();
      return done;
    },
    checkpoint() {
      const sessionId = tracker.sessionId;
      return sessionId === null ? null : { sessionId, epoch: tracker.epoch, cursor: tracker.cursor };
    },
    get state() {
      return state;
    },
    get info() {
      const context = actor.getSnapshot().context;
      return {
        protocol: context.protocol,
        sessionId: tracker.sessionId,
        cursor: tracker.cursor,
        epoch: tracker.epoch,
        presence: handshake.presence,
        health: handshake.health,
        features: handshake.features,
        policy: handshake.policy,
        attempt: context.attempt,
        retryInMs: context.retryInMs,
        outage: context.outage,
        lastClose: context.lastClose,
        url: urls.current,
        resume: tracker.resume,
        listenerErrors,
        lastError: lastFailure,
        backpressure: {
          buffered: streams.buffered,
          maxBufferedEvents,
          paused: actor.getSnapshot().matches({ reconnecting: 'backpressure' }),
          overflows: backpressure.overflows,
          earlyDropped: backpressure.earlyDropped,
        },
      };
    },
    actor,
    async disconnect() {
      actor.send({ type: 'user.disconnect' });
      stopWith(connectError('client_closed', 'disconnect() was called.'), null);
      let timer: unknown = null;
      await Promise.race([
        link.allClosed(),
        new Promise<void>((resolve) => {
          timer = clock.setTimeout(() => resolve(), DISCONNECT_WAIT_MS);
        }),
      ]);
      if (timer !== null) clock.clearTimeout(timer);
    },
  };
}
