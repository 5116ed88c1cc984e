// One simulation run: build the world from a seed, play its fault schedule on virtual time, heal,
// let everyone settle, then close the books. Invariants are checked as the run goes (the stream
// checker, at-most-once, bounds) and at the end (no loss, every send settled, nobody stuck).
import { createRng } from '../chaos/prng.js';
import { drawSchedule, healTime, type Fault, type FaultKind } from './faults.js';
import { applyFault } from './inject.js';
import type { HttpCounts } from './network.js';
import { partsFor, type Mutation } from './mutations.js';
import { DEFAULT_WORLD, World, type WorldConfig } from './world.js';

/** What to run. Only `seed` is required. */
export interface SimOptions {
  readonly seed: number;
  /** Faults in the schedule. @default 400 */
  readonly faults?: number;
  /**
   * Mean virtual ms between faults. @default drawn per seed: mostly storms (15 to 30 ms, so
   * clients rarely settle between faults) and some weather (60 to 120 ms, long healthy stretches)
   */
  readonly faultEveryMs?: number;
  readonly world?: Partial<WorldConfig>;
  /** Replace the seed's schedule (the shrinker does, with a subset of it). */
  readonly schedule?: readonly Fault[];
  /** Virtual ms everyone gets to rejoin and catch up once the network heals. @default 20000 */
  readonly settleMs?: number;
  /** End the run at the first violation (the shrinker and the mutation tests only need one). @default false */
  readonly stopAtViolation?: boolean;
  /** Plant one deliberate bug (mutations.ts). @default none */
  readonly mutation?: Mutation;
}

/** The figures and verdict of one run. */
export interface SimReport {
  readonly seed: number;
  readonly schedule: readonly Fault[];
  readonly faults: number;
  readonly byKind: Readonly<Partial<Record<FaultKind, number>>>;
  readonly virtualMs: number;
  readonly steps: number;
  readonly published: number;
  readonly delivered: number;
  readonly gaps: number;
  readonly messages: { readonly sent: number; readonly applied: number };
  readonly connects: number;
  /** Most connection attempts one client made within a second (bounded by MAX_ATTEMPTS_PER_SECOND). */
  readonly peakAttemptsPerSecond: number;
  /** Joins by transport, and moves between consecutive joins of a client (fallback to HTTP, back to WebSocket). */
  readonly transports: { readonly joins: Readonly<Record<'websocket' | 'http', number>>; readonly toHttp: number; readonly toWebsocket: number };
  /** What went over HTTP: streams, POSTs, answers by status, lost POSTs, aborted requests. */
  readonly http: Readonly<HttpCounts>;
  /** Errors the clients reported, by code (bad_server_frame from hostile frames, consumer_overflow, ...). */
  readonly clientErrors: Readonly<Record<string, number>>;
  readonly hostileClients: { readonly sent: number; readonly refused: number };
  readonly violations: readonly string[];
  readonly trace: readonly string[];
}

/** Faults start once everyone has had time to join. */
const FAULTS_FROM_MS = 1000;

/** The schedule a seed draws (what `runSim` plays unless given another). */
export function scheduleFor(options: SimOptions): Fault[] {
  const clients = options.world?.clients ?? DEFAULT_WORLD.clients;
  const faults = options.faults ?? 400;
  const rng = createRng(options.seed).fork(1);
  const every = options.faultEveryMs ?? (rng.chance(0.75) ? rng.int(15, 30) : rng.int(60, 120));
  return drawSchedule(rng, { clients, faults, startMs: FAULTS_FROM_MS, endMs: FAULTS_FROM_MS + faults * every, http: options.world?.http ?? false });
}

