// The chaos world: one gateway (restarted with or without its log), one fault proxy per client,
// and per client a session whose numbered stream the gateway publishes, plus numbered messages
// the client sends. Client outputs are queued and checked once the publisher has recorded what
// they refer to (the event can reach the client before `publish()` resolves).
import { createGatewayClient, type GatewayClient, type SendResult } from '../../src/client/index.js';
import { createGateway, createMemoryLog, type EventLog, type Gateway } from '../../src/server/index.js';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import type { Rng } from './prng.js';
import { createHistory, createStreamChecker, type History, type StreamChecker } from './stream-checker.js';
import type { GapInfo, SessionSnapshot } from '../../src/client/index.js';

/** Tunables of one world. */
export interface WorldOptions {
  readonly clients: number;
  readonly replayWindow: number;
  readonly heartbeatMs: number;
  readonly publishEveryMs: number;
  readonly sendEveryMs: number;
}

export type Output =
  | { readonly kind: 'event'; readonly seq: number | null; readonly data: unknown }
  | { readonly kind: 'gap'; readonly gap: GapInfo; readonly landing: string | null }
  | { readonly kind: 'handshake'; readonly epoch: string | null }
  | { readonly kind: 'snapshot'; readonly snapshot: SessionSnapshot };

/** One numbered client message and what became of it. */
interface Message {
  readonly k: number;
  result: SendResult | undefined;
  error: string | undefined;
}

/** One client, its proxy, its session's history and its books. */
export interface Lane {
  readonly index: number;
  readonly client: GatewayClient;
  readonly proxy: FaultProxy;
  readonly history: History;
  readonly checker: StreamChecker;
  readonly queue: Output[];
  readonly messages: Message[];
  readonly resyncs: { asked: number; settled: number; failed: string[] };
  sessionId: string;
}

