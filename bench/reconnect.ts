// Reconnect: every library's clients connect at once to their own server in one server process;
// the process is SIGKILLed, and after the outage a warm replacement listens on the same ports.
// All libraries share each outage, so each trial is one same-run comparison. Client processes
// are fresh per trial, and each reconnecting-websocket client loads its own copy of the module
// (it draws its default minimum delay once per module instance, as once per browser tab).
import { figure, type Bench, type BenchResult, type Figure, type Scale, type Target } from './lib/report.js';
import { num, numList, sleep, startProc, wallNow, type Msg, type Proc } from './lib/proc.js';
import { median } from './lib/stats.js';

interface Kind {
  readonly subject: string;
  /** The library the child process drives. */
  readonly kind: 'lifeline' | 'socket.io-client' | 'partysocket' | 'reconnecting-websocket';
  /** Server it talks to, and the `listening` field holding that server's listen time. */
  readonly server: 'gateway' | 'socketio' | 'ws';
  /** Lifeline reconnect options for a variant row; peers always run with their defaults. */
  readonly options?: object;
  /** Variants are shown for the recommendation, never counted as peers or as Lifeline. */
  readonly variant?: boolean;
}

export const KINDS: readonly Kind[] = [
  { subject: 'lifeline', kind: 'lifeline', server: 'gateway' },
  { subject: 'socket.io-client', kind: 'socket.io-client', server: 'socketio' },
  { subject: 'partysocket', kind: 'partysocket', server: 'ws' },
  { subject: 'reconnecting-websocket', kind: 'reconnecting-websocket', server: 'ws' },
  // Not a default: the single-tier policy before issue 11 (30 s cap from the first failure), measured in the same outages.
  { subject: 'lifeline, one tier 30 s cap (old default)', kind: 'lifeline', server: 'gateway', options: { maxDelayMs: 30_000, suspendAfterMs: 2_147_483_647, probeWindowMs: 0 }, variant: true },
];

const CONFIG: Record<Scale, { outagesMs: number[]; trials: number[]; targets: number[]; perKind: number; stableMs: number; waitMs: number }> = {
  // stableMs: Lifeline, partysocket and reconnecting-websocket all reset their retry counters only
  // after 5 s up, so we wait that long before each kill: every library starts from attempt one.
  // targets: Lifeline's median at most this share of the best peer's (issue 20: half after a short
  // outage, still ahead after a long one).
  full: { outagesMs: [500, 10_000], trials: [5, 5], targets: [0.5, 1], perKind: 10, stableMs: 5_500, waitMs: 40_000 },
  smoke: { outagesMs: [100], trials: [1], targets: [0.5], perKind: 2, stableMs: 0, waitMs: 15_000 },
};

interface Sample {
  readonly backMs: number[];
  readonly attempts: number[];
}

function urlFor(kind: Kind, ports: Msg): string {
  if (kind.server === 'gateway') return `ws://127.0.0.1:${num(ports, 'gatewayPort')}`;
  if (kind.server === 'socketio') return `http://127.0.0.1:${num(ports, 'socketIoPort')}`;
  return `ws://127.0.0.1:${num(ports, 'wsPort')}`;
}

function listenAt(kind: Kind, listening: Msg): number {
  return num(listening, kind.server === 'gateway' ? 'gatewayAt' : kind.server === 'socketio' ? 'sioAt' : 'wsAt');
}

/** One outage: clients up, stable, kill, wait, listen, collect. Returns the next live server process. */
async function trial(kinds: readonly Kind[], current: { proc: Proc; ports: Msg }, outageMs: number, cfg: (typeof CONFIG)[Scale]): Promise<{ next: { proc: Proc; ports: Msg }; samples: Sample[]; outage: number }> {
  const ports = current.ports;
  const portArgs = [num(ports, 'gatewayPort'), num(ports, 'socketIoPort'), num(ports, 'wsPort')].map(String);
  const [replacement, ...clients] = await Promise.all([
    startProc('servers', [...portArgs, '0']),
    ...kinds.map((k) => startProc('reconnect-clients', [k.kind, urlFor(k, ports), String(cfg.perKind), k.options ? JSON.stringify(k.options) : ''])),
  ]);
  const procs = clients.map((c) => c.proc);
  try {
    await Promise.all(procs.map((p) => p.next('joined', 20_000)));
    await sleep(cfg.stableMs);
    for (const p of procs) p.send({ type: 'arm' });
    await Promise.all(procs.map((p) => p.next('armed', 5_000)));
    const killedAt = wallNow();
    await current.proc.kill('SIGKILL');
    await sleep(Math.max(0, outageMs - (wallNow() - killedAt)));
    replacement.proc.send({ type: 'listen' });
    const listening = await replacement.proc.next('listening', 10_000);
    const samples = await Promise.all(
      procs.map(async (p, i): Promise<Sample> => {
        const kind = kinds[i] as Kind;
        let msg: Msg;
        try {
          msg = await p.next('rejoined', cfg.waitMs);
        } catch {
          // Some never came back within the bound: report them as missing (NaN), not as fast.
          p.send({ type: 'report' });
          msg = await p.next('rejoined', 5_000);
        }
        const at = listenAt(kind, listening);
        return { backMs: numList(msg, 'backAt').map((t) => t - at), attempts: numList(msg, 'attempts') };
      }),
    );
    return { next: { proc: replacement.proc, ports: listening }, samples, outage: num(listening, 'gatewayAt') - killedAt };
  } finally {
    await Promise.all(procs.map((p) => p.kill()));
  }
}