/** Run one seed. Never throws for a broken invariant: it is in `violations`. */
export async function runSim(options: SimOptions): Promise<SimReport> {
  const config: WorldConfig = { ...DEFAULT_WORLD, ...options.world };
  const rng = createRng(options.seed);
  const world = new World(config, { net: rng.fork(2), clients: rng.fork(3), apps: rng.fork(4), hostile: rng.fork(5) }, partsFor(options.mutation));
  const schedule = options.schedule ?? scheduleFor(options);
  const { time } = world;
  const limit = config.maxBufferedBytes;
  world.net.hooks.sent = (buffered, bytes) => {
    if (buffered - bytes > limit) world.fail(`a gateway socket holds ${buffered - bytes} unsent bytes, over maxBufferedBytes ${limit}`);
  };

  await world.startGateway();
  world.addClients();
  for (const fault of schedule) time.schedule(() => applyFault(world, fault), fault.at);
  const endMs = schedule.reduce((t, f) => Math.max(t, f.at), FAULTS_FROM_MS);
  const healAt = healTime(schedule, endMs);

  const failed = (): boolean => options.stopAtViolation === true && world.violations.length > 0;
  await time.run(healAt, failed);
  if (failed()) return report(world, schedule, options.seed, 0);
  world.stop();
  world.note(`network healed; load stopped`, 'step');

  // Everyone must come back, catch up, and settle every send and resync. A last event per
  // session proves the live path once faults stop.
  const deadline = healAt + (options.settleMs ?? 20_000);
  const fenced = new Set<number>();
  const settled = (): boolean => {
    for (const lane of world.lanes) {
      if (!fenced.has(lane.index) && lane.client.state === 'joined' && world.gateway !== null) {
        fenced.add(lane.index);
        void world.publishOne(lane).then((done) => void (done || fenced.delete(lane.index)));
      }
    }
    return fenced.size === world.lanes.length && world.lanes.every((lane) => world.settled(lane));
  };
  while (time.now < deadline && !settled()) await time.run(Math.min(deadline, time.now + 50), settled);
  if (time.failure !== undefined) world.fail(`a callback threw: ${String(time.failure)}`);
  for (const lane of world.lanes) if (!world.settled(lane)) world.fail(world.describe(lane));

  let gaps = 0;
  for (const lane of world.lanes) {
    const books = lane.checker.finish();
    gaps += books.gaps;
    for (const v of lane.checker.violations) world.fail(v);
    if (books.notYetDelivered > 0) world.fail(`client ${lane.index}: ${books.notYetDelivered} events published but never delivered`);
    if (books.gapsByReason.live > 0) world.fail(`client ${lane.index}: ${books.gapsByReason.live} gaps inside a live stream (the gateway skipped events)`);
    for (const code of lane.resyncs.failed) world.fail(`client ${lane.index}: resync() failed with ${code}`);
  }
  world.checkMessages();
  // Connections the gateway still holds for peers that are gone must go too: the reaper (two
  // heartbeats) or ws's close timeout (30 s) ends them.
  const leftovers = (): boolean => {
    const stats = world.gateway?.stats();
    return stats !== undefined && (stats.connections > world.lanes.length || stats.joined !== world.lanes.length);
  };
  const reapBy = time.now + 2 * config.heartbeatMs + 31_000;
  while (time.now < reapBy && leftovers()) await time.run(Math.min(reapBy, time.now + 500), () => !leftovers());
  const stats = world.gateway?.stats();
  if (stats && stats.joined !== world.lanes.length) world.fail(`after settling the gateway has ${stats.joined} joined connections for ${world.lanes.length} clients`);
  if (stats && stats.connections > world.lanes.length) world.fail(`the gateway still holds ${stats.connections} connections for ${world.lanes.length} clients, 30 s after they settled`);
  // One session per client, plus one for each the app expired (a new one replaced it).
  const sessionBound = world.lanes.length + world.counts.expired;
  if (stats && stats.sessions > sessionBound) world.fail(`the gateway holds ${stats.sessions} sessions, over ${sessionBound} (clients plus expired)`);
  world.reapWait = time.now - reapBy + 2 * config.heartbeatMs + 31_000;

  world.stop();
  return report(world, schedule, options.seed, gaps);
}

function report(world: World, schedule: readonly Fault[], seed: number, gaps: number): SimReport {
  const byKind: Partial<Record<FaultKind, number>> = {};
  for (const f of schedule) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  return {
    seed,
    schedule,
    faults: schedule.length,
    byKind,
    virtualMs: world.time.now,
    steps: world.time.steps,
    published: world.counts.published,
    delivered: world.lanes.reduce((a, l) => a + l.listened.length, 0),
    gaps,
    messages: world.messageCounts(),
    connects: world.lanes.reduce((a, l) => a + l.path.attempts, 0),
    peakAttemptsPerSecond: world.peakAttempts,
    transports: { joins: { ...world.transports.joins }, toHttp: world.transports.toHttp, toWebsocket: world.transports.toWebsocket },
    http: { ...world.net.httpCounts, statuses: { ...world.net.httpCounts.statuses } },
    clientErrors: { ...world.counts.errors },
    hostileClients: { sent: world.counts.hostileClients, refused: world.counts.hostileClientsRefused },
    violations: world.violations,
    trace: world.trace,
  };
}

/** The command that replays a seed (with the mutation that was on, if any). */
export function replayCommand(seed: number, options: { readonly faults?: number; readonly mutation?: Mutation } = {}): string {
  const faults = options.faults === undefined ? '' : ` --faults ${options.faults}`;
  const mutation = options.mutation === undefined ? '' : ` --mutation ${options.mutation}`;
  return `npm run sim -- --seed ${seed}${faults}${mutation} --trace`;
}
