// The simulated world: the real gateway (createGateway's parts over the simulated transport, on a
// virtual clock, with seeded ids) and real clients (createGatewayClient's parts with the simulated
// WebSocket, clock and random), an app per client that sends, resyncs and consumes at its own
// pace, a publisher per session, and the faults of a schedule. Everything draws from one seed; the
// parts are the correct ones unless a mutation (mutations.ts) swapped one.
import fc from 'fast-check';
import { assembleGatewayClient } from '../../src/client/create-gateway-client.js';
import type { GapInfo, GatewayClient } from '../../src/client/index.js';
import { assembleGateway } from '../../src/server/gateway.js';
import { createMemoryLog, type EventLog, type Gateway, type LogPosition } from '../../src/server/index.js';
import { formatEntry, createTimeline, type TimelineEntry } from '../../stories/support/timeline.js';
import type { Rng } from '../chaos/prng.js';
import { createHistory, createStreamChecker, type History, type StreamChecker } from '../chaos/stream-checker.js';
import { badClientFrame, badServerFrame } from '../fuzz/hostile-frames.js';
import { httpTransport } from '../../src/client/http-transport.js';
import type { ClientParts } from '../../src/client/client-parts.js';
import type { TransportName } from '../../machines/transport-fallback.js';
import { simFetch } from './http-network.js';
import type { WorldParts } from './mutations.js';
import { Network, Path } from './network.js';
import { SimNode, VirtualTime } from './virtual-time.js';

/** Tunables of one world; the defaults are what CI runs. */
export interface WorldConfig {
  readonly clients: number;
  readonly replayWindow: number;
  readonly heartbeatMs: number;
  readonly maxBufferedBytes: number;
  /** Mean pause between publishes to one session. */
  readonly publishEveryMs: number;
  /** Mean pause between sends of one app. */
  readonly sendEveryMs: number;
  /** `maxBufferedEvents` of each client is drawn in this range (small, so slow apps hit it). */
  readonly maxBufferedEvents: readonly [number, number];
  /** Record a readable trace (for replay comparison and the shrinker). */
  readonly trace: boolean;
  /**
   * Clients that can use HTTP too (SSE down, POST up, over the simulated fetch): most keep the
   * default order (WebSocket, then HTTP after two attempts that never opened), some start on HTTP.
   * Off: every client speaks WebSocket only.
   */
  readonly http: boolean;
}

export const DEFAULT_WORLD: WorldConfig = {
  clients: 4,
  replayWindow: 32,
  heartbeatMs: 500,
  maxBufferedBytes: 32_768,
  publishEveryMs: 150,
  sendEveryMs: 400,
  maxBufferedEvents: [8, 64],
  trace: false,
  http: false,
};

/**
 * Client reconnect policy in the world: short, so many reconnects fit in a run. The probe window
 * is scaled with the first delay (250 -> 50 ms, 500 -> 100 ms), so it stands in for the same 2 steps.
 */
export const SIM_RECONNECT = { initialDelayMs: 50, maxDelayMs: 1000, probeWindowMs: 100, minUptimeMs: 500, suspendAfterMs: 8000, suspendedMaxDelayMs: 3000 } as const;

/**
 * Connection attempts one client may make in any second. Full jitter can draw short delays, but
 * the ceiling doubles per counted failure (50, 100, 200, 400, 800 ms, ...), and the probes of the
 * 100 ms window after a drop add a few: a correct client makes a handful; one that resets its
 * counter on open loops at 25 ms. Measured: see docs/simulation.md.
 */
export const MAX_ATTEMPTS_PER_SECOND = 12;

/** The clients' handshake timeout, also the HTTP transport's deadline on each request. */
const CLIENT_HANDSHAKE_MS = 1500;

/** One numbered app message and what became of it. */
interface Message {
  readonly k: number;
  settled: 'pending' | 'acked' | 'rejected';
  error: string;
}

/** One client: its node, path, app state and books. */
export interface Lane {
  readonly index: number;
  readonly node: SimNode;
  readonly path: Path;
  readonly client: GatewayClient;
  readonly history: History;
  readonly checker: StreamChecker;
  readonly messages: Message[];
  readonly resyncs: { asked: number; settled: number; failed: string[] };
  /** Seqs delivered by onEvent, which the app's `events()` loop must see in the same order. */
  readonly listened: Array<number | null>;
  consumed: number;
  readonly maxBufferedEvents: number;
  sessionId: string | null;
  nextN: number;
}

