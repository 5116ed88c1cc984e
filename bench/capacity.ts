// Capacity: what one gateway node costs per idle joined connection, and how fast it takes joins,
// against a bare `ws` server that accepts and holds the same connections and a socket.io server.
// Each run is a fresh server process (run with --expose-gc) and its own client processes, so the
// clients' memory and most of their CPU stay out of the server. Memory per connection is the
// server's growth over the connections beyond a warm-up, after forced GCs; joins/s is from the
// first connection attempt to the last join. The order of the three rotates from round to round.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createCleanup } from './lib/cleanup.js';
import { num, numList, sleep, startProc, type Msg, type Proc } from './lib/proc.js';
import { figure, type Bench, type BenchResult, type Figure, type Scale } from './lib/report.js';
import { median, pairedRatios } from './lib/stats.js';

type Kind = 'lifeline' | 'ws' | 'socket.io';
const KINDS: readonly Kind[] = ['ws', 'lifeline', 'socket.io'];

const CONFIG: Record<Scale, { connections: number; procs: number; rounds: number; warm: number; concurrency: number; deadlineMs: number; settleMs: number }> = {
  // concurrency is per client process: 2 x 128 joins in flight stay well inside the listen backlog (511).
  full: { connections: 10_000, procs: 2, rounds: 2, warm: 100, concurrency: 128, deadlineMs: 60_000, settleMs: 1000 },
  smoke: { connections: 400, procs: 1, rounds: 1, warm: 10, concurrency: 50, deadlineMs: 20_000, settleMs: 100 },
};
const TARGET = 3;
/** Descriptors a process needs besides its connections (stdio, IPC, the listener, epoll, ...). */
const FD_RESERVE = 64;

/** `ulimit -n` of the processes we start (they inherit ours); undefined where no shell says. */
function fdLimit(): number | undefined {
  const run = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 5_000 });
  const value = Number(run.stdout.trim());
  return run.status === 0 && Number.isFinite(value) ? value : undefined;
}

/** Ephemeral ports for connections to one server address (Linux); undefined elsewhere. */
function ephemeralPorts(): number | undefined {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return lo !== undefined && hi !== undefined ? hi - lo + 1 : undefined;
  } catch {
    return undefined;
  }
}

/** How many connections this machine lets one run hold, and what would stop a larger one. */
export function planConnections(wanted: number, procs: number, fds: number | undefined, ports: number | undefined): { count: number; limits: string } {
  const byServerFds = fds === undefined ? Infinity : fds - FD_RESERVE;
  const byClientFds = fds === undefined ? Infinity : (fds - FD_RESERVE) * procs;
  const byPorts = ports === undefined ? Infinity : ports - 512;
  const count = Math.max(0, Math.min(wanted, byServerFds, byClientFds, byPorts));
  const limits = `ulimit -n ${fds ?? 'unknown'} (the server holds every connection in one process), ${ports ?? 'unknown'} ephemeral ports per server address`;
  const cause = count === wanted ? `the bench's count; the machine would allow ${Math.min(byServerFds, byClientFds, byPorts).toLocaleString('en-US')}` : count === byPorts ? 'ephemeral ports' : 'ulimit -n';
  return { count, limits: `limited by ${cause} (${limits})` };
}

interface Run {
  readonly held: number;
  readonly rss: number;
  readonly heap: number;
  readonly joinsPerS: number;
  /** Joins/s over the last tenth of the joins: below joinsPerS when a join costs more as more are held. */
  readonly lastTenthPerS: number;
  readonly errors: Record<string, number>;
  readonly timedOut: boolean;
}

/** Joins/s over the last tenth of the sorted join times. */
function lastTenthRate(joinedAt: readonly number[]): number {
  const tenth = Math.floor(joinedAt.length / 10);
  const from = joinedAt[joinedAt.length - 1 - tenth];
  const to = joinedAt.at(-1);
  return tenth === 0 || from === undefined || to === undefined ? Number.NaN : (tenth * 1000) / (to - from);
}

async function open(proc: Proc, n: number, concurrency: number, deadlineMs: number): Promise<Msg> {
  proc.send({ type: 'open', n, concurrency, deadlineMs });
  return proc.next('opened', deadlineMs + 30_000);
}

async function measure(server: Proc): Promise<{ rss: number; heap: number; held: number }> {
  server.send({ type: 'measure' });
  const m = await server.next('measured', 30_000);
  return { rss: num(m, 'rss'), heap: num(m, 'heap'), held: num(m, 'held') };
}

