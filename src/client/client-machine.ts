// The chart with the client's real actors plugged in, provided ONCE for every client.
// `gatewayMachine.provide()` builds a whole new machine (about 29 KiB and most of a client's
// creation time, bench/README.md), so per-client dependencies are not baked in: the shared
// implementations look them up through the actor system each client's actor runs in.
import { createActor, enqueueActions, fromCallback, type EventObject, type ActorOptions, type InputFrom } from 'xstate';
import { hasBrowserSignals, runBrowserSignals } from './browser-signals.js';
import type { BrowserSignalsInput, SocketActorInput, SocketCommand, TransportProbeInput } from '../../machines/actor-contracts.js';
import { gatewayMachine } from '../../machines/gateway-machine.js';
import { runSocket, type SocketActorDeps } from './socket-actor.js';
import { runTransportProbe, type TransportProbeDeps } from './transport-probe.js';

/** What one client plugs into the shared chart: one object serves its socket and probe actors. */
export interface ClientPorts extends SocketActorDeps, TransportProbeDeps {
  /** On every join: resend queued or unacknowledged messages (`socket.flush`), and a pending resync. */
  flushOutbox(): void;
}

// Keyed by the actor system: every actor of one client (the chart, its socket and probe) shares it.
const portsBySystem = new WeakMap<object, ClientPorts>();

function portsOf(system: object): ClientPorts {
  const ports = portsBySystem.get(system);
  // Only createClientActor starts this machine, and it registers the ports first.
  if (!ports) throw new Error('clientMachine must be started with createClientActor()');
  return ports;
}

/** `gatewayMachine` with the real socket (and its heartbeat watchdog) and outbox, shared by all clients. */
export const clientMachine = gatewayMachine.provide({
  actors: {
    socket: fromCallback<SocketCommand, SocketActorInput>((args) => runSocket(portsOf(args.system), args)),
    browserSignals: fromCallback<EventObject, BrowserSignalsInput>(runBrowserSignals),
    transportProbe: fromCallback<EventObject, TransportProbeInput>((args) => runTransportProbe(portsOf(args.system), args)),
  },
  actions: {
    flushOutbox: ({ system }) => portsOf(system).flushOutbox(),
    // Where the runtime has none of the signals (Node), no watcher: it would be an idle actor per client.
    watchBrowserSignals: enqueueActions(({ context, enqueue }) => {
      if (hasBrowserSignals()) enqueue.spawnChild('browserSignals', { id: 'browserSignals', input: { online: context.online } });
    }),
  },
});

/** The chart a client runs: `clientMachine`, or a variant of it made once with `clientMachine.provide(...)`. */
export type ClientMachine = typeof clientMachine;

/** Create (not start) one client's actor of the shared chart (or a variant of it), wired to its ports. */
export function createClientActor(ports: ClientPorts, options: ActorOptions<ClientMachine> & { input: InputFrom<ClientMachine> }, machine: ClientMachine = clientMachine) {
  const actor = createActor(machine, options);
  portsBySystem.set(actor.system, ports);
  return actor;
}
