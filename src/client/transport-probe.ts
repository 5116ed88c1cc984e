// The transport probe: while a client is joined over a fallback transport and the preferred one is
// due (machines/transport-fallback.ts), open the preferred transport to the node of the current
// connection, sending nothing (no hello, no token), and close it the moment it opens. The gateway
// sees a connection that ends before its handshake, which costs it nothing. What the probe learns
// goes to the chart: `transport.probe_opened` (rejoin over it) or `transport.probe_failed` (a
// refusal, a close before open, or no open within the deadline). At most one report per probe.
import type { CallbackLogicFunction, EventObject } from 'xstate';
import type { TransportProbeInput } from '../../machines/actor-contracts.js';
import type { GatewayMachineEvent } from '../../machines/gateway-machine.js';
import type { TransportName } from '../../machines/transport-fallback.js';
import type { ConnectionCensus } from './connection-census.js';
import type { ClientTransport, TransportConnection, TransportEvents } from './transport.js';
import type { ClientClock } from './types.js';

/** What the probe needs from the client. */
export interface TransportProbeDeps {
  /** The URL of the current connection's node, or null before the first attempt. */
  currentUrl(): string | null;
  /** How a connection is made over each transport. */
  transport(name: TransportName): ClientTransport;
  /** Its deadline is a timer on the client's clock. */
  readonly clock: ClientClock;
  /** Told of the probe's connection, so `disconnect()` waits for it to close too. */
  readonly census: ConnectionCensus;
}

type ProbeCallback = CallbackLogicFunction<EventObject, GatewayMachineEvent, TransportProbeInput>;

// A class, not closures: it is the transport's listener for the one connection it makes.
class Probe implements TransportEvents {
  connection: TransportConnection | null = null;
  private settled = false;
  private timer: unknown = undefined;

  constructor(
    private readonly deps: TransportProbeDeps,
    private readonly report: (event: GatewayMachineEvent) => void,
    deadlineMs: number,
  ) {
    this.timer = deps.clock.setTimeout(() => this.settle({ type: 'transport.probe_failed' }), deadlineMs);
  }

  /** Report once, then close: the probe has learnt what it came for. */
  settle(event: GatewayMachineEvent | null): void {
    if (this.settled) return;
    this.settled = true;
    this.deps.clock.clearTimeout(this.timer);
    this.connection?.close();
    if (event !== null) this.report(event);
  }

  opened(): void {
    this.settle({ type: 'transport.probe_opened' });
  }

  message(): void {
    // Nothing is read: the probe closes at open.
  }

  error(): void {
    // The close that follows reports it.
  }

  frameTooLarge(): void {
    // Cannot come before open, and the probe closes at open.
  }

  closed(): void {
    this.deps.census.closed();
    this.settle({ type: 'transport.probe_failed' });
  }
}

/** The body of the `transportProbe` actor (see `client-machine.ts`). Stopping it closes the connection and silences it. */
export function runTransportProbe(deps: TransportProbeDeps, { input, sendBack }: Parameters<ProbeCallback>[0]): ReturnType<ProbeCallback> {
  const probe = new Probe(deps, sendBack, input.deadlineMs);
  const url = deps.currentUrl();
  try {
    if (url === null) throw new Error('no connection to probe from');
    probe.connection = deps.transport(input.transport).connect({ url, handshake: null, bearer: undefined }, probe);
    deps.census.opened();
  } catch {
    // A URL the transport cannot use: the probe failed, as a refusal would.
    queueMicrotask(() => probe.settle({ type: 'transport.probe_failed' }));
  }
  return () => probe.settle(null);
}