/** Sleep on virtual time (the app's pace, the publisher's pace). */
export function sleep(time: VirtualTime, ms: number, node: SimNode | null = null): Promise<void> {
  return new Promise((resolve) => void time.schedule(resolve, ms, node));
}

export class World {
  readonly time = new VirtualTime();
  readonly gatewayNode = new SimNode(this.time, 'gateway');
  readonly net = new Network(this.time, this.gatewayNode);
  readonly lanes: Lane[] = [];
  readonly violations: string[] = [];
  readonly trace: string[] = [];
  gateway: Gateway | null = null;
  /** Virtual ms the end check waited for stale gateway connections to go. */
  reapWait = 0;
  /** Per session, how many times the log created it: a message may be re-applied only across a re-creation. */
  private readonly sessionGeneration = new Map<string, number>();
  /** `${c}:${k}` -> session generation of each application. */
  private readonly applied = new Map<string, string[]>();
  private readonly laneBySession = new Map<string, Lane>();
  private readonly attemptWatchers = new Map<Path, () => void>();
  /** Most connection attempts one client made within a second. */
  peakAttempts = 0;
  /** (session, epoch, seq) -> n: no position may name two events. */
  private readonly positions = new Map<string, number>();
  log: EventLog;
  private ids = 0;
  restarting = false;
  readonly inFlight = new Set<Promise<unknown>>();
  private running = true;
  readonly hostileServerFrames: string[];
  readonly hostileClientFrames: string[];
  readonly counts = { published: 0, restarts: 0, drains: 0, expired: 0, hostileClients: 0, hostileClientsRefused: 0, errors: {} as Record<string, number> };
  /** Joins by transport, and the moves between consecutive joins of one client. */
  readonly transports = { joins: { websocket: 0, http: 0 }, toHttp: 0, toWebsocket: 0 };

  constructor(
    readonly config: WorldConfig,
    readonly rng: { net: Rng; clients: Rng; apps: Rng; hostile: Rng },
    readonly parts: WorldParts,
  ) {
    this.log = this.newLog();
    const seed = rng.hostile.int(0, 2 ** 31 - 1);
    this.hostileServerFrames = fc.sample(badServerFrame, { seed, numRuns: 48 }).map((f) => f.text);
    this.hostileClientFrames = fc.sample(badClientFrame, { seed: seed + 1, numRuns: 48 }).map((f) => f.text);
  }

  note(text: string, kind: TimelineEntry['kind'] = 'server'): void {
    if (this.config.trace) this.trace.push(formatEntry({ kind, at: this.time.now, text } as TimelineEntry));
  }

  fail(message: string): void {
    if (this.violations.length < 30) this.violations.push(`t=${this.time.now}ms: ${message}`);
    this.note(`VIOLATION ${message}`, 'check');
  }

  private nextId = (prefix: string) => (): string => `${prefix}${++this.ids}`;

  /** A memory log whose appends are recorded into the publisher's books as they happen. */
  newLog(): EventLog {
    const inner = this.parts.log(createMemoryLog({ replayWindow: this.config.replayWindow, newEpoch: this.nextId('e') }));
    return {
      ...inner,
      replayWindow: inner.replayWindow,
      createSession: (sessionId, agentId, owner) => {
        this.sessionGeneration.set(sessionId, (this.sessionGeneration.get(sessionId) ?? 0) + 1);
        return inner.createSession(sessionId, agentId, owner);
      },
      append: (sessionId, entries) => {
        const results = inner.append(sessionId, entries) as Awaited<ReturnType<EventLog['append']>>;
        const epoch = (inner.getSession(sessionId) as { epoch: string } | undefined)?.epoch ?? '?';
        results.forEach((stored, i) => {
          const n = (entries[i]?.event.data as { n?: number } | undefined)?.n ?? -1;
          const key = `${sessionId}|${epoch}|${stored.seq}`;
          const before = this.positions.get(key);
          if (before !== undefined && before !== n) this.fail(`(epoch ${epoch}, seq ${stored.seq}) names two events: n=${before} and n=${n}`);
          this.positions.set(key, n);
          this.laneBySession.get(sessionId)?.history.record({ n, epoch, seq: stored.seq });
        });
        return results;
      },
    };
  }

