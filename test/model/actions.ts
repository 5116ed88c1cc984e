// The event table: for every chart event, the concrete payloads the model feeds the chart and the
// real-world action that makes the real client receive it against a real gateway. A row either
// `needs` a world setting (the event then arrives on its own, e.g. a refusal) or has a `trigger`
// (the test acts: a fault, a user call, time passing). `events` returns nothing where the real
// world cannot produce the event, which keeps impossible steps out of the generated paths.
import { GatewayConnectError } from '../../src/client/index.js';
import { MAX_SERVER_HINT_MS } from '../../src/client/frame-router.js';
import { transportRetryDelay } from '../../machines/transport-fallback.js';
import { pendingDelayedEvents, type ChartSnapshot, type ModelEvent } from './chart.js';
import type { EventSource } from './paths.js';
import { TIMING, type Knobs, type World } from './world.js';

export interface ActionRow extends EventSource {
  /** The chart event type, or `xstate.after.<delay>`. */
  readonly type: string;
  /** The real-world cause, in words. */
  readonly cause: string;
  /** The path must run through the WebSocket front. */
  readonly viaFront?: boolean;
  /** How long the event may take to show up once caused. @default 2000 */
  readonly timeoutMs?: number;
  /** For events that come on their own: the world setting that makes them come. */
  needs?(before: ChartSnapshot): Partial<Knobs>;
  /** For events the test causes, while the client sits in `before`. */
  trigger?(world: World, before: ChartSnapshot): Promise<void> | void;
  /** What the public API promises after this action (issue #3), checked apart from the chart's own prediction. */
  promise?(world: World, before: ChartSnapshot): Promise<void> | void;
}

type In = (snapshot: ChartSnapshot) => boolean;
const at =
  (...states: string[]): In =>
  (s) =>
    states.some((state) => s.matches(state as Parameters<ChartSnapshot['matches']>[0]));
/** Anywhere the test can act: joined.replaying ends by itself at once (caught_up follows hello_ok). */
const settled: In = (s) => !s.matches({ joined: 'replaying' });
const both =
  (a: In, b: In): In =>
  (s) =>
    a(s) && b(s);
const not =
  (a: In): In =>
  (s) =>
    !a(s);

/** A row whose event is the same wherever it is feasible. */
function row(
  variant: string,
  where: In,
  event: (s: ChartSnapshot) => Omit<ModelEvent, 'variant'>,
  rest: Omit<ActionRow, 'variant' | 'type' | 'events'>,
): ActionRow {
  return {
    variant,
    type: event(undefined as never).type,
    events: (s) => (where(s) ? [{ ...event(s), variant } as ModelEvent] : []),
    ...rest,
  };
}

/** A delayed event of the chart: fired by releasing the held chart timer. */
function delayed(delay: string, cause: string, ms: (world: World, before: ChartSnapshot) => number): ActionRow {
  const prefix = `xstate.after.${delay}.`;
  return {
    variant: `after:${delay}`,
    type: `xstate.after.${delay}`,
    cause,
    events: (s) => (settled(s) ? pendingDelayedEvents(s).filter((t) => t.startsWith(prefix)).map((type) => ({ type, variant: `after:${delay}` }) as ModelEvent) : []),
    trigger: (world, before) => world.clock.release(ms(world, before)),
  };
}

const notJoinedNow = (world: World): void => {
  if (world.client.state === 'joined') throw new Error(`the client still says "joined" after losing its connection`);
};
/** A fresh-token retry or a pause for a slow reader: never counted as a failure. */
const promptNotCounted = (world: World, before: ChartSnapshot): void => {
  notJoinedNow(world);
  if (world.client.state === 'reconnecting' && world.client.info.attempt !== before.context.attempt) {
    throw new Error(`counted as a failure: attempt ${before.context.attempt} -> ${world.client.info.attempt}`);
  }
};
/**
 * Issue #3: a planned restart, a drain and a dead socket after a stable join reconnect promptly
 * without counting as a failure. Issue #18: the same again before the next stable join (an
 * outage in progress) counts, so a gateway that accepts and closes at once cannot loop fast.
 */
