// The real world a model path runs in: a reference gateway on 127.0.0.1:0 (plus, on demand,
// gateways that refuse in particular ways), a TCP fault proxy in front, the WebSocket front for
// legacy/edge behaviour, a held clock, and one real client. Its knobs are the only levers paths use.
import { connectRaw } from '../support/raw-client.js';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/server/index.js';
import { createGatewayClient, type GatewayClient, type GatewayConnectError } from '../../src/client/index.js';
import type { GatewayMachineInput } from '../../machines/gateway-machine.js';
import { createHeldClock, type HeldClock } from './held-clock.js';
import type { BrowserShim } from './browser-shim.js';
import { createTrace, type Trace } from './trace.js';
import { startWsFront, type WsFront } from './ws-front.js';

/** The fixed timings of the model world. Chart delays sit at or above GATE_MS, so the clock holds them. */
export const TIMING = {
  gateMs: 1000,
  /** Gateway ping interval; the client's watchdog gives up after twice this of silence. */
  heartbeatMs: 150,
  handshakeTimeoutMs: 5000,
  /** With `random` fixed at 0.3 and full jitter, the first retry waits exactly 70% of this. */
  initialDelayMs: 4000,
  maxDelayMs: 16_000,
  /** The probe window after a joined connection drops: released by the `outage.probed` row. */
  probeWindowMs: 8_000,
  /** The outage clock: released by the `outage.aged` row, never by a path's other timers. */
  suspendAfterMs: 60_000,
  suspendedMaxDelayMs: 32_000,
  minUptimeMs: 20_000,
  /** The rate-limited gateway's window: its `retry_after_seconds` is about this (the client clamps it to 5 min). */
  rateWindowMs: 3_600_000,
  /**
   * The client's jitter draw. Not 0.5: that is what a backoff without its injected random falls
   * back to in the Python client, and these paths are its vectors, so dropping jitter must show.
   */
  random: 0.3,
  /** The client's `maxBufferedEvents`: small, so a stopped reader overflows with a handful of events. */
  maxBufferedEvents: 6,
} as const;

export const AGENT = 'model-agent';

/** How the world is set: every real-world cause in the action table is one of these. */
export interface Knobs {
  /** `stall`: the proxy forwards nothing (half-open links; an upgrade that never completes). */
  proxy: 'forward' | 'stall';
  /** What the main gateway's `verifyToken` hook answers; `hang` never answers. */
  verifier: 'allow' | 'deny' | 'throw' | 'hang';
  /** Where new connections go: the path's base (gateway, or the front), or a gateway that refuses. */
  upstream: 'base' | 'narrow' | 'stranger' | 'throttled';
  /** The front answers `hello` with `error`, like a gateway that predates it. */
  legacy: boolean;
  /** The app's `events()` loop reads (`reading`) or is stuck (`stopped`, so its queue fills). */
  consumer: 'reading' | 'stopped';
}

export interface World {
  readonly client: GatewayClient;
  readonly proxy: FaultProxy;
  readonly clock: HeldClock;
  readonly trace: Trace;
  readonly browser: BrowserShim;
  /** Errors the client reported through `onError`, in order. */
  readonly errors: readonly GatewayConnectError[];
  readonly knobs: Readonly<Knobs>;
  /** The current main gateway (a restart replaces it). */
  main(): Gateway;
  front(): WsFront;
  set(knobs: Partial<Knobs>): Promise<void>;
  /** Close the main gateway (1001 to everyone) and start it again with its log. */
  restartMain(): Promise<void>;
  close(): Promise<void>;
}

export interface WorldOptions {
  readonly input: GatewayMachineInput;
  /** Route the path's connections through the WebSocket front. */
  readonly viaFront: boolean;
  readonly browser: BrowserShim;
}

