// The state table: for every state of the chart, how the world keeps the client there while the
// test acts (`hold`), and the check that the real client and gateway really are in it. Checks look
// at the world (sockets at the proxy, the gateway's presence, a published event arriving, the held
// retry timer), not just at the client's own idea of its state.
import { backoffCeiling } from '../../machines/backoff.js';
import { waitFor, within } from '../support/wait-for.js';
import type { ChartSnapshot } from './chart.js';
import { AGENT, TIMING, type Knobs, type World } from './world.js';

export interface StateRow {
  /** The world moves on from here by itself at once (no hold exists), so a path may not rest here. */
  readonly transient?: boolean;
  /** World settings that keep the client in this state until the test acts. */
  hold?(snapshot: ChartSnapshot): Partial<Knobs>;
  /** Throws unless the real client and gateway are in this state (`model` is where the chart says we are). */
  check(world: World, model: ChartSnapshot): Promise<void> | void;
}

const publicStateIs = (world: World, state: string): void => {
  if (world.client.state !== state) throw new Error(`client.state is "${world.client.state}", expected "${state}"`);
};
/** Open connections at the proxy (the runner clears the dead ones a stalled proxy cannot notice). */
const socketsAtProxy = async (world: World, count: number): Promise<void> => {
  await waitFor(() => world.proxy.connections === count, 2000, `${count} open connection(s) at the proxy (have ${world.proxy.connections})`);
};
let probes = 0;

/** `reconnecting` or `suspended`: the public state says so, no socket is open, and the outage phase matches. */
function waitingRow(state: 'reconnecting' | 'suspended'): StateRow {
  return {
    async check(world, model) {
      publicStateIs(world, state);
      if (world.client.info.outage !== model.context.outage) throw new Error(`info.outage is "${world.client.info.outage}", chart "${model.context.outage}"`);
      await socketsAtProxy(world, 0);
    },
  };
}

/** A retry is scheduled on the held clock with the chart's exact delay, within this tier's cap. */
function retryScheduled(maxDelayMs: number): StateRow {
  return {
    check(world, model) {
      const real = world.client.info.retryInMs;
      const planned = model.context.retryInMs;
      const floor = model.context.error?.retryAfterMs;
      if (real === null || planned === null) throw new Error(`no retry delay while waiting (real ${real}, chart ${planned})`);
      // Jitter is fixed by the injected random, so the delay is exact, except that the gateway's
      // retry_after_seconds (a floor) is counted down in whole seconds from when it refused.
      const ok = floor === undefined ? real === planned : real <= floor && real > floor - 1000;
      const cap = Math.max(floor ?? 0, backoffCeiling(Math.max(0, model.context.attempt - 1), { initialDelayMs: TIMING.initialDelayMs, maxDelayMs }));
      if (!ok || real < 0 || real > cap) throw new Error(`retryInMs ${real}: chart planned ${planned}, bounds 0..${cap}`);
      if (!world.clock.held().some((t) => t.ms === real)) throw new Error(`no retry timer of ${real} ms is scheduled; held: [${world.clock.held().map((t) => t.ms).join(', ')}]`);
    },
  };
}

const noRetryScheduled: StateRow = {
  check(world) {
    const retry = world.client.info.retryInMs;
    if (world.clock.held().some((t) => t.ms === retry)) throw new Error('offline, yet a retry is still scheduled');
  },
};

/** Every state node of the chart, by id. */
export const STATE_TABLE: Readonly<Record<string, StateRow>> = {
  disconnected: {
    async check(world, model) {
      publicStateIs(world, 'disconnected');
      await socketsAtProxy(world, 0);
      const expected = model.context.error;
      const last = world.errors[world.errors.length - 1];
      if (expected && (last?.code !== expected.code || typeof last.nextStep !== 'string')) {
        throw new Error(`expected a typed "${expected.code}" error, got ${last ? `"${last.code}"` : 'none'}`);
      }
    },
  },
  connecting: {
    hold: () => ({ proxy: 'stall' }),
    async check(world) {
      publicStateIs(world, 'connecting');
      await socketsAtProxy(world, 1);
    },
  },
  negotiating: {
    hold: (s) => ({ proxy: 'forward', verifier: 'hang', upstream: 'base', ...(s.context.handshake === 'hello' ? { legacy: false } : {}) }),
    async check(world) {
      publicStateIs(world, 'negotiating');
      await socketsAtProxy(world, 1);
      if (world.main().presence(AGENT).length > 0) throw new Error('the gateway lists a session while the handshake is pending');
    },
  },
  joined: {
    hold: () => ({ proxy: 'forward', consumer: 'reading' }),
    async check(world, model) {
      publicStateIs(world, 'joined');
      if (world.client.info.protocol !== model.context.protocol) throw new Error(`info.protocol ${world.client.info.protocol}, chart ${model.context.protocol}`);
      const session = world.client.info.sessionId;
      await waitFor(() => world.main().presence(AGENT).some((p) => p.session_id === session && p.connections === 1), 2000, `the gateway's presence to list ${session}`);
    },
  },
  // Left at once: caught_up follows hello_ok in the same burst, so only `joined` can be checked.
  'joined.replaying': { transient: true, check: () => undefined },
  'joined.live': {
    async check(world) {
      const session = world.client.info.sessionId;
      if (session === null) throw new Error('joined without a session id');
      const n = ++probes;
      const arrived = new Promise<void>((resolve) => {
        const stop = world.client.onEvent((event) => {
          if (event.type === 'model.probe' && (event.data as { n?: number } | null)?.n === n) {
            stop();
            resolve();
          }
        });
      });
      await world.main().publish(session, { type: 'model.probe', data: { n } });
      await within(arrived, 2000, `published event ${n} to arrive`);
    },
  },
  reconnecting: waitingRow('reconnecting'),
  'reconnecting.waiting': retryScheduled(TIMING.maxDelayMs),
  'reconnecting.offline': noRetryScheduled,
  'reconnecting.backpressure': {
    hold: () => ({ consumer: 'stopped' }),
    check(world) {
      const info = world.client.info;
      if (!info.backpressure.paused) throw new Error('info.backpressure.paused is false while the chart waits for the reader');
      if (info.retryInMs !== null) throw new Error(`a retry is planned while paused for the reader (retryInMs ${info.retryInMs})`);
      if (info.lastClose?.reason !== 'consumer_overflow') throw new Error(`lastClose ${JSON.stringify(info.lastClose)}, expected the consumer_overflow close`);
    },
  },
  suspended: waitingRow('suspended'),
  'suspended.waiting': retryScheduled(TIMING.suspendedMaxDelayMs),
  'suspended.offline': noRetryScheduled,
};
