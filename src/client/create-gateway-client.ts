// The facade: the object apps hold. It turns method calls into chart events and socket commands, and
// reads the snapshot (snapshot-differ.ts says what changed). It holds no lifecycle logic and no
// connection: the client's state and its answers to the chart, the socket and the tracker live in
// one ClientCore (client-core.ts); this object is what apps hold.
import { currentTransport } from '../../machines/transport-fallback.js';
import { ClientCore } from './client-core.js';
import { DEFAULT_CLIENT_PARTS, type ClientParts } from './client-parts.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './connect-waiters.js';
import { connectError } from './errors.js';
import { validateOptions } from './options.js';
import type { ClientChart, ClientState, GatewayClient, GatewayClientOptions, GatewayInfo } from './types.js';

/** How long `disconnect()` waits for the connection's closing handshake before it returns anyway. */
const DISCONNECT_WAIT_MS = 1000;

/** Create a client. Throws a `GatewayConnectError` with code `invalid_options` for unusable options. */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  return assembleGatewayClient(options, DEFAULT_CLIENT_PARTS);
}

/** A client built from the given parts (client-parts.ts); no entry point exports it. */
export function assembleGatewayClient(options: GatewayClientOptions, parts: ClientParts): GatewayClient {
  const core = new ClientCore(options, validateOptions(options), parts);
  return new Facade(core, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
}

function connect(core: ClientCore, connectOptions: Parameters<GatewayClient['connect']>[0], connectTimeoutMs: number): Promise<void> {
  if (core.lifecycle.state === 'joined') return Promise.resolve();
  const done = core.connectWaiters.add(connectOptions ?? {}, connectTimeoutMs);
  // Reported once the app can be listening: the store held more than the bound allows.
  if (core.outbox.droppedOnLoad > 0 && !core.reportedDroppedOnLoad) {
    core.reportedDroppedOnLoad = true;
    core.errors.emit(connectError('outbox_full', `The outbox store held ${core.outbox.droppedOnLoad} messages beyond outbox.maxMessages (${core.maxMessages}); they were dropped from it and not sent.`));
  }
  core.actor.send({ type: 'user.connect' });
  return done;
}

async function disconnect(core: ClientCore): Promise<void> {
  core.actor.send({ type: 'user.disconnect' });
  core.stopWith(connectError('client_closed', 'disconnect() was called.'), null);
  let timer: unknown = null;
  await Promise.race([
    core.census.allClosed(),
    new Promise<void>((resolve) => {
      timer = core.clock.setTimeout(() => resolve(), DISCONNECT_WAIT_MS);
    }),
  ]);
  if (timer !== null) core.clock.clearTimeout(timer);
}

function info(core: ClientCore): GatewayInfo {
  const snapshot = core.actor.getSnapshot();
  const { context } = snapshot;
  const { tracker, terms } = core;
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
    url: core.urls.current,
    transport: currentTransport(context),
    resume: tracker.resume,
    listenerErrors: core.listenerFailures.count,
    lastError: core.failures.last,
    backpressure: {
      buffered: core.streams.buffered,
      maxBufferedEvents: core.maxBufferedEvents,
      paused: snapshot.matches({ reconnecting: 'backpressure' }),
      overflows: core.overflows,
      earlyDropped: core.droppedEarly,
    },
  };
}

// The methods are the object's own closures, so `const { send } = client` works as on any plain
// object; `state`, `info` and `chart` are read through the prototype, which keeps the object in
// V8's fast mode (an object literal with a getter is a dictionary: about 0.8 KiB, bench/README.md).
// The class itself is not exported.
class Facade implements GatewayClient {
  readonly connect: GatewayClient['connect'];
  readonly events: GatewayClient['events'];
  readonly onState: GatewayClient['onState'];
  readonly onGap: GatewayClient['onGap'];
  readonly onEvent: GatewayClient['onEvent'];
  readonly onError: GatewayClient['onError'];
  readonly onSnapshot: GatewayClient['onSnapshot'];
  readonly send: GatewayClient['send'];
  readonly resync: GatewayClient['resync'];
  readonly checkpoint: GatewayClient['checkpoint'];
  readonly disconnect: GatewayClient['disconnect'];
  readonly #core: ClientCore;

  constructor(core: ClientCore, connectTimeoutMs: number) {
    this.#core = core;
    this.connect = (connectOptions) => connect(core, connectOptions, connectTimeoutMs);
    this.events = () => core.streams.iterable();
    this.onState = (listener) => core.states.add(listener);
    this.onGap = (listener) => core.gaps.add(listener);
    this.onEvent = (listener) => {
      // Listening by callback: the early buffer kept for a first events() loop is not needed.
      core.streams.dropEarly();
      return core.events.add(listener);
    };
    this.onError = (listener) => core.errors.add(listener);
    this.onSnapshot = (listener) => core.snapshots.add(listener);
    this.send = (content) => {
      // Measured against the last join's max_payload; one queued before any join is checked at the flush.
      const { id, done } = core.outbox.add(content, core.terms.policy?.max_payload);
      if (id !== '' && core.lifecycle.state === 'joined') core.command({ type: 'socket.send_message', id });
      return done;
    };
    this.resync = () => core.resyncs.add(core.lifecycle.state === 'joined');
    this.checkpoint = () => {
      const { sessionId, epoch, cursor } = core.tracker;
      return sessionId === null ? null : { sessionId, epoch, cursor };
    };
    this.disconnect = () => disconnect(core);
  }

  get state(): ClientState {
    return this.#core.lifecycle.state;
  }

  get info(): GatewayInfo {
    return info(this.#core);
  }

  get chart(): ClientChart {
    return this.#core.chart;
  }
}