  async startGateway(): Promise<void> {
    const gateway = await assembleGateway({
      transport: this.net.transport(),
      clock: this.gatewayNode.clock(),
      newId: this.nextId('s'),
      log: this.log,
      logger: false,
      heartbeatMs: this.config.heartbeatMs,
      handshakeTimeoutMs: 2000,
      maxBufferedBytes: this.config.maxBufferedBytes,
      drainSpreadMs: 300,
      rateLimit: false,
    }, this.parts.gateway);
    gateway.onMessage((message, session) => this.onApplied(message.content, session.id));
    this.gateway = gateway;
  }

  /** The gateway app applied a client message: at most once per session generation. */
  private onApplied(content: unknown, sessionId: string): void {
    const { c, k } = (content ?? {}) as { c?: number; k?: number };
    const id = `${String(c)}:${String(k)}`;
    const generation = `${sessionId}#${this.sessionGeneration.get(sessionId) ?? 0}`;
    const times = this.applied.get(id) ?? [];
    this.note(`gateway app applies message ${String(k)} of client ${String(c)}`);
    if (times.includes(generation)) this.fail(`client ${String(c)}: message ${String(k)} applied twice while the log kept its dedupe memory`);
    times.push(generation);
    this.applied.set(id, times);
  }

  /** Reconnects within the backoff policy: at most MAX_ATTEMPTS_PER_SECOND in any second. */
  private watchAttempts(path: Path): void {
    const times: number[] = [];
    let reported = false;
    this.attemptWatchers.set(path, () => {
      const now = this.time.now;
      times.push(now);
      while ((times[0] ?? now) <= now - 1000) times.shift();
      this.peakAttempts = Math.max(this.peakAttempts, times.length);
      if (times.length > MAX_ATTEMPTS_PER_SECOND && !reported) {
        reported = true;
        this.fail(`client ${path.index}: ${times.length} connection attempts within one second (backoff not growing)`);
      }
    });
  }

  /** Create the clients and their apps; each connects at a seeded moment. */
  addClients(): void {
    this.net.hooks.connect = (path) => this.attemptWatchers.get(path)?.();
    for (let i = 0; i < this.config.clients; i++) {
      const node = new SimNode(this.time, `client ${i}`);
      const path = new Path(this.time, i, this.rng.net.int(1, 40), this.rng.net.int(200, 2000), this.rng.net.fork(i));
      this.watchAttempts(path);
      const timeline = this.config.trace ? createTimeline(() => this.time.now) : undefined;
      const app = this.rng.apps.fork(i);
      const maxBufferedEvents = app.int(...this.config.maxBufferedEvents);
      // A fifth of the clients speak only protocol 1: no batches, one frame per event.
      const protocol = app.chance(0.2) ? { min: 1, max: 1 } : { min: 1, max: 2 };
      // The simulated network carries WebSockets only, unless the world has HTTP (then the HTTP
      // transport gets the simulated fetch; it would reach for the real one otherwise).
      const transports: readonly TransportName[] = !this.config.http ? ['websocket'] : app.chance(0.3) ? ['http', 'websocket'] : ['websocket', 'http'];
      const client = assembleGatewayClient({
        protocol,
        maxBufferedEvents,
        url: 'ws://gateway.sim/',
        agentId: 'sim',
        reconnect: SIM_RECONNECT,
        handshakeTimeoutMs: CLIENT_HANDSHAKE_MS,
        WebSocket: this.net.webSocketClass(path, node),
        transports,
        clock: node.clock(),
        random: this.rng.clients.fork(i).next,
        ...(timeline ? { inspect: timeline.inspect } : {}),
      }, this.config.http ? this.httpParts(path, node) : this.parts.client);
      const history = createHistory();
      const lane: Lane = {
        index: i,
        node,
        path,
        client,
        history,
        checker: createStreamChecker(history, `client ${i}`),
        messages: [],
        resyncs: { asked: 0, settled: 0, failed: [] },
        listened: [],
        consumed: 0,
        maxBufferedEvents,
        sessionId: null,
        nextN: 0,
      };
      this.lanes.push(lane);
      this.wire(lane);
      if (timeline) {
        timeline.attach(client);
        timeline.subscribe((e) => this.trace.push(formatEntry({ ...e, at: this.time.now, text: `c${i} ${e.text}` } as TimelineEntry)));
      }
      void this.consume(lane, app.fork(1));
      void sleep(this.time, app.int(0, 200), node).then(() => {
        // No connect() deadline: a partition may outlast the default 30 s, and the client keeps trying anyway.
        client.connect({ timeoutMs: Infinity }).catch((error: { code?: string }) => this.fail(`client ${i}: connect() rejected with ${String(error.code)}`));
        void this.publishLoop(lane, app.fork(2));
        void this.sendLoop(lane, app.fork(3));
      });
    }
  }

