// A test fleet: gateway nodes as real child processes on one real Redis, a TCP "load balancer"
// (the fault proxy) in front of them, real clients, an app that publishes numbered events
// straight into the shared log, and per client the chaos suite's stream checker. No test
// framework imports: `npm run soak -- --fleet` uses it too (call cleanupFleet() when done).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createGatewayClient, GatewayConnectError, type GatewayClient, type GatewayClientOptions, type SendResult } from '../../src/client/index.js';
import { LogError } from '../../src/server/event-log.js';
import type { Durability, RedisFleetOptions } from '../../src/server/redis/options.js';
import { createRedisFleet } from '../../src/server/redis/redis-fleet.js';
import type { RedisLog } from '../../src/server/redis/redis-log.js';
import { createHistory, createStreamChecker, type History, type StreamChecker } from '../chaos/stream-checker.js';
import type { Output } from '../chaos/world.js';
import { appendOne } from '../support/append-one.js';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'fleet-test-secret-0123456789';
const cleanups: Array<() => Promise<void>> = [];

/** Stop everything the kit started (clients, proxies, publishers, node processes), newest first. */
export async function cleanupFleet(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
}

/** One gateway node process. */
export interface FleetNode {
  readonly id: string;
  readonly port: number;
  readonly child: ChildProcessWithoutNullStreams;
  /** `c:k` of every client message this node applied. */
  applied(): string[];
  /** `c:k` of the messages this node applied but never recorded (it died in between). */
  unrecorded(): string[];
  /** Ids of the client messages whose claim this node sent to Redis. */
  claiming(): string[];
}