/** One server of `kind`, `count` connections beyond a warm-up, in fresh processes. */
async function once(kind: Kind, count: number, cfg: (typeof CONFIG)[Scale]): Promise<Run> {
  const cleanup = createCleanup();
  try {
    const server = cleanup.add(await startProc('capacity-server', [kind], { execArgv: ['--expose-gc'] }), (s) => s.proc.kill());
    const url = `${kind === 'socket.io' ? 'http' : 'ws'}://127.0.0.1:${num(server.ready, 'port')}`;
    const clients: Proc[] = [];
    for (let i = 0; i < cfg.procs; i++) clients.push(cleanup.add((await startProc('capacity-clients', [kind, url])).proc, (p) => p.kill()));
    // Warm-up: code compiled on first use and one-time caches are paid before the baseline.
    await open(clients[0] as Proc, cfg.warm, cfg.concurrency, cfg.deadlineMs);
    const before = await measure(server.proc);
    const shares = clients.map((_, i) => Math.floor(count / cfg.procs) + (i < count % cfg.procs ? 1 : 0));
    const opened = await Promise.all(clients.map((c, i) => open(c, shares[i] ?? 0, cfg.concurrency, cfg.deadlineMs)));
    await sleep(cfg.settleMs);
    const after = await measure(server.proc);
    const held = after.held - before.held;
    const first = Math.min(...opened.map((o) => num(o, 'first')));
    const joinedAt = opened.flatMap((o) => numList(o, 'joinedAt')).sort((a, b) => a - b);
    const errors: Record<string, number> = {};
    for (const o of opened) for (const [code, n] of Object.entries((o['errors'] ?? {}) as Record<string, number>)) errors[code] = (errors[code] ?? 0) + n;
    return {
      held,
      rss: (after.rss - before.rss) / held / 1024,
      heap: (after.heap - before.heap) / held / 1024,
      joinsPerS: (joinedAt.length * 1000) / ((joinedAt.at(-1) ?? first) - first),
      lastTenthPerS: lastTenthRate(joinedAt),
      errors,
      timedOut: opened.some((o) => o['timedOut'] === true),
    };
  } finally {
    await cleanup.run();
  }
}

/** Why a run held fewer than it asked for, from what its clients saw. */
function shortfall(kind: Kind, count: number, runs: readonly Run[]): string | undefined {
  const short = runs.filter((r) => r.held < count);
  if (short.length === 0) return undefined;
  const errors: Record<string, number> = {};
  for (const r of short) for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
  const codes = Object.entries(errors).map(([code, n]) => `${code} x${n}`).join(', ');
  const cause = short.some((r) => r.timedOut) ? 'the deadline' : 'failed connections';
  return `${kind}: ${short.length} run(s) held fewer than ${count} (least ${Math.min(...short.map((r) => r.held))}); stopped by ${cause}${codes ? `: ${codes}` : ''}`;
}

export const capacity: Bench = {
  name: 'capacity',
  title: 'one gateway node: memory per idle joined connection and joins/s vs a bare ws server and socket.io',
  async run(scale, progress): Promise<BenchResult> {
    const cfg = CONFIG[scale];
    const plan = planConnections(cfg.connections, cfg.procs, fdLimit(), ephemeralPorts());
    const runs: Record<Kind, Run[]> = { ws: [], lifeline: [], 'socket.io': [] };
    for (let i = 0; i < cfg.rounds; i++) {
      const order = KINDS.map((_, j) => KINDS[(i + j) % KINDS.length] as Kind);
      for (const kind of order) {
        progress(`capacity: ${kind}, ${plan.count} connections, round ${i + 1}/${cfg.rounds}`);
        runs[kind].push(await once(kind, plan.count, cfg));
      }
    }
    const b = 'capacity';
    const kase = `connections_${plan.count}`;
    const figures: Figure[] = [];
    for (const kind of KINDS) {
      figures.push(
        figure(b, kase, kind, 'RSS per connection', 'KiB', runs[kind].map((r) => r.rss)),
        figure(b, kase, kind, 'heap+external per connection', 'KiB', runs[kind].map((r) => r.heap)),
        figure(b, kase, kind, 'joins/s', 'conn/s', runs[kind].map((r) => r.joinsPerS)),
        figure(b, kase, kind, 'joins/s, last tenth', 'conn/s', runs[kind].map((r) => r.lastTenthPerS)),
        figure(b, kase, kind, 'connections held', 'n', runs[kind].map((r) => r.held)),
      );
    }
    const of = (kind: Kind, key: 'rss' | 'heap' | 'joinsPerS'): number[] => runs[kind].map((r) => r[key]);
    const rssRatio = pairedRatios(of('lifeline', 'rss'), of('ws', 'rss'));
    figures.push(
      figure(b, kase, 'lifeline/ws', 'RSS ratio', 'x', rssRatio),
      figure(b, kase, 'lifeline/ws', 'heap ratio', 'x', pairedRatios(of('lifeline', 'heap'), of('ws', 'heap'))),
      figure(b, kase, 'lifeline/ws', 'joins/s ratio', 'x', pairedRatios(of('lifeline', 'joinsPerS'), of('ws', 'joinsPerS'))),
      figure(b, kase, 'lifeline/socket.io', 'RSS ratio', 'x', pairedRatios(of('lifeline', 'rss'), of('socket.io', 'rss'))),
      figure(b, kase, 'lifeline/socket.io', 'joins/s ratio', 'x', pairedRatios(of('lifeline', 'joinsPerS'), of('socket.io', 'joinsPerS'))),
    );
    const held = KINDS.flatMap((k) => runs[k].map((r) => r.held));
    return {
      figures,
      targets: [{ bench: b, case: kase, target: `RSS per connection <= ${TARGET}x bare ws`, value: median(rssRatio), met: median(rssRatio) <= TARGET }],
      notes: [
        `${plan.count} connections per run (${Math.min(...held)}..${Math.max(...held)} held), ${plan.limits}`,
        ...KINDS.map((k) => shortfall(k, plan.count, runs[k])).filter((s): s is string => s !== undefined),
        `each run a fresh server process with --expose-gc; per connection = growth over the connections beyond ${cfg.warm} warm-up ones, after forced GCs, ${cfg.settleMs} ms after the last join; clients in ${cfg.procs} process(es) of their own, at most ${cfg.concurrency} joins in flight each`,
        'lifeline: the reference gateway on its memory log, a session per connection, joined at hello_ok (v2 hello); ws: a bare ws server answering the same hello with one constant frame; socket.io: default server, socket.io-client on its websocket transport, joined at connect',
      ],
    };
  },
};