  /** The world's client parts, with the HTTP transport on this client's simulated fetch. */
  private httpParts(path: Path, node: SimNode): ClientParts {
    const parts = this.parts.client;
    const http = httpTransport({ clock: node.clock(), deadlineMs: CLIENT_HANDSHAKE_MS, maxQueuedFrames: 1000 + 64, fetch: simFetch(this.net, path, node) });
    return { ...parts, createTransport: (name, options) => (name === 'http' ? http : parts.createTransport(name, options)) };
  }

  /** Feed the checker from the client's own callbacks, in the order the client emits them. */
  private wire(lane: Lane): void {
    const { client, checker } = lane;
    // The events() bound, give or take the rest of one frame (a batch is at most maxBatchFrames).
    const bound = lane.maxBufferedEvents + 256;
    client.onEvent((e) => {
      lane.listened.push(e.seq);
      checker.event(e);
      if (lane.listened.length - lane.consumed > bound) this.fail(`client ${lane.index}: events() holds ${lane.listened.length - lane.consumed} events, bound ${lane.maxBufferedEvents}`);
    });
    client.onGap((gap) => {
      this.justify(lane, gap);
      checker.gap(gap, client.info.epoch);
      this.resync(lane);
    });
    client.onSnapshot((snapshot) => checker.snapshot(snapshot));
    let lastTransport: TransportName | undefined;
    client.onState((state) => {
      if (state !== 'joined') return;
      const transport = client.info.transport;
      this.transports.joins[transport]++;
      if (lastTransport !== undefined && transport !== lastTransport) {
        if (transport === 'http') this.transports.toHttp++;
        else this.transports.toWebsocket++;
      }
      lastTransport = transport;
      checker.handshake(client.info.epoch);
      const id = client.info.sessionId;
      if (id !== null && id !== lane.sessionId) {
        lane.sessionId = id;
        this.laneBySession.set(id, lane);
      }
    });
    client.onError((error) => {
      this.counts.errors[error.code] = (this.counts.errors[error.code] ?? 0) + 1;
      if (error.code === 'listener_error') this.fail(`client ${lane.index}: a listener threw: ${error.message}`);
    });
  }

  /**
   * A gap inside one history is honest only if the log no longer holds what it names. The log
   * trims forward only, so an event it holds now it also held when the gateway planned the resume.
   */
  private justify(lane: Lane, gap: GapInfo): void {
    const from = lane.checker.epoch;
    if (gap.reason === 'epoch' || from === null || lane.sessionId === null) return;
    const record = this.log.getSession(lane.sessionId) as { epoch: string } | undefined;
    if (record === undefined || record.epoch !== from) return;
    const position = this.log.position(lane.sessionId) as LogPosition;
    if (position.oldest > 0 && gap.expected >= position.oldest) {
      this.fail(`client ${lane.index}: a ${gap.reason} gap names seq ${gap.expected} in ${from}, which the log still holds (oldest ${position.oldest})`);
    }
  }

  /** The app's `events()` loop, at its own pace; it must see exactly what the listeners saw. */
  private async consume(lane: Lane, rng: Rng): Promise<void> {
    // Most apps keep up; some are slow now and then; a few are always slow (they hit the bound).
    const pace = rng.pick([0, 0, 0.2, 0.2, 1]);
    const maxMs = pace === 1 ? 150 : 40;
    try {
      for await (const event of lane.client.events()) {
        const expected = lane.listened[lane.consumed];
        if (expected !== event.seq) this.fail(`client ${lane.index}: events() gave seq ${String(event.seq)} where listeners saw ${String(expected)}`);
        lane.consumed++;
        if (pace > 0 && rng.chance(pace)) await sleep(this.time, rng.int(1, maxMs), lane.node);
      }
    } catch (error) {
      if (this.running) this.fail(`client ${lane.index}: events() threw ${String((error as { code?: string }).code)}`);
    }
  }

