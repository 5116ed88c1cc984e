// The chaos engine: runs a World under a seeded fault schedule until a fault budget or a time
// budget is spent, heals the network, lets everything settle, then checks the invariants and
// returns the figures. Used by the CI test (bounded faults) and `npm run soak` (minutes).
import { gatewayFault, GATEWAY_FAULTS, healAll, PROXY_FAULTS, proxyFault, type FaultKind } from './faults.js';
import { createRng, type Rng } from './prng.js';
import type { StreamReport } from './stream-checker.js';
import { World, type Lane, type WorldOptions } from './world.js';

export interface ChaosOptions extends Partial<WorldOptions> {
  readonly seed: number;
  /** Stop injecting after this many faults. @default Infinity */
  readonly maxFaults?: number;
  /** Stop injecting after this long. @default Infinity (one of the two must be finite) */
  readonly durationMs?: number;
  /** How long clients get to recover once faults stop. @default 15000 */
  readonly settleMs?: number;
  /** Progress lines (the soak prints them). */
  readonly log?: (line: string) => void;
  /** Negative controls: see `World.tamper`. */
  readonly tamper?: World['tamper'];
}

export interface ChaosReport {
  readonly seed: number;
  readonly elapsedMs: number;
  readonly faults: Readonly<Partial<Record<FaultKind, number>>>;
  readonly faultsTotal: number;
  readonly published: number;
  readonly delivered: number;
  readonly gaps: Readonly<Record<'window' | 'epoch' | 'live', number>>;
  /** Events the signalled gaps named as missing, and events really never delivered. */
  readonly signalledMissing: number;
  readonly realMissing: number;
  readonly coveredBySnapshot: number;
  readonly snapshots: number;
  readonly resyncs: number;
  readonly messages: { readonly sent: number; readonly acked: number; readonly applied: number; readonly duplicatesAfterLogLoss: number };
  readonly restarts: { readonly sameLog: number; readonly freshLog: number; readonly drains: number };
  readonly violations: readonly string[];
}

const DEFAULTS: WorldOptions = { clients: 4, replayWindow: 64, heartbeatMs: 200, publishEveryMs: 15, sendEveryMs: 40 };