const promptUnlessRepeated = (world: World, before: ChartSnapshot): void => {
  if (before.context.outage === 'none') return promptNotCounted(world, before);
  notJoinedNow(world);
  if (world.client.state === 'reconnecting' && world.client.info.attempt !== before.context.attempt + 1) {
    throw new Error(`a repeat within an outage must count as a failure: attempt ${before.context.attempt} -> ${world.client.info.attempt}`);
  }
};
const triesNow = (world: World): void => {
  if (!['connecting', 'negotiating', 'joined'].includes(world.client.state)) throw new Error(`the client did not try at once; it is "${world.client.state}"`);
};
const stoppedWith = (code: string) => (world: World) => {
  const last = world.errors[world.errors.length - 1];
  if (world.client.state !== 'disconnected' || !(last instanceof GatewayConnectError) || last.code !== code) {
    throw new Error(`expected to stop with a typed "${code}" error; state "${world.client.state}", last error ${last?.code ?? 'none'}`);
  }
};
const helloMode = (s: ChartSnapshot): boolean => s.context.handshake === 'hello';
/** With a token function, the first auth refusal retries promptly with a fresh token instead of stopping. */
const refreshesToken = (s: ChartSnapshot): boolean => s.context.tokenRefresh === 'ready';
/** The main gateway (or the front before it) answers; `legacy` only matters while the client still sends `hello`. */
const baseGateway = (s: ChartSnapshot): Partial<Knobs> => ({ upstream: 'base', ...(helloMode(s) ? { legacy: false } : {}) });
const rejected = (code: string, nextStep: string, extra: { retryAfterMs?: number } = {}) => () =>
  ({ type: 'hello.rejected', code, message: code, nextStep, ...extra }) as const;