  /** The app's answer to a gap: ask for a snapshot. */
  private resync(lane: Lane): void {
    lane.resyncs.asked++;
    lane.client.resync().then(
      () => void lane.resyncs.settled++,
      (error: { code?: string }) => void lane.resyncs.failed.push(String(error.code)),
    );
  }

  private async publishLoop(lane: Lane, rng: Rng): Promise<void> {
    while (this.running) {
      await sleep(this.time, rng.int(1, 2 * this.config.publishEveryMs));
      // Now and then a burst: batches, coalescing and the slow-consumer bound get exercised.
      const burst = rng.chance(0.04) ? rng.int(10, 30) : 1;
      for (let i = 0; i < burst && this.running; i++) await this.publishOne(lane, rng.int(20, 2000));
    }
  }

  /** Publish one numbered event to the lane's session, then the state it leads to. */
  async publishOne(lane: Lane, padding = 0): Promise<boolean> {
    const gateway = this.gateway;
    const sessionId = lane.sessionId;
    if (gateway === null || sessionId === null || this.restarting) return false;
    const n = ++lane.nextN;
    const work = (async () => {
      await gateway.publish(sessionId, { type: 'tick', data: padding > 0 ? { n, pad: 'x'.repeat(padding) } : { n } });
      this.counts.published++;
      await gateway.setState(sessionId, { n });
    })();
    this.inFlight.add(work);
    try {
      await work;
      return true;
    } catch {
      // session_not_found (a fresh log, the client not back yet) or gateway_closed.
      return false;
    } finally {
      this.inFlight.delete(work);
    }
  }

  private async sendLoop(lane: Lane, rng: Rng): Promise<void> {
    let k = 0;
    while (this.running) {
      await sleep(this.time, rng.int(1, 2 * this.config.sendEveryMs), lane.node);
      if (!this.running) return;
      if (rng.chance(0.03)) this.resync(lane);
      const message: Message = { k: ++k, settled: 'pending', error: '' };
      lane.messages.push(message);
      this.note(`c${lane.index} app sends message ${k}`, 'step');
      lane.client.send({ c: lane.index, k }).then(
        (result) => {
          message.settled = 'acked';
          this.note(`c${lane.index} message ${message.k} acknowledged${result.duplicate ? ' (duplicate)' : ''}`, 'ack');
        },
        (error: { code?: string }) => {
          message.settled = 'rejected';
          message.error = String(error.code);
        },
      );
    }
  }

  stop(): void {
    this.running = false;
  }

  /** A lane is settled: joined, caught up with its session, every send and resync settled. */
  settled(lane: Lane): boolean {
    return (
      lane.client.state === 'joined' &&
      lane.checker.appliedN === lane.history.lastN &&
      lane.messages.every((m) => m.settled !== 'pending') &&
      lane.resyncs.settled + lane.resyncs.failed.length === lane.resyncs.asked &&
      lane.consumed === lane.listened.length
    );
  }

  describe(lane: Lane): string {
    const info = lane.client.info;
    const pending = lane.messages.filter((m) => m.settled === 'pending').length;
    return `client ${lane.index} stuck: state ${lane.client.state}, applied n=${lane.checker.appliedN} of ${lane.history.lastN}, cursor ${info.cursor}, ${pending} sends pending, resyncs ${lane.resyncs.settled}/${lane.resyncs.asked}, consumed ${lane.consumed}/${lane.listened.length}, last close ${JSON.stringify(info.lastClose)}`;
  }

  /** Messages sent, and how many of them the gateway app applied (at least once). */
  messageCounts(): { sent: number; applied: number } {
    let sent = 0;
    let applied = 0;
    for (const lane of this.lanes) {
      for (const m of lane.messages) {
        sent++;
        if ((this.applied.get(`${lane.index}:${m.k}`)?.length ?? 0) > 0) applied++;
      }
    }
    return { sent, applied };
  }

  /** The books at the end: every send settled and applied (exactly once while the log kept it). */
  checkMessages(): void {
    for (const lane of this.lanes) {
      for (const m of lane.messages) {
        const times = this.applied.get(`${lane.index}:${m.k}`) ?? [];
        if (m.settled === 'rejected') this.fail(`client ${lane.index}: send ${m.k} rejected with ${m.error}`);
        if (m.settled === 'acked' && times.length === 0) this.fail(`client ${lane.index}: send ${m.k} was acked but never applied`);
      }
    }
  }
}