/** Time between scheduled faults; part of the schedule, not a wait for a result. */
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` until it holds or `timeoutMs` passes; returns whether it held. */
async function until(check: () => boolean, timeoutMs: number, step: () => void = () => undefined): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    step();
    if (check()) return true;
    if (Date.now() > deadline) return false;
    await pause(20);
  }
}

function settled(lane: Lane): boolean {
  return (
    lane.client.state === 'joined' &&
    lane.checker.appliedN === lane.history.lastN &&
    lane.messages.every((m) => m.result !== undefined || m.error !== undefined) &&
    lane.resyncs.settled + lane.resyncs.failed.length === lane.resyncs.asked
  );
}

function describeLane(lane: Lane): string {
  const info = lane.client.info;
  const pending = lane.messages.filter((m) => m.result === undefined && m.error === undefined).length;
  return `client ${lane.index} stuck: state ${lane.client.state}, applied n=${lane.checker.appliedN} of ${lane.history.lastN}, cursor ${info.cursor}, ${pending} messages unacked, resyncs ${lane.resyncs.settled}/${lane.resyncs.asked}, last close ${JSON.stringify(info.lastClose)}`;
}

/** Every message applied exactly once, or twice only when a log loss erased the dedupe memory in between. */
function checkMessages(world: World, violations: string[]): { acked: number; applied: number; duplicates: number } {
  let acked = 0;
  let applied = 0;
  let duplicates = 0;
  for (const lane of world.lanes) {
    for (const m of lane.messages) {
      if (m.error !== undefined) violations.push(`client ${lane.index}: message ${m.k} failed with ${m.error}`);
      if (m.result !== undefined) acked++;
      const times = world.applied.get(`${lane.index}:${m.k}`) ?? [];
      applied += Math.min(times.length, 1);
      if (times.length === 0) violations.push(`client ${lane.index}: message ${m.k} was never applied`);
      if (times.length > 1) {
        const first = times[0] ?? 0;
        const last = times[times.length - 1] ?? 0;
        if (world.freshRestarts.some((t) => t >= first && t <= last)) duplicates += times.length - 1;
        else violations.push(`client ${lane.index}: message ${m.k} applied ${times.length} times`);
      }
    }
  }
  return { acked, applied, duplicates };
}

/** Run one chaos session. Never throws for an invariant breach: it lands in `violations`. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const maxFaults = options.maxFaults ?? Infinity;
  const durationMs = options.durationMs ?? Infinity;
  if (!Number.isFinite(maxFaults) && !Number.isFinite(durationMs)) throw new Error('runChaos needs maxFaults or durationMs');
  const log = options.log ?? (() => undefined);
  const rng: Rng = createRng(options.seed);
  const world = new World({ ...DEFAULTS, ...stripUndefined(options) }, rng.fork(1));
  world.tamper = options.tamper;
  const faults: Partial<Record<FaultKind, number>> = {};
  let faultsTotal = 0;
  const violations: string[] = [];
  const startedAt = Date.now();
  const spent = (): boolean => faultsTotal >= maxFaults || Date.now() - startedAt >= durationMs;
  const count = (kind: FaultKind): void => {
    faults[kind] = (faults[kind] ?? 0) + 1;
    faultsTotal++;
  };

  let checkerTimer: NodeJS.Timeout | undefined;
  try {
    await world.start();
    checkerTimer = setInterval(() => world.drainQueues(), 100);
    const clientLanes = world.lanes.map(async (lane) => {
      const lr = rng.fork(10 + lane.index);
      while (!spent()) {
        const kind = lr.pick(PROXY_FAULTS);
        count(kind);
        await proxyFault(kind, lane, lr);
        await pause(lr.int(0, 200));
      }
    });
    const gatewayLane = (async () => {
      const gr = rng.fork(999);
      while (!spent()) {
        await pause(gr.int(800, 2500));
        if (spent()) break;
        const kind = gr.pick(GATEWAY_FAULTS);
        count(kind);
        log(`  ${((Date.now() - startedAt) / 1000).toFixed(1)}s ${kind} (faults so far: ${faultsTotal})`);
        await gatewayFault(kind, world, gr);
      }
    })();
    await Promise.all([...clientLanes, gatewayLane]);

    // Faults stop here. Everyone must come back, catch up and settle every send and resync.
    healAll(world);
    await world.stopLoad();
    const fenced = new Set<number>();
    const ok = await until(
      () => world.lanes.every(settled),
      options.settleMs ?? 15_000,
      () => {
        // A last event per session (retried until the session exists again after a log loss)
        // proves the live path works once faults stop.
        for (const lane of world.lanes) {
          if (fenced.has(lane.index) || lane.client.state !== 'joined') continue;
          fenced.add(lane.index);
          void world.publishOne(lane).then((done) => void (done || fenced.delete(lane.index)));
        }
        world.drainQueues();
      },
    );
    if (!ok) for (const lane of world.lanes) if (!settled(lane)) violations.push(describeLane(lane));
  } finally {
    clearInterval(checkerTimer);
  }
  world.drainQueues();
  const reports: StreamReport[] = [];
  for (const lane of world.lanes) {
    const report = lane.checker.finish();
    reports.push(report);
    violations.push(...lane.checker.violations);
    if (report.notYetDelivered > 0) violations.push(`client ${lane.index}: ${report.notYetDelivered} events published but never delivered`);
    if (report.gapsByReason.live > 0) violations.push(`client ${lane.index}: ${report.gapsByReason.live} gaps inside a live stream (the gateway skipped events)`);
    for (const code of lane.resyncs.failed) violations.push(`client ${lane.index}: resync() failed with ${code}`);
  }
  const messages = checkMessages(world, violations);
  const sum = (f: (r: StreamReport) => number): number => reports.reduce((a, r) => a + f(r), 0);
  const report: ChaosReport = {
    seed: options.seed,
    elapsedMs: Date.now() - startedAt,
    faults,
    faultsTotal,
    published: world.published,
    delivered: sum((r) => r.delivered),
    gaps: { window: sum((r) => r.gapsByReason.window), epoch: sum((r) => r.gapsByReason.epoch), live: sum((r) => r.gapsByReason.live) },
    signalledMissing: sum((r) => r.signalledMissing),
    realMissing: sum((r) => r.realMissing),
    coveredBySnapshot: sum((r) => r.coveredBySnapshot),
    snapshots: sum((r) => r.snapshots),
    resyncs: world.lanes.reduce((a, l) => a + l.resyncs.asked, 0),
    messages: { sent: world.lanes.reduce((a, l) => a + l.messages.length, 0), acked: messages.acked, applied: messages.applied, duplicatesAfterLogLoss: messages.duplicates },
    restarts: { ...world.restarts },
    violations,
  };
  await world.close();
  return report;
}

function stripUndefined(options: ChaosOptions): Partial<WorldOptions> {
  const out: { -readonly [K in keyof WorldOptions]?: number } = {};
  for (const key of ['clients', 'replayWindow', 'heartbeatMs', 'publishEveryMs', 'sendEveryMs'] as const) {
    const value = options[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** The figures in a few lines, for logs and the soak. */
export function formatReport(r: ChaosReport): string {
  const faults = Object.entries(r.faults)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    `seed ${r.seed}: ${r.faultsTotal} faults in ${(r.elapsedMs / 1000).toFixed(1)} s (${faults})`,
    `  restarts: ${r.restarts.sameLog} with log, ${r.restarts.freshLog} without; ${r.restarts.drains} drains`,
    `  events: ${r.published} published, ${r.delivered} delivered in order without duplicates, ${r.snapshots} snapshots (${r.resyncs} resyncs)`,
    `  gaps: ${r.gaps.window} window + ${r.gaps.epoch} epoch + ${r.gaps.live} live signalled; events named missing ${r.signalledMissing}, really missing ${r.realMissing}, folded into snapshots ${r.coveredBySnapshot}`,
    `  messages: ${r.messages.sent} sent, ${r.messages.acked} acked, ${r.messages.applied} applied; ${r.messages.duplicatesAfterLogLoss} re-applied after a restart lost the dedupe log`,
    `  violations: ${r.violations.length === 0 ? 'none' : `\n    ${r.violations.join('\n    ')}`}`,
  ].join('\n');
}