/** Every event of the chart, with its real-world cause. */
export const ACTION_TABLE: readonly ActionRow[] = [
  row('user.connect', both(settled, not(at('joined'))), () => ({ type: 'user.connect' }), {
    cause: 'the app calls client.connect()',
    trigger: (world) => void world.client.connect().catch(() => undefined),
    promise: (world, before) => (before.matches('disconnected') || before.matches('reconnecting') ? triesNow(world) : undefined),
  }),
  row('user.disconnect', settled, () => ({ type: 'user.disconnect' }), {
    cause: 'the app calls client.disconnect()',
    trigger: (world) => void world.client.disconnect(),
    promise: (world) => {
      if (world.client.state !== 'disconnected') throw new Error(`disconnect() left the client "${world.client.state}"`);
    },
  }),
  row('socket.opened', at('connecting'), () => ({ type: 'socket.opened' }), {
    cause: 'the proxy forwards and the gateway completes the upgrade',
    needs: () => ({ proxy: 'forward' }),
  }),
  row('socket.closed:drop', both(settled, at('connecting', 'negotiating', 'joined')), () => ({ type: 'socket.closed', code: 1006, reason: '' }), {
    cause: 'the fault proxy resets the TCP connection (RST)',
    trigger: (world) => world.proxy.drop(),
    promise: notJoinedNow,
  }),
  row('socket.closed:restart', both(settled, at('joined')), () => ({ type: 'socket.closed', code: 1001, reason: 'shutdown' }), {
    cause: 'the gateway is closed (1001) and started again with its log',
    trigger: (world) => world.restartMain(),
    promise: promptUnlessRepeated,
  }),
  row('socket.closed:revoked', both(settled, at('negotiating', 'joined')), () => ({ type: 'socket.closed', code: 4003, reason: 'token revoked' }), {
    cause: 'an auth edge in front of the gateway closes with 4003 and no frame',
    viaFront: true,
    trigger: (world) => world.front().closeClients(4003, 'token revoked'),
    promise: (world, before) => {
      if (refreshesToken(before)) return promptNotCounted(world, before);
      if (world.client.state !== 'disconnected') throw new Error(`a 4003 close left the client "${world.client.state}"; it must stop`);
    },
  }),
  row('hello.accepted', at('negotiating'), (s) => ({ type: 'hello.accepted', protocol: s?.context.handshake === 'join' ? 0 : 2, heartbeatMs: TIMING.heartbeatMs }), {
    cause: 'the gateway accepts the handshake',
    needs: (s) => ({ proxy: 'forward', verifier: 'allow', ...baseGateway(s) }),
  }),
  row('hello.rejected:auth_unauthorized', at('negotiating'), rejected('auth_unauthorized', 'reauthenticate'), {
    cause: "the gateway's verifyToken hook refuses the token",
    needs: (s) => ({ proxy: 'forward', verifier: 'deny', ...baseGateway(s) }),
    promise: (world, before) => (refreshesToken(before) ? promptNotCounted(world, before) : stoppedWith('auth_unauthorized')(world)),
  }),
  row('hello.rejected:internal_error', at('negotiating'), rejected('internal_error', 'wait_then_retry'), {
    cause: "the gateway's verifyToken hook throws (the gateway answers internal_error)",
    needs: (s) => ({ proxy: 'forward', verifier: 'throw', ...baseGateway(s) }),
  }),
  row('hello.rejected:agent_not_found', at('negotiating'), rejected('agent_not_found', 'do_not_retry'), {
    cause: 'the proxy now leads to a gateway started with agents: ["someone-else"]',
    needs: () => ({ proxy: 'forward', upstream: 'stranger' }),
    promise: stoppedWith('agent_not_found'),
  }),
  row('hello.rejected:protocol_unsupported', at('negotiating'), rejected('protocol_unsupported', 'upgrade_client'), {
    cause: 'the proxy now leads to a gateway started with protocol {min: 3, max: 3}',
    needs: () => ({ proxy: 'forward', upstream: 'narrow' }),
    promise: stoppedWith('protocol_unsupported'),
  }),
  row('hello.rejected:rate_limited', at('negotiating'), rejected('rate_limited', 'wait_then_retry', { retryAfterMs: Math.min(TIMING.rateWindowMs, MAX_SERVER_HINT_MS) }), {
    cause: 'the proxy now leads to a gateway whose rateLimit (1 per hour) is used up',
    needs: () => ({ proxy: 'forward', upstream: 'throttled' }),
  }),
  row('hello.unsupported', both(at('negotiating'), helloMode), () => ({ type: 'hello.unsupported' }), {
    cause: 'a gateway that predates hello answers it with error (the front in legacy mode)',
    viaFront: true,
    needs: () => ({ proxy: 'forward', upstream: 'base', legacy: true }),
  }),
  row('caught_up', at('joined.replaying'), () => ({ type: 'caught_up' }), {
    cause: 'the gateway ends the replay with caught_up',
    needs: () => ({}),
  }),
  row('draining', both(settled, at('joined')), () => ({ type: 'draining', reconnectAfterMs: 0 }), {
    cause: 'gateway.drain() (one client, so the hint is 0 ms)',
    trigger: (world) => void world.main().drain({ spreadMs: 0 }),
    promise: promptUnlessRepeated,
  }),
  row('heartbeat.missed', both(settled, at('joined')), () => ({ type: 'heartbeat.missed' }), {
    cause: 'the fault proxy stalls the link (half-open); the watchdog hears nothing for 2 x heartbeat',
    timeoutMs: 3000,
    trigger: (world) => world.set({ proxy: 'stall' }),
    promise: promptUnlessRepeated,
  }),
  row('network.online', both(settled, not(at('disconnected'))), () => ({ type: 'network.online' }), {
    cause: 'the browser fires "online"',
    trigger: (world) => world.browser.fire('online'),
    // Paused for a slow reader, coming online changes nothing: the wait is for the reader.
    promise: (world, before) => (before.matches('reconnecting') && !before.matches({ reconnecting: 'backpressure' }) ? triesNow(world) : undefined),
  }),
  row('network.offline', both(settled, not(at('disconnected'))), () => ({ type: 'network.offline' }), {
    cause: 'the browser fires "offline"',
    trigger: (world) => world.browser.fire('offline'),
  }),
  row('page.visible', both(settled, not(at('disconnected'))), () => ({ type: 'page.visible' }), {
    cause: 'the page becomes visible again (visibilitychange)',
    trigger: (world) => world.browser.fire('visible'),
  }),
  row('outage.probed', both(settled, (s) => s.context.outage === 'probing'), () => ({ type: 'outage.probed' }), {
    cause: "time passes: the held probe clock (probeWindowMs since the joined connection dropped) is released",
    trigger: (world) => world.clock.release(TIMING.probeWindowMs),
    promise: (world) => {
      if (world.client.info.outage !== 'young') throw new Error(`info.outage is "${world.client.info.outage}" after the probe window`);
    },
  }),
  row('outage.aged', both(settled, (s) => s.context.outage === 'young'), () => ({ type: 'outage.aged' }), {
    cause: "time passes: the held outage clock (suspendAfterMs since the outage's first failure) is released",
    trigger: (world) => world.clock.release(TIMING.suspendAfterMs),
    promise: (world, before) => {
      if (world.client.info.outage !== 'old') throw new Error(`info.outage is "${world.client.info.outage}" after the outage aged`);
      // Paused for a slow reader, the wait is for the reader, not a timer: no move to suspended.
      if (before.matches('reconnecting') && !before.matches({ reconnecting: 'backpressure' }) && world.client.state !== 'suspended') throw new Error(`client.state is "${world.client.state}", expected "suspended"`);
    },
  }),
  row('transport.retry_due', both(settled, (s) => s.context.transportRetry === 'waiting'), () => ({ type: 'transport.retry_due' }), {
    cause: 'time passes: the held transport clock (started by a join over a fallback transport) is released',
    trigger: (world, before) => world.clock.release(transportRetryDelay(before.context.transportRetries)),
  }),
  // A client joined over a fallback transport probes the preferred one when its retry is due; the
  // model world's client speaks WebSocket only, so it never does (model.test.ts lists these edges).
  row('transport.probe_opened', both(at('joined'), (s) => s.context.transportRetry === 'due'), () => ({ type: 'transport.probe_opened' }), {
    cause: 'the transport probe opens the preferred transport to the current node',
    trigger: () => {
      throw new Error('the model world has one transport: no probe runs');
    },
  }),
  row('transport.probe_failed', both(at('joined'), (s) => s.context.transportRetry === 'due'), () => ({ type: 'transport.probe_failed' }), {
    cause: 'the transport probe is refused, or does not open within its deadline',
    trigger: () => {
      throw new Error('the model world has one transport: no probe runs');
    },
  }),
  row('consumer.overflow', both(settled, at('joined.live')), () => ({ type: 'consumer.overflow' }), {
    cause: "the app's events() loop stops reading while the gateway publishes maxBufferedEvents + 1 events",
    trigger: async (world) => {
      await world.set({ consumer: 'stopped' });
      const session = world.client.info.sessionId ?? '';
      // One more than the bound: a read already waiting takes the first.
      for (let i = 0; i <= TIMING.maxBufferedEvents; i++) await world.main().publish(session, { type: 'model.flood', data: { i } });
    },
    promise: (world, before) => {
      promptNotCounted(world, before);
      if (!world.client.info.backpressure.paused) throw new Error('the client did not report the pause in info.backpressure');
      if (!world.errors.some((e) => e.code === 'consumer_overflow')) throw new Error('no consumer_overflow notice reached onError');
    },
  }),
  row('consumer.drained', at('reconnecting.backpressure'), () => ({ type: 'consumer.drained' }), {
    cause: "the app's events() loop reads its queue down to half the bound",
    trigger: (world) => world.set({ consumer: 'reading' }),
  }),
  delayed('handshakeTimeout', 'time passes: the held handshake timer is released', (_w, s) => s.context.options.handshakeTimeoutMs),
  delayed('retryDelay', 'time passes: the held retry timer is released', (w) => w.client.info.retryInMs ?? -1),
  delayed('stableUptime', 'time passes: the held stable-uptime timer is released', (_w, { context: { options } }) => (options.reconnect === false ? 0 : options.reconnect.minUptimeMs)),
];

/** The row of a model event. */
export function rowOf(event: ModelEvent): ActionRow {
  const found = ACTION_TABLE.find((r) => r.variant === event.variant);
  if (!found) throw new Error(`no action row "${event.variant}"`);
  return found;
}