/** Run the reconnect bench for a list of client kinds (the default list, or with variants). */
export async function runReconnect(kinds: readonly Kind[], scale: Scale, progress: (line: string) => void): Promise<BenchResult> {
  const cfg = CONFIG[scale];
  const b = 'reconnect';
  const figures: Figure[] = [];
  const targets: Target[] = [];
  const notes: string[] = [];
  for (const [c, outageMs] of cfg.outagesMs.entries()) {
    const kase = `outage_${outageMs}ms`;
    const trials = cfg.trials[c] ?? 1;
    const first = await startProc('servers', ['0', '0', '0', '1']);
    let current = { proc: first.proc, ports: first.ready };
    const back: number[][] = kinds.map(() => []);
    const attempts: number[][] = kinds.map(() => []);
    const ratios: number[] = [];
    const outages: number[] = [];
    const missing: number[] = kinds.map(() => 0);
    try {
      for (let t = 0; t < trials; t++) {
        progress(`reconnect: ${kase}, trial ${t + 1}/${trials}`);
        const result = await trial(kinds, current, outageMs, cfg);
        current = result.next;
        outages.push(result.outage);
        result.samples.forEach((s, i) => {
          for (const v of s.backMs) if (Number.isNaN(v)) missing[i] = (missing[i] ?? 0) + 1; else back[i]?.push(v);
          attempts[i]?.push(...s.attempts);
        });
        const medians = result.samples.map((s) => median(s.backMs.filter((v) => !Number.isNaN(v))));
        const peerBest = Math.min(...kinds.map((k, i) => (k.kind !== 'lifeline' ? (medians[i] ?? Infinity) : Infinity)));
        const own = medians[kinds.findIndex((k) => k.subject === 'lifeline')];
        if (own !== undefined && Number.isFinite(peerBest) && peerBest > 0) ratios.push(own / peerBest);
      }
    } finally {
      await current.proc.kill();
    }
    figures.push(figure(b, kase, 'gateway', 'outage (kill to listen)', 'ms', outages));
    kinds.forEach((k, i) => {
      figures.push(figure(b, kase, k.subject, 'listen->joined', 'ms', back[i] ?? []));
      figures.push(figure(b, kase, k.subject, 'attempts (incl. the one that worked)', 'count', attempts[i] ?? []));
      if ((missing[i] ?? 0) > 0) notes.push(`${kase}: ${k.subject}: ${missing[i]} clients not back within ${cfg.waitMs} ms (left out of its median)`);
    });
    figures.push(figure(b, kase, 'lifeline/best peer', 'listen->joined ratio (per trial)', 'x', ratios));
    const lifelineIdx = kinds.findIndex((k) => k.subject === 'lifeline');
    const own = median(back[lifelineIdx] ?? []);
    const peers = kinds.map((k, i) => ({ k, m: median(back[i] ?? []) })).filter((p) => p.k.kind !== 'lifeline');
    const best = peers.reduce((a, p) => (p.m < a.m ? p : a), { k: kinds[0] as Kind, m: Infinity });
    const share = cfg.targets[c] ?? 1;
    const bound = share === 1 ? 'best peer' : `${share}x best peer`;
    targets.push({ bench: b, case: kase, target: `lifeline median listen->joined <= ${bound} (${best.k.subject}, ${Math.round(best.m)} ms)`, value: own, met: own <= share * best.m });
  }
  notes.push(`${cfg.perKind} clients per library per trial, all libraries sharing each outage; attempts count sockets created from the kill until back (socket.io-client: its reconnect_attempt events)`);
  return { figures, targets, notes };
}

export const reconnect: Bench = {
  name: 'reconnect',
  title: 'time from the restarted server listening to each client being back, with library defaults',
  run: (scale, progress) => runReconnect(KINDS, scale, progress),
};
