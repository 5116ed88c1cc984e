// The facade: a plain object that turns method calls into chart events and socket commands, and
// reads the snapshot (snapshot-differ.ts says what changed). It holds no lifecycle logic and no
// connection: it plugs the client's parts into the chart's actors (client-machine.ts) and fans
// out what the tracker delivers (events, gaps, snapshots) to subscribers, straight from the socket.
import { closeMeansTooBig, CloseCode } from '../protocol/index.js';
import { socketActorOf, type SocketCommand } from '../../machines/actor-contracts.js';
import { isOnline } from './browser-signals.js';
import { createClientActor, type ClientPorts } from './client-machine.js';
import { DEFAULT_CLIENT_PARTS, type ClientParts } from './client-parts.js';
import { createConnectWaiters, DEFAULT_CONNECT_TIMEOUT_MS } from './connect-waiters.js';
import { createConnectionCensus } from './connection-census.js';
import { connectError, GatewayConnectError } from './errors.js';
import { createEventStreams, DEFAULT_MAX_BUFFERED_EVENTS } from './event-stream.js';
import { createFailureReport } from './failure-report.js';
import { createUrlPicker } from './gateway-urls.js';
import { NO_TERMS, termsOf, type HandshakeTerms } from './handshake-terms.js';
import { createChartView } from './chart-view.js';
import { createListenerFailures, createListenerSet, isolateInspector } from './listener-set.js';
import { createMessageRetries } from './message-retries.js';
import { DEFAULT_CAPABILITIES, DEFAULT_OUTBOX_MAX_MESSAGES, systemClock, validateOptions } from './options.js';
import { createOutbox } from './outbox.js';
import { createResyncWaiters } from './resync-waiters.js';
import { watchLifecycle } from './snapshot-differ.js';
import type { ClientState, GapInfo, GatewayClient, GatewayClientOptions, GatewayEvent, SessionSnapshot } from './types.js';

/** How long `disconnect()` waits for the connection's closing handshake before it returns anyway. */
const DISCONNECT_WAIT_MS = 1000;

/** Create a client. Throws a `GatewayConnectError` with code `invalid_options` for unusable options. */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  return assembleGatewayClient(options, DEFAULT_CLIENT_PARTS);
}