/** Build the world for one path. */
export async function createWorld(options: WorldOptions): Promise<World> {
  const knobs: Knobs = { proxy: 'forward', verifier: 'allow', upstream: 'base', legacy: false, consumer: 'reading' };
  let hung: Array<(knob: Knobs['verifier']) => void> = [];
  const verdict = (knob: Knobs['verifier']): Promise<boolean> => {
    if (knob === 'throw') return Promise.reject(new Error('verifier down'));
    return Promise.resolve(knob === 'allow');
  };
  const verifyToken = (): Promise<boolean> =>
    knobs.verifier === 'hang' ? new Promise<Knobs['verifier']>((resolve) => hung.push(resolve)).then(verdict) : verdict(knobs.verifier);
  const mainOptions: GatewayOptions = { host: '127.0.0.1', port: 0, logger: false, heartbeatMs: TIMING.heartbeatMs, rateLimit: false, verifyToken };
  let main = await createGateway(mainOptions);
  const extra = new Map<Knobs['upstream'], Gateway>();
  const front = options.viaFront ? await startWsFront(() => main.url) : null;
  const baseTarget = () => ({ host: '127.0.0.1', port: front ? front.port : main.port });
  const proxy = await createFaultProxy({ target: baseTarget() });
  const clock = createHeldClock(TIMING.gateMs);
  const trace = createTrace();
  const errors: GatewayConnectError[] = [];

  const refusing = async (kind: Knobs['upstream']): Promise<Gateway> => {
    const existing = extra.get(kind);
    if (existing) return existing;
    const quiet = { host: '127.0.0.1', port: 0, logger: false, heartbeatMs: TIMING.heartbeatMs } as const;
    const gateway =
      kind === 'narrow'
        ? await createGateway({ ...quiet, protocol: { min: 3, max: 3 }, rateLimit: false })
        : kind === 'stranger'
          ? await createGateway({ ...quiet, agents: ['someone-else'], rateLimit: false })
          : await createGateway({ ...quiet, rateLimit: { connections: 1, perMs: TIMING.rateWindowMs } });
    if (kind === 'throttled') (await connectRaw(gateway.url)).ws.terminate(); // use up the one allowed connection
    extra.set(kind, gateway);
    return gateway;
  };

  const reconnect = options.input.reconnect;
  const client = createGatewayClient({
    url: proxy.url,
    agentId: AGENT,
    // The chart's `refreshableToken` is what the client derives from a token function.
    token: options.input.refreshableToken === true ? () => 'model-token' : 'model-token',
    handshakeTimeoutMs: TIMING.handshakeTimeoutMs,
    maxBufferedEvents: TIMING.maxBufferedEvents,
    ...(reconnect === undefined ? {} : { reconnect }),
    ...(options.input.transports === undefined ? {} : { transports: options.input.transports }),
    clock,
    random: () => TIMING.random,
    inspect: (event) => trace.observe(event),
  });
  client.onError((error) => errors.push(error));
  const consumer = startConsumer(client, () => knobs.consumer);

  return {
    client,
    proxy,
    clock,
    trace,
    browser: options.browser,
    errors,
    knobs,
    main: () => main,
    front() {
      if (!front) throw new Error('this path does not run through the WebSocket front');
      return front;
    },
    async set(next) {
      if (next.proxy !== undefined && next.proxy !== knobs.proxy) {
        if (next.proxy === 'stall') proxy.stall();
        else proxy.resume();
      }
      if (next.upstream !== undefined && next.upstream !== knobs.upstream) {
        proxy.setTarget(next.upstream === 'base' ? baseTarget() : { host: '127.0.0.1', port: (await refusing(next.upstream)).port });
      }
      if (next.legacy !== undefined) {
        if (next.legacy && !front) throw new Error('legacy needs the WebSocket front (viaFront)');
        if (front) front.legacy = next.legacy;
      }
      Object.assign(knobs, next);
      if (knobs.consumer === 'reading') consumer.wake();
      // A hanging verifier answers as soon as the knob moves on.
      if (knobs.verifier !== 'hang') for (const resolve of hung.splice(0)) resolve(knobs.verifier);
    },
    async restartMain() {
      await main.close();
      main = await createGateway({ ...mainOptions, log: main.log });
      if (!front && knobs.upstream === 'base') proxy.setTarget(baseTarget());
    },
    async close() {
      consumer.stop();
      clock.releaseAll();
      proxy.resume();
      hung.splice(0).forEach((resolve) => resolve('deny'));
      hung = [];
      await client.disconnect();
      await proxy.close();
      await front?.close();
      await Promise.all([main, ...extra.values()].map((g) => g.terminate()));
    },
  };
}

/**
 * The app's `events()` loop: reads while the knob says `reading`, and opens a new loop whenever
 * one ends (the client stopped), so backpressure can be caused in any path.
 */
function startConsumer(client: GatewayClient, knob: () => Knobs['consumer']): { wake(): void; stop(): void } {
  let stopped = false;
  let resume: (() => void) | null = null;
  const wake = (): void => {
    resume?.();
    resume = null;
  };
  void (async () => {
    while (!stopped) {
      const iterator = client.events()[Symbol.asyncIterator]();
      for (;;) {
        if (knob() === 'stopped') await new Promise<void>((resolve) => (resume = resolve));
        if (stopped) return;
        const result = await iterator.next().catch(() => ({ done: true as const, value: undefined }));
        if (result.done) break;
      }
    }
  })();
  return {
    wake,
    stop() {
      stopped = true;
      wake();
    },
  };
}
