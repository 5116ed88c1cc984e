// One client's state and its answers to the chart, the socket and the tracker, in one object: the
// ports the shared chart's actors look up (client-machine.ts), the tracker's sink, the event
// streams' hooks and the lifecycle watcher's changes are all this object's methods, so a client
// costs one object and its parts rather than a closure per callback (bench/README.md, memory).
// It holds no lifecycle logic: the chart decides, this object carries out and reports.
import { closeMeansTooBig, CloseCode, type ConnectErrorData, type HelloOkFrame, type JoinedFrame, type ProtocolRange } from '../protocol/index.js';
import { socketActorOf, type SocketCommand } from '../../machines/actor-contracts.js';
import type { AttemptFailure, GatewayContext } from '../../machines/gateway-machine.js';
import type { TransportName } from '../../machines/transport-fallback.js';
import { isOnline } from './browser-signals.js';
import { createClientActor, type ClientPorts } from './client-machine.js';
import type { ClientParts } from './client-parts.js';
import { createChartView } from './chart-view.js';
import { createConnectWaiters, type ConnectWaiters } from './connect-waiters.js';
import { createConnectionCensus, type ConnectionCensus } from './connection-census.js';
import { connectError, GatewayConnectError } from './errors.js';
import { createEventStreams, DEFAULT_MAX_BUFFERED_EVENTS, type EventStreamHooks, type EventStreams } from './event-stream.js';
import { createFailureReport, type FailureReport } from './failure-report.js';
import type { GapTracker, TrackerSink } from './gap-tracker.js';
import { createUrlPicker, type UrlPicker } from './gateway-urls.js';
import { NO_TERMS, termsOf, type HandshakeTerms } from './handshake-terms.js';
import { createListenerFailures, createListenerSet, isolateInspector, type ListenerFailures, type ListenerSet } from './listener-set.js';
import { createMessageRetries, type MessageRetries } from './message-retries.js';
import { DEFAULT_CAPABILITIES, DEFAULT_OUTBOX_MAX_MESSAGES, systemClock } from './options.js';
import { createOutbox, type Outbox } from './outbox.js';
import { createResyncWaiters, type ResyncWaiters, type SnapshotRequest } from './resync-waiters.js';
import { watchLifecycle, type LifecycleChanges, type LifecycleView } from './snapshot-differ.js';
import type { MessageWrite } from './socket-actor.js';
import type { ClientTransport } from './transport.js';
import type { ChartInspector, ClientChart, ClientClock, ClientState, GapInfo, GatewayClientOptions, GatewayEvent, SessionSnapshot, TokenSource } from './types.js';

/** One client: its parts, and what it does when the chart, the socket or the tracker calls. */
export class ClientCore implements ClientPorts, TrackerSink, EventStreamHooks, LifecycleChanges, SnapshotRequest {
  // What the socket actor reads on every attempt.
  readonly agentId: string;
  readonly token: TokenSource | undefined;
  readonly capabilities: readonly string[];
  readonly clock: ClientClock;
  readonly census: ConnectionCensus = createConnectionCensus();
  readonly tracker: GapTracker;

  readonly listenerFailures: ListenerFailures;
  readonly states: ListenerSet<ClientState>;
  readonly gaps: ListenerSet<GapInfo>;
  readonly events: ListenerSet<GatewayEvent>;
  readonly errors: ListenerSet<GatewayConnectError>;
  readonly snapshots: ListenerSet<SessionSnapshot>;
  readonly failures: FailureReport;
  readonly streams: EventStreams;
  readonly outbox: Outbox;
  readonly connectWaiters: ConnectWaiters;
  readonly resyncs: ResyncWaiters;
  readonly retries: MessageRetries;
  readonly urls: UrlPicker;
  readonly actor: ReturnType<typeof createClientActor>;
  readonly lifecycle: LifecycleView;
  /** What the last join agreed. */
  terms: HandshakeTerms = NO_TERMS;
  readonly maxMessages: number;
  readonly maxBufferedEvents: number;
  overflows = 0;
  droppedEarly = 0;
  reportedDroppedOnLoad = false;
  private chartView: ClientChart | null = null;
  /** Made on first use: a client that never falls back never builds its HTTP transport. */
  private readonly transports: Partial<Record<TransportName, ClientTransport>> = {};