/** A client built from the given parts (client-parts.ts); no entry point exports it. */
export function assembleGatewayClient(options: GatewayClientOptions, parts: ClientParts): GatewayClient {
  const protocol = validateOptions(options);
  const clock = options.clock ?? systemClock;
  const listenerFailures = createListenerFailures((error) => errors.emit(error));
  const listenerFailed = (cause: unknown, kind: string): void => listenerFailures.failed(cause, kind);
  const states = createListenerSet<ClientState>('onState', listenerFailed);
  const gaps = createListenerSet<GapInfo>('onGap', listenerFailed);
  const events = createListenerSet<GatewayEvent>('onEvent', listenerFailed);
  const errors = createListenerSet<GatewayConnectError>('onError', listenerFailed);
  const snapshots = createListenerSet<SessionSnapshot>('onSnapshot', listenerFailed);
  const failures = createFailureReport(errors.emit);
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
  const census = createConnectionCensus();
  let terms: HandshakeTerms = NO_TERMS;
  const connectWaiters = createConnectWaiters(
    clock,
    () => actor.getSnapshot().context.failure?.count ?? 0,
    (waitedMs, count) => failures.gaveUp(waitedMs, count),
  );

  /** Tell the running socket actor what to write; between connections there is none, and nothing is written. */
  const socket = () => socketActorOf(actor.getSnapshot());
  const command = (socketCommand: SocketCommand): void => socket()?.send(socketCommand);
  const resyncs = createResyncWaiters({ offered: () => terms.resync, send: () => command({ type: 'socket.send', frame: { type: 'resync' } }) });
  // Not joined when one falls due: the next join's flush resends it with everything else.
  const retries = createMessageRetries(clock, (id) => {
    if (lifecycle.state === 'joined') command({ type: 'socket.send_message', id });
  });

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
      transport: parts.createTransport(options),
      clock,
      census,
      outbox: {
        flush: (write) => outbox.flush(write, terms.acks, terms.policy?.max_payload),
        writeOne: (id, write) => outbox.writeOne(id, write, terms.acks),
      },
      target: {
        tracker,
        accepted(frame) {
          terms = termsOf(frame);
        },
        ack: (id, duplicate) => outbox.ack(id, duplicate),
        messageError: (id, error) => outbox.fail(id, error),
        messageRetry: (id, afterMs) => retries.schedule(id, afterMs),
        snapshot: (snapshot) => {
          resyncs.answered(snapshot);
          snapshots.emit(snapshot);
        },
        error: errors.emit,
      },
      failed: (error, report) => failures.connection(error, report),
    },
    heartbeat: { clock, socket },
    flushOutbox: () => {
      retries.cancelAll();
      command({ type: 'socket.flush' });
      resyncs.joined();
    },
  };

  const actor = createClientActor(
    ports,
    {
      input: {
        ...(options.reconnect === undefined ? {} : { reconnect: options.reconnect }),
        ...(options.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
        ...(options.random === undefined ? {} : { random: options.random }),
        refreshableToken: typeof options.token === 'function',
        online: isOnline(),
      },
      clock,
      ...(options.inspect === undefined ? {} : { inspect: isolateInspector(options.inspect, listenerFailed) }),
    },
    parts.machine,
  );

  const lifecycle = watchLifecycle(actor, {
    error: (error) => failures.chart(error),
    failed(failure, context) {
      failures.counted(failure, context.handshakeTimeoutMs);
      connectWaiters.failed();
    },
    closed(close) {
      // "Too big" from a gateway that announced no limit (or from one that ignored its own):
      // the largest frame in flight caused it. Resending it after the rejoin would loop forever.
      if (closeMeansTooBig(close.code)) outbox.refuseLargestInFlight(close.code);
    },
    state(next, error) {
      states.emit(next);
      if (next === 'joined') connectWaiters.settle(null);
      if (next === 'disconnected' && error !== null) stopWith(new GatewayConnectError(error));
    },
  });
  actor.start();
  let reportedDroppedOnLoad = false;

  /** The client stopped (terminal error, or the user): settle everything that was waiting. */
  function stopWith(error: GatewayConnectError, streamError: GatewayConnectError | null = error): void {
    connectWaiters.settle(error);
    retries.cancelAll();
    outbox.rejectAll(error);
    resyncs.rejectAll(error);
    streams.finish(streamError);
  }

  return {
    connect(connectOptions = {}) {
      if (lifecycle.state === 'joined') return Promise.resolve();
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
      const { id, done } = outbox.add(content, terms.policy?.max_payload);
      if (id !== '' && lifecycle.state === 'joined') command({ type: 'socket.send_message', id });
      return done;
    },
    resync: () => resyncs.add(lifecycle.state === 'joined'),
    checkpoint() {
      const sessionId = tracker.sessionId;
      return sessionId === null ? null : { sessionId, epoch: tracker.epoch, cursor: tracker.cursor };
    },
    get state() {
      return lifecycle.state;
    },
    get info() {
      const snapshot = actor.getSnapshot();
      const { context } = snapshot;
      return {
        protocol: context.protocol,
        sessionId: tracker.sessionId,
        cursor: tracker.cursor,
        epoch: tracker.epoch,
        presence: terms.presence,
        health: terms.health,
        features: terms.features,
        policy: terms.policy,
        attempt: context.attempt,
        retryInMs: context.retryInMs,
        outage: context.outage,
        lastClose: context.lastClose,
        url: urls.current,
        resume: tracker.resume,
        listenerErrors: listenerFailures.count,
        lastError: failures.last,
        backpressure: {
          buffered: streams.buffered,
          maxBufferedEvents,
          paused: snapshot.matches({ reconnecting: 'backpressure' }),
          overflows: backpressure.overflows,
          earlyDropped: backpressure.earlyDropped,
        },
      };
    },
    chart: createChartView(actor, (observer) => isolateInspector(observer, listenerFailed)),
    async disconnect() {
      actor.send({ type: 'user.disconnect' });
      stopWith(connectError('client_closed', 'disconnect() was called.'), null);
      let timer: unknown = null;
      await Promise.race([
        census.allClosed(),
        new Promise<void>((resolve) => {
          timer = clock.setTimeout(() => resolve(), DISCONNECT_WAIT_MS);
        }),
      ]);
      if (timer !== null) clock.clearTimeout(timer);
    },
  };
}