/** Time between steps of a load loop. Pacing a generator, not waiting for a condition. */
const pace = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class World {
  gateway!: Gateway;
  readonly lanes: Lane[] = [];
  /** Times each `${client}:${k}` message reached the app, and when. */
  readonly applied = new Map<string, number[]>();
  /** When the gateway restarted with a fresh log (message dedupe memory lost with it). */
  readonly freshRestarts: number[] = [];
  private log: EventLog;
  private running = true;
  private closing = false;
  private gate: Promise<void> = Promise.resolve();
  private inFlight = new Set<Promise<unknown>>();
  private loops: Promise<void>[] = [];
  /** Negative controls only: return false to hide an output from the checker, as a buggy client would. */
  tamper: ((lane: Lane, output: Output) => boolean) | undefined;
  published = 0;
  restarts = { sameLog: 0, freshLog: 0, drains: 0 };

  constructor(
    readonly options: WorldOptions,
    private readonly rng: Rng,
  ) {
    this.log = createMemoryLog({ replayWindow: options.replayWindow });
  }

  private async startGateway(): Promise<void> {
    this.gateway = await createGateway({
      host: '127.0.0.1',
      port: 0,
      logger: false,
      log: this.log,
      heartbeatMs: this.options.heartbeatMs,
      rateLimit: false,
      handshakeTimeoutMs: 2000,
      drainSpreadMs: 300,
    });
    this.gateway.onMessage((message) => {
      const content = message.content as { c?: number; k?: number } | undefined;
      const id = `${String(content?.c)}:${String(content?.k)}`;
      const times = this.applied.get(id) ?? [];
      times.push(Date.now());
      this.applied.set(id, times);
    });
    for (const lane of this.lanes) lane.proxy.setTarget({ host: '127.0.0.1', port: this.gateway.port });
  }

  /** Start the gateway, the proxies and the clients, and wait for every first join. */
  async start(): Promise<void> {
    await this.startGateway();
    for (let i = 0; i < this.options.clients; i++) {
      const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: this.gateway.port } });
      const jitter = this.rng.fork(100 + i);
      const client = createGatewayClient({
        url: proxy.url,
        agentId: 'chaos',
        reconnect: { initialDelayMs: 20, maxDelayMs: 300, minUptimeMs: 300 },
        handshakeTimeoutMs: 1000,
        random: jitter.next,
      });
      const history = createHistory();
      const lane: Lane = {
        index: i,
        client,
        proxy,
        history,
        checker: createStreamChecker(history, `client ${i}`),
        queue: [],
        messages: [],
        resyncs: { asked: 0, settled: 0, failed: [] },
        sessionId: '',
      };
      client.onEvent((e) => void lane.queue.push({ kind: 'event', seq: e.seq, data: e.data }));
      client.onGap((gap) => {
        lane.queue.push({ kind: 'gap', gap, landing: client.info.epoch });
        this.resync(lane);
      });
      client.onSnapshot((snapshot) => void lane.queue.push({ kind: 'snapshot', snapshot }));
      client.onState((state) => {
        if (state === 'joined') lane.queue.push({ kind: 'handshake', epoch: client.info.epoch });
      });
      this.lanes.push(lane);
      await client.connect();
      lane.sessionId = client.info.sessionId ?? '';
    }
    for (const lane of this.lanes) this.loops.push(this.publishLoop(lane), this.sendLoop(lane));
  }

  /** The app's answer to a gap: ask for a snapshot. */
  private resync(lane: Lane): void {
    lane.resyncs.asked++;
    lane.client.resync().then(
      () => void lane.resyncs.settled++,
      (error: { code?: string }) => {
        if (!this.closing) lane.resyncs.failed.push(String(error.code));
      },
    );
  }

  /** Publish one numbered event (and the state it leads to); false when the gateway refused. */
  async publishOne(lane: Lane): Promise<boolean> {
    await this.gate;
    const gateway = this.gateway;
    const n = lane.history.lastN + 1;
    const work = (async () => {
      const seq = await gateway.publish(lane.sessionId, { type: 'tick', data: { n } });
      const { epoch } = await gateway.log.position(lane.sessionId);
      lane.history.record({ n, epoch, seq });
      this.published++;
      await gateway.setState(lane.sessionId, { n });
    })();
    this.inFlight.add(work);
    try {
      await work;
      return true;
    } catch {
      // session_not_found (fresh log, client not back yet) or gateway_closed: try again later.
      return false;
    } finally {
      this.inFlight.delete(work);
    }
  }

  private async publishLoop(lane: Lane): Promise<void> {
    while (this.running) {
      await this.publishOne(lane);
      await pace(this.options.publishEveryMs);
    }
  }

  private async sendLoop(lane: Lane): Promise<void> {
    let k = 0;
    while (this.running) {
      const message: Message = { k: ++k, result: undefined, error: undefined };
      lane.messages.push(message);
      lane.client.send({ c: lane.index, k }).then(
        (result) => void (message.result = result),
        (error: { code?: string }) => void (message.error = String(error.code)),
      );
      await pace(this.options.sendEveryMs);
    }
  }

  /** Feed queued outputs to the checkers, stopping at an event the publisher has not recorded yet. */
  drainQueues(): void {
    for (const lane of this.lanes) {
      let i = 0;
      for (; i < lane.queue.length; i++) {
        const o = lane.queue[i];
        if (o === undefined) break;
        if (o.kind === 'event') {
          const n = (o.data as { n?: number } | null)?.n;
          if (typeof n === 'number' && n > lane.history.lastN) break;
          if (this.tamper?.(lane, o) === false) continue;
          lane.checker.event(o);
        } else if (o.kind === 'gap') lane.checker.gap(o.gap, o.landing);
        else if (o.kind === 'handshake') lane.checker.handshake(o.epoch);
        else lane.checker.snapshot(o.snapshot);
      }
      lane.queue.splice(0, i);
    }
  }

  /** Kill the gateway like a crash and start another, with the same log or a fresh one. */
  async restart(keepLog: boolean): Promise<void> {
    let open!: () => void;
    this.gate = new Promise((resolve) => (open = resolve));
    // No publish may straddle two gateways sharing one log: let the one in flight finish.
    await Promise.allSettled([...this.inFlight]);
    await this.gateway.terminate();
    if (!keepLog) {
      this.log = createMemoryLog({ replayWindow: this.options.replayWindow });
      this.freshRestarts.push(Date.now());
    }
    await this.startGateway();
    if (keepLog) this.restarts.sameLog++;
    else this.restarts.freshLog++;
    open();
  }

  async drain(spreadMs: number): Promise<void> {
    this.restarts.drains++;
    await this.gateway.drain({ spreadMs });
  }

  /** Stop the load generators (the clients stay up). */
  async stopLoad(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  async close(): Promise<void> {
    this.running = false;
    this.closing = true;
    await Promise.all(this.lanes.map((lane) => lane.client.disconnect()));
    await Promise.all(this.lanes.map((lane) => lane.proxy.close()));
    await this.gateway.terminate();
  }
}