function exited(child: ChildProcessWithoutNullStreams, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node process did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Start a node process on `redisUrls` (comma-separated for a cluster); `fleetReportMs` and
 * `durability` as the options, `env` for the rest (node-process.ts reads them). Message leases
 * are 2 s unless `env` says otherwise, so a claim left by a killed node lapses within a test.
 */
export async function startNode(redisUrls: string, id: string, replayWindow = 200, fleetReportMs = 2000, durability: Durability = 'async', env: Record<string, string> = {}): Promise<FleetNode> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fleet/node-process.ts', redisUrls, id], {
    env: { ...process.env, REPLAY_WINDOW: String(replayWindow), FLEET_REPORT_MS: String(fleetReportMs), DURABILITY: durability, MESSAGE_LEASE_MS: '2000', ...env },
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  let stderr = ''; // the tail, for a node that fails to start
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  cleanups.push(async () => {
    child.kill('SIGKILL');
    await exited(child, 5000);
  });
  const deadline = performance.now() + 15_000;
  let match: RegExpExecArray | null = null;
  while (!(match = /listening (\d+)/.exec(stdout))) {
    if (child.exitCode !== null || performance.now() > deadline) {
      throw new Error(`node ${id} did not start (exit ${String(child.exitCode)}):\n${stdout}\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {
    id,
    port: Number(match[1]),
    child,
    applied: () => [...stdout.matchAll(/^applied (\S+) /gm)].map((m) => m[1]!),
    unrecorded: () => {
      const recorded = new Set([...stdout.matchAll(/^recorded (\S+)$/gm)].map((m) => m[1]!));
      return [...stdout.matchAll(/^applied (\S+) (\S+)$/gm)].filter((m) => !recorded.has(m[2]!)).map((m) => m[1]!);
    },
    claiming: () => [...stdout.matchAll(/^claiming (\S+)$/gm)].map((m) => m[1]!),
  };
}

/** SIGTERM (drain, then exit) and wait for the exit. */
export async function stopNode(node: FleetNode): Promise<void> {
  node.child.kill('SIGTERM');
  await exited(node.child, 10_000);
}

/** SIGKILL: a crash, no close frames. */
export async function killNode(node: FleetNode): Promise<void> {
  node.child.kill('SIGKILL');
  await exited(node.child, 5000);
}

/** A load balancer in front of the fleet: one TCP proxy whose target moves between nodes. */
export async function startBalancer(node: FleetNode): Promise<FaultProxy> {
  const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: node.port } });
  cleanups.push(() => proxy.close());
  return proxy;
}

/** A node's own link to Redis: a TCP proxy in front of `redisPort` that can stall without closing. */
export async function startRedisLink(redisPort: number): Promise<FaultProxy & { readonly redisUrl: string }> {
  const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: redisPort } });
  cleanups.push(() => proxy.close());
  return Object.assign(proxy, { redisUrl: `redis://127.0.0.1:${proxy.port}` });
}

/** One client, the history of its session and its checker. */
export interface Lane {
  readonly index: number;
  readonly client: GatewayClient;
  readonly history: History;
  readonly checker: StreamChecker;
  readonly outputs: Output[];
  sessionId: string;
  sent: number;
  /** Every message sent (`c:k`) and how its `send()` settled, once it has. */
  readonly sends: Array<{ readonly key: string; outcome?: SendResult | { readonly error: string } }>;
  /** The client's states with their time (`performance.now()`), its cursor and last close: read when a test fails. */
  readonly trace: string[];
}

/**
 * Connect `count` clients through `url`, each on its own session unless `sessionOf` names one;
 * `options` adds client options (`transports: ['http']`).
 */
export async function startLanes(
  url: string,
  count: number,
  sessionOf?: (i: number, earlier: readonly Lane[]) => Lane | undefined,
  options: Partial<GatewayClientOptions> = {},
): Promise<Lane[]> {
  const lanes: Lane[] = [];
  for (let i = 0; i < count; i++) {
    const shared = sessionOf?.(i, lanes);
    const client = createGatewayClient({
      url,
      agentId: 'demo',
      reconnect: { initialDelayMs: 20, maxDelayMs: 300, minUptimeMs: 300 },
      handshakeTimeoutMs: 2000,
      ...options,
      ...(shared ? { sessionId: shared.sessionId } : {}),
    });
    const history = shared?.history ?? createHistory();
    const lane: Lane = { index: i, client, history, checker: createStreamChecker(history, `client ${i}`), outputs: [], sessionId: shared?.sessionId ?? '', sent: 0, sends: [], trace: [] };
    client.onState((state) => {
      const { cursor, lastClose, resume } = client.info;
      const close = lastClose ? ` last close ${lastClose.code} ${lastClose.reason}` : '';
      const resumed = state === 'joined' && resume ? ` resume ${resume.mode} ${resume.from}..${resume.to}` : '';
      lane.trace.push(`at ${Math.round(performance.now())} ms ${state} cursor ${cursor}${close}${resumed}`);
    });
    client.onEvent((e) => void lane.outputs.push({ kind: 'event', seq: e.seq, data: e.data }));
    client.onGap((gap) => void lane.outputs.push({ kind: 'gap', gap, landing: client.info.epoch }));
    client.onSnapshot((snapshot) => void lane.outputs.push({ kind: 'snapshot', snapshot }));
    client.onState((state) => {
      if (state === 'joined') lane.outputs.push({ kind: 'handshake', epoch: client.info.epoch });
    });
    cleanups.push(() => client.disconnect());
    lanes.push(lane);
    await client.connect();
    lane.sessionId = client.info.sessionId ?? '';
  }
  return lanes;
}

/** The app: publishes numbered events into the shared log, recording (n, epoch, seq) atomically. */
export interface Publisher {
  readonly log: RedisLog;
  /** Publish the next numbered event of a lane's session; false when Redis refused it. */
  publish(lane: Lane): Promise<boolean>;
}

export async function startPublisher(redisUrls: string, replayWindow = 200, options: Partial<RedisFleetOptions> = {}): Promise<Publisher> {
  const urls = redisUrls.split(',');
  const { log } = createRedisFleet({ url: urls.length === 1 ? redisUrls : urls, secret: SECRET, replayWindow, ...options });
  await log.open();
  cleanups.push(() => log.close());
  return {
    log,
    async publish(lane) {
      const n = lane.history.lastN + 1;
      try {
        // The idempotency key makes a retry safe: a publish whose reply was lost (Redis killed
        // after the script ran) returns the first seq instead of creating event n twice.
        const key = `${lane.sessionId}-${n}`;
        const r = await appendOne(log, lane.sessionId, { type: 'tick', data: { n }, event_id: key, timestamp: n }, key);
        lane.history.record({ n, epoch: r.epoch, seq: r.seq });
        return true;
      } catch (error) {
        if (error instanceof LogError) return false; // unavailable, or the session is gone until the client rejoins
        throw error;
      }
    },
  };
}

/** Wait until every client has delivered the newest event of its session (or a snapshot of it). */
export async function settle(lanes: readonly Lane[], timeoutMs = 15_000): Promise<void> {
  await waitFor(
    () =>
      lanes.every((lane) => {
        const last = lane.history.all[lane.history.all.length - 1];
        return last === undefined || (lane.client.info.epoch === last.epoch && lane.client.info.cursor >= last.seq);
      }),
    timeoutMs,
    'every client to catch up',
  );
}

/** Feed every output to its checker and close the books. Returns every violation, in words. */
export function audit(lanes: readonly Lane[]): { violations: string[]; gaps: number; delivered: number } {
  const violations: string[] = [];
  let gaps = 0;
  let delivered = 0;
  for (const lane of lanes) {
    for (const o of lane.outputs) {
      if (o.kind === 'event') lane.checker.event(o);
      else if (o.kind === 'gap') lane.checker.gap(o.gap, o.landing);
      else if (o.kind === 'handshake') lane.checker.handshake(o.epoch);
      else lane.checker.snapshot(o.snapshot);
    }
    const report = lane.checker.finish();
    gaps += report.gaps;
    delivered += report.delivered;
    violations.push(...lane.checker.violations);
    if (report.notYetDelivered > 0) violations.push(`client ${lane.index}: ${report.notYetDelivered} events not delivered`);
  }
  for (const lane of lanes) violations.push(...reusedSeqs(lane.history));
  return { violations, gaps, delivered };
}

/** No (epoch, seq) may name two different published events. */
export function reusedSeqs(history: History): string[] {
  const seen = new Map<string, number>();
  const out: string[] = [];
  for (const p of history.all) {
    const key = `${p.epoch}#${p.seq}`;
    const other = seen.get(key);
    if (other !== undefined && other !== p.n) out.push(`(epoch ${p.epoch}, seq ${p.seq}) names n=${other} and n=${p.n}`);
    seen.set(key, p.n);
  }
  return out;
}

/** Send a numbered message from each lane: `{c, k}`; the nodes print what they apply. */
export function sendMessages(lanes: readonly Lane[]): void {
  for (const lane of lanes) {
    lane.sent++;
    const sent: Lane['sends'][number] = { key: `${lane.index}:${lane.sent}` };
    lane.sends.push(sent);
    lane.client.send({ c: lane.index, k: lane.sent }).then(
      (result) => void (sent.outcome = result),
      (error: unknown) => void (sent.outcome = { error: error instanceof GatewayConnectError ? error.code : String(error) }),
    );
  }
}

/**
 * Wait until every `send()` has settled, then close the message books: each message acknowledged
 * (none rejected), applied exactly once fleet-wide, and never acknowledged while applied nowhere.
 * A second application is accepted only where the first node was SIGKILLed between applying and
 * recording it (the window docs/scaling.md documents); those are counted in `reappliedAfterCrash`.
 */
export async function auditMessages(lanes: readonly Lane[], nodes: readonly FleetNode[], timeoutMs = 30_000): Promise<{ violations: string[]; reappliedAfterCrash: number }> {
  const pending = () => lanes.flatMap((l) => l.sends.filter((s) => s.outcome === undefined).map((s) => s.key));
  try {
    await waitFor(() => pending().length === 0, timeoutMs, 'every send() to settle');
  } catch {
    return { violations: [`never acknowledged: ${pending().join(', ')}`], reappliedAfterCrash: 0 };
  }
  const counts = new Map<string, number>();
  for (const node of nodes) for (const key of node.applied()) counts.set(key, (counts.get(key) ?? 0) + 1);
  const crashWindow = new Set(nodes.filter((n) => n.child.signalCode === 'SIGKILL').flatMap((n) => n.unrecorded()));
  const violations: string[] = [];
  let reappliedAfterCrash = 0;
  for (const [key, n] of counts) {
    if (n === 2 && crashWindow.has(key)) reappliedAfterCrash++;
    else if (n > 1) violations.push(`${key} applied ${n} times`);
  }
  for (const sent of lanes.flatMap((l) => l.sends)) {
    const outcome = sent.outcome;
    if (outcome !== undefined && 'error' in outcome) violations.push(`${sent.key} rejected: ${outcome.error}`);
    else if (outcome?.acknowledged === true && (counts.get(sent.key) ?? 0) === 0) violations.push(`${sent.key} acknowledged${outcome.duplicate ? ' as a duplicate' : ''} but applied 0 times`);
  }
  return { violations, reappliedAfterCrash };
}

/** Register a cleanup for the end of the test (reverse order). */
export function onCleanup(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}