  constructor(
    private readonly options: GatewayClientOptions,
    readonly protocol: ProtocolRange,
    private readonly parts: ClientParts,
  ) {
    this.agentId = options.agentId;
    this.token = options.token;
    this.capabilities = options.capabilities ?? DEFAULT_CAPABILITIES;
    this.clock = options.clock ?? systemClock;
    this.listenerFailures = createListenerFailures((error) => this.errors.emit(error));
    const failed = (cause: unknown, kind: string): void => this.listenerFailures.failed(cause, kind);
    this.states = createListenerSet('onState', failed);
    this.gaps = createListenerSet('onGap', failed);
    this.events = createListenerSet('onEvent', failed);
    this.errors = createListenerSet('onError', failed);
    this.snapshots = createListenerSet('onSnapshot', failed);
    this.failures = createFailureReport((error) => this.errors.emit(error));
    this.maxBufferedEvents = options.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS;
    this.streams = createEventStreams(this.maxBufferedEvents, this);
    const { resume } = options;
    this.tracker = parts.createTracker(
      this,
      resume?.sessionId ?? options.sessionId,
      resume ? { cursor: resume.cursor, ...(resume.epoch === null ? {} : { epoch: resume.epoch }) } : undefined,
    );
    this.maxMessages = options.outbox?.maxMessages ?? DEFAULT_OUTBOX_MAX_MESSAGES;
    this.outbox = createOutbox(this.maxMessages, undefined, options.outbox?.store);
    this.connectWaiters = createConnectWaiters(
      this.clock,
      () => this.actor.getSnapshot().context.failure?.count ?? 0,
      (waitedMs, count) => this.failures.gaveUp(waitedMs, count),
    );
    this.resyncs = createResyncWaiters(this);
    // Not joined when one falls due: the next join's flush resends it with everything else.
    this.retries = createMessageRetries(this.clock, (id) => {
      if (this.lifecycle.state === 'joined') this.command({ type: 'socket.send_message', id });
    });
    this.urls = createUrlPicker(options.url);
    this.actor = createClientActor(
      this,
      {
        input: {
          ...(options.reconnect === undefined ? {} : { reconnect: options.reconnect }),
          ...(options.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
          ...(options.random === undefined ? {} : { random: options.random }),
          refreshableToken: typeof options.token === 'function',
          online: isOnline(),
          ...(options.transports === undefined ? {} : { transports: Object.freeze([...options.transports]) }),
          ...(Array.isArray(options.url) ? { nodes: options.url.length } : {}),
        },
        clock: this.clock,
        ...(options.inspect === undefined ? {} : { inspect: isolateInspector(options.inspect, failed) }),
      },
      parts.machine,
    );
    this.lifecycle = watchLifecycle(this.actor, this);
    this.actor.start();
  }

  /** The chart, read-only, made when an app first asks for it. */
  get chart(): ClientChart {
    return (this.chartView ??= createChartView(this.actor, (observer: ChartInspector) => isolateInspector(observer, (cause, kind) => this.listenerFailures.failed(cause, kind))));
  }

  /** Tell the running socket actor what to write; between connections there is none, and nothing is written. */
  command(socketCommand: SocketCommand): void {
    socketActorOf(this.actor.getSnapshot())?.send(socketCommand);
  }

  /** The client stopped (terminal error, or the user): settle everything that was waiting. */
  stopWith(error: GatewayConnectError, streamError: GatewayConnectError | null = error): void {
    this.connectWaiters.settle(error);
    this.retries.cancelAll();
    this.outbox.rejectAll(error);
    this.resyncs.rejectAll(error);
    this.streams.finish(streamError);
  }

  // The tracker's sink: the per-event path.
  event(event: GatewayEvent): void {
    this.events.emit(event);
    this.streams.push(event);
  }

  gap(gap: GapInfo): void {
    this.gaps.emit(gap);
  }

  // The event streams' hooks.
  overflow(buffered: number): void {
    // Events still in the batch being delivered land here too; one pause is enough.
    if (!this.actor.getSnapshot().matches('joined')) return;
    this.overflows++;
    this.actor.send({ type: 'consumer.overflow' });
    const resumeAt = Math.floor(this.maxBufferedEvents / 2);
    this.errors.emit(connectError('consumer_overflow', `An events() loop is ${buffered} events behind (maxBufferedEvents); the client left the gateway and rejoins from its cursor once the loop is down to ${resumeAt}. Nothing is lost.`));
  }

  drained(): void {
    // Only a pause waits for this; after the app's own connect() it is old news.
    if (this.actor.getSnapshot().matches({ reconnecting: 'backpressure' })) this.actor.send({ type: 'consumer.drained' });
  }

  earlyDropped(count: number): void {
    this.droppedEarly += count;
    this.errors.emit(connectError('events_dropped', `${count} events arrived before any events() loop or onEvent listener and were not kept (maxBufferedEvents); a later events() loop starts from the next event.`));
  }

  // The ports of the socket actor.
  transport(name: TransportName): ClientTransport {
    return (this.transports[name] ??= this.parts.createTransport(name, this.options));
  }

  url(node: number): string {
    // 1001 is a planned stop (a drain or a restart): the next node is tried, with no failure counted.
    const { attempt, lastClose } = this.actor.getSnapshot().context;
    return this.urls.next({ attempt, lastClose, drain: lastClose?.code === CloseCode.GoingAway }, node);
  }

  // The port of the transport probe: the node of the current connection.
  currentUrl(): string | null {
    return this.urls.current;
  }

  writeOutbox(write: MessageWrite): void {
    this.outbox.flush(write, this.terms.acks, this.terms.policy?.max_payload);
  }

  writeOutboxMessage(id: string, write: MessageWrite): void {
    this.outbox.writeOne(id, write, this.terms.acks);
  }

  accepted(frame: HelloOkFrame | JoinedFrame): void {
    this.terms = termsOf(frame);
  }

  ack(id: string, duplicate: boolean): void {
    this.outbox.ack(id, duplicate);
  }

  messageError(id: string, error: GatewayConnectError): void {
    this.outbox.fail(id, error);
  }

  messageRetry(id: string, afterMs: number): void {
    this.retries.schedule(id, afterMs);
  }

  snapshot(snapshot: SessionSnapshot): void {
    this.resyncs.answered(snapshot);
    this.snapshots.emit(snapshot);
  }

  error(error: GatewayConnectError): void {
    this.errors.emit(error);
  }

  failed(error: GatewayConnectError, report: boolean): void {
    this.failures.connection(error, report);
  }

  // The chart's `flushOutbox` action, on every join.
  flushOutbox(): void {
    this.retries.cancelAll();
    this.command({ type: 'socket.flush' });
    this.resyncs.joined();
  }

  // How resync() asks the gateway for a snapshot.
  resyncOffered(): boolean {
    return this.terms.resync;
  }

  requestResync(): void {
    this.command({ type: 'socket.send', frame: { type: 'resync' } });
  }

  // What the lifecycle watcher reports.
  chartError(error: ConnectErrorData): void {
    this.failures.chart(error);
  }

  failureCounted(failure: AttemptFailure, context: GatewayContext): void {
    this.failures.counted(failure, context.options.handshakeTimeoutMs);
    this.connectWaiters.failed();
  }

  connectionClosed(close: NonNullable<GatewayContext['lastClose']>): void {
    // "Too big" from a gateway that announced no limit (or from one that ignored its own):
    // the largest frame in flight caused it. Resending it after the rejoin would loop forever.
    if (closeMeansTooBig(close.code)) this.outbox.refuseLargestInFlight(close.code);
  }

  stateChanged(next: ClientState, error: ConnectErrorData | null): void {
    this.states.emit(next);
    if (next === 'joined') this.connectWaiters.settle(null);
    if (next === 'disconnected' && error !== null) this.stopWith(new GatewayConnectError(error));
  }
}
