// Reads the chart's snapshots for the facade and says what changed, once each: the error the
// chart stopped with, a failed attempt it counted, the close that ended a connection, and the
// public state. Every fact is the chart's own (`context.error`, `context.failure`,
// `context.lastClose`, the state value); this module only notices a new one, so the facade
// derives nothing about the lifecycle itself.
import type { SnapshotFrom } from 'xstate';
import type { AttemptFailure, GatewayContext } from '../../machines/gateway-machine.js';
import type { ConnectErrorData } from '../protocol/index.js';
import type { ClientMachine } from './client-machine.js';
import { publicState } from './public-state.js';
import type { ClientState } from './types.js';

/** What the facade does about each change, called in this order within one snapshot. */
export interface LifecycleChanges {
  /** The chart recorded an error: why it stops (a terminal refusal, a fatal close, retries spent) or a refusal it retries. */
  chartError(error: ConnectErrorData): void;
  /** The chart counted a failed attempt. */
  failureCounted(failure: AttemptFailure, context: GatewayContext): void;
  /** A connection ended with this close (or the chart's synthetic close). */
  connectionClosed(close: NonNullable<GatewayContext['lastClose']>): void;
  /** The public state changed; `error` is the chart's error as it entered it (set when it stopped by itself). */
  stateChanged(next: ClientState, error: ConnectErrorData | null): void;
}

/** The public state as last seen. */
export interface LifecycleView {
  readonly state: ClientState;
}

// A class, not closures: one per client (bench/README.md, memory).
class Watch implements LifecycleView {
  state: ClientState = 'disconnected';
  private error: ConnectErrorData | null = null;
  private failures = 0;
  private close: GatewayContext['lastClose'] = null;

  constructor(private readonly changes: LifecycleChanges) {}

  see(snapshot: SnapshotFrom<ClientMachine>): void {
    const { context } = snapshot;
    if (context.error !== null && context.error !== this.error) this.changes.chartError(context.error);
    this.error = context.error;
    const failure = context.failure;
    if (failure !== null && failure.count !== this.failures) {
      this.failures = failure.count;
      this.changes.failureCounted(failure, context);
    }
    if (context.lastClose !== this.close) {
      this.close = context.lastClose;
      if (this.close !== null) this.changes.connectionClosed(this.close);
    }
    const next = publicState(snapshot);
    if (next === this.state) return;
    this.state = next;
    this.changes.stateChanged(next, this.error);
  }
}

/** Subscribe to `actor` (before it starts) and report each change to `changes`. */
export function watchLifecycle(actor: { subscribe(next: (snapshot: SnapshotFrom<ClientMachine>) => void): unknown }, changes: LifecycleChanges): LifecycleView {
  const watch = new Watch(changes);
  actor.subscribe((snapshot) => watch.see(snapshot));
  return watch;
}
