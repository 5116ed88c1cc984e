// Storm: many Lifeline clients in one process, one gateway. The gateway is SIGKILLed and a warm
// replacement listens on the same port 1 s later; the replacement notes every accept, so the
// peak per 100 ms is measured where it hurts, at the gateway. Lifeline's default policy (full
// jitter) runs against a fixed 1 s delay without jitter, alternating; then a `drain()`.
import { figure, type Bench, type BenchResult, type Figure, type Scale } from './lib/report.js';
import { num, numList, sleep, startProc, wallNow, type Msg, type Proc } from './lib/proc.js';
import { modelStorm } from './lib/policy-model.js';
import { median, pairedRatios, peakInWindow, quantile } from './lib/stats.js';

// procs: the clients are split over this many processes. During the outage the gateway side is
// idle, so two client processes can use both cores of a 2-core box; one would saturate first.
const CONFIG: Record<Scale, { clients: number; procs: number; pairs: number; drains: number; outageMs: number; spreadMs: number; waitMs: number }> = {
  full: { clients: 1000, procs: 2, pairs: 3, drains: 2, outageMs: 1000, spreadMs: 5000, waitMs: 40_000 },
  smoke: { clients: 20, procs: 2, pairs: 1, drains: 1, outageMs: 200, spreadMs: 300, waitMs: 15_000 },
};

/** The no-jitter baseline: every client retries exactly 1 s after every failure. */
const FIXED = { initialDelayMs: 1000, multiplier: 1, jitter: 0 };
/** The schedule without the probe window (before issue 20), for the model rows beside the defaults. */
const NO_PROBE = { probeWindowMs: 0 };
/**
 * Other outages the model shows, besides the one measured: one inside the probe window (where a
 * crowd comes back within `initialDelayMs`) and one just past the step after it.
 */
const MODEL_OUTAGES_MS = [500, 1500];
const WINDOW_MS = 100;

interface Outcome {
  /** Kill to listen, as it happened. */
  readonly outageMs: number;
  readonly peak: number;
  /** Sockets created per 100 ms at the clients: the offered load, before any server queueing. */
  readonly offeredPeak: number;
  /** Time from the event (kill or drain) to 99% and 100% back; and from listen, for the kill. */
  readonly p99: number;
  readonly p100: number;
  readonly fromListenP99: number;
  readonly attempts: number;
  readonly missing: number;
}

/** What the client processes reported, merged. */
interface Back {
  readonly backAt: number[];
  readonly attempts: number[];
  readonly attemptAt: number[];
}

/** Back times relative to `from`; missing clients count as never (Infinity) so 100% shows it. */
function outcome(back: Back, accepts: Msg, from: number, listenAt: number): Outcome {
  const backAt = back.backAt;
  const rel = backAt.map((t) => (Number.isNaN(t) ? Infinity : t - from));
  const relListen = backAt.map((t) => (Number.isNaN(t) ? Infinity : t - listenAt));
  return {
    outageMs: listenAt - from,
    peak: peakInWindow(numList(accepts, 'at'), WINDOW_MS),
    offeredPeak: peakInWindow(back.attemptAt, WINDOW_MS),
    p99: quantile(rel, 0.99),
    p100: Math.max(...rel),
    fromListenP99: quantile(relListen, 0.99),
    attempts: back.attempts.reduce((a, b) => a + b, 0),
    missing: backAt.filter((t) => Number.isNaN(t)).length,
  };
}

/** Lifeline clients split over several processes, driven as one. */
interface Population {
  joined(): Promise<void>;
  arm(): Promise<void>;
  /** Wait until every client is back (or `waitMs` passes, then take what there is). */
  collect(waitMs: number): Promise<Back>;
  kill(): Promise<void>;
}

async function population(url: string, cfg: (typeof CONFIG)[Scale], policy: object | undefined): Promise<Population> {
  const sizes = Array.from({ length: cfg.procs }, (_, i) => Math.floor(cfg.clients / cfg.procs) + (i < cfg.clients % cfg.procs ? 1 : 0));
  const procs = (await Promise.all(sizes.map((n) => startProc('storm-clients', [url, String(n), policy ? JSON.stringify(policy) : ''])))).map((p) => p.proc);
  const one = async (p: Proc, waitMs: number): Promise<Msg> => {
    try {
      return await p.next('back', waitMs);
    } catch {
      p.send({ type: 'report' });
      return p.next('back', 5_000);
    }
  };
  return {
    joined: async () => void (await Promise.all(procs.map((p) => p.next('joined', 60_000)))),
    async arm() {
      for (const p of procs) p.send({ type: 'arm' });
      await Promise.all(procs.map((p) => p.next('armed', 5_000)));
    },
    async collect(waitMs) {
      const msgs = await Promise.all(procs.map((p) => one(p, waitMs)));
      return {
        backAt: msgs.flatMap((m) => numList(m, 'backAt')),
        attempts: msgs.flatMap((m) => numList(m, 'attempts')),
        attemptAt: msgs.flatMap((m) => numList(m, 'attemptAt')),
      };
    },
    kill: async () => void (await Promise.all(procs.map((p) => p.kill()))),
  };
}

async function killTrial(policy: object | undefined, cfg: (typeof CONFIG)[Scale]): Promise<Outcome> {
  const first = await startProc('servers', ['0', '0', '0', '1']);
  const ports = first.ready;
  const [replacement, clients] = await Promise.all([
    startProc('servers', [num(ports, 'gatewayPort'), num(ports, 'socketIoPort'), num(ports, 'wsPort')].map(String).concat('0')),
    population(`ws://127.0.0.1:${num(ports, 'gatewayPort')}`, cfg, policy),
  ]);
  try {
    await clients.joined();
    await clients.arm();
    const killedAt = wallNow();
    await first.proc.kill('SIGKILL');
    await sleep(Math.max(0, cfg.outageMs - (wallNow() - killedAt)));
    replacement.proc.send({ type: 'listen' });
    const listening = await replacement.proc.next('listening', 10_000);
    const back = await clients.collect(cfg.waitMs);
    replacement.proc.send({ type: 'accepts' });
    const accepts = await replacement.proc.next('accepts', 5_000);
    return outcome(back, accepts, killedAt, num(listening, 'gatewayAt'));
  } finally {
    await Promise.all([first.proc.kill(), replacement.proc.kill(), clients.kill()]);
  }
}

async function drainTrial(cfg: (typeof CONFIG)[Scale]): Promise<Outcome> {
  const gateway = await startProc('servers', ['0', '0', '0', '1']);
  const clients = await population(`ws://127.0.0.1:${num(gateway.ready, 'gatewayPort')}`, cfg, undefined);
  try {
    await clients.joined();
    await clients.arm();
    gateway.proc.send({ type: 'accepts' }); // forget the initial connects
    await gateway.proc.next('accepts', 5_000);
    gateway.proc.send({ type: 'drain', spreadMs: cfg.spreadMs });
    const draining = await gateway.proc.next('draining', 5_000);
    const back = await clients.collect(cfg.waitMs);
    gateway.proc.send({ type: 'accepts' });
    const accepts = await gateway.proc.next('accepts', 5_000);
    return outcome(back, accepts, num(draining, 'at'), num(draining, 'at'));
  } finally {
    await Promise.all([gateway.proc.kill(), clients.kill()]);
  }
}

function figuresOf(kase: string, subject: string, runs: readonly Outcome[], from: string): Figure[] {
  const b = 'storm';
  const f = [
    figure(b, kase, subject, `peak accepts per ${WINDOW_MS} ms`, 'count', runs.map((r) => r.peak)),
    figure(b, kase, subject, `peak attempts per ${WINDOW_MS} ms (client side)`, 'count', runs.map((r) => r.offeredPeak)),
    figure(b, kase, subject, `${from}->99% joined`, 'ms', runs.map((r) => r.p99)),
    figure(b, kase, subject, `${from}->100% joined`, 'ms', runs.map((r) => r.p100)),
    figure(b, kase, subject, 'total attempts', 'count', runs.map((r) => r.attempts)),
  ];
  if (from === 'kill') f.splice(2, 0, figure(b, kase, subject, 'listen->99% joined', 'ms', runs.map((r) => r.fromListenP99)));
  return f;
}

export const storm: Bench = {
  name: 'storm',
  title: 'many clients, gateway killed and restarted (or drained): accepts peak and time to rejoin',
  async run(scale, progress): Promise<BenchResult> {
    const cfg = CONFIG[scale];
    const jittered: Outcome[] = [];
    const fixed: Outcome[] = [];
    for (let i = 0; i < cfg.pairs; i++) {
      const order = i % 2 === 0 ? (['defaults', 'fixed'] as const) : (['fixed', 'defaults'] as const);
      for (const policy of order) {
        progress(`storm: kill, ${cfg.clients} clients, ${policy}, pair ${i + 1}/${cfg.pairs}`);
        const result = await killTrial(policy === 'fixed' ? FIXED : undefined, cfg);
        (policy === 'fixed' ? fixed : jittered).push(result);
      }
    }
    const drained: Outcome[] = [];
    for (let i = 0; i < cfg.drains; i++) {
      progress(`storm: drain, ${cfg.clients} clients, ${i + 1}/${cfg.drains}`);
      drained.push(await drainTrial(cfg));
    }
    const kase = `kill_${cfg.clients}_clients_${cfg.outageMs}ms`;
    const peakRatios = pairedRatios(jittered.map((r) => r.peak), fixed.map((r) => r.peak));
    const drainRatios = pairedRatios(drained.map((r) => r.peak), fixed.map((r) => r.peak));
    const missing = [...jittered, ...fixed, ...drained].reduce((a, r) => a + r.missing, 0);
    const p99 = median(jittered.map((r) => r.p99));
    // What the policies promise with free CPUs, at the outage this run measured.
    const outage = median([...jittered, ...fixed].map((r) => r.outageMs));
    const models = Array.from({ length: 5 }, () => ({ jitter: modelStorm(cfg.clients, outage, {}, WINDOW_MS), fixed: modelStorm(cfg.clients, outage, FIXED, WINDOW_MS) }));
    return {
      figures: [
        ...figuresOf(kase, 'lifeline defaults', jittered, 'kill'),
        ...figuresOf(kase, 'fixed 1s, no jitter', fixed, 'kill'),
        figure('storm', kase, 'defaults/fixed', 'peak ratio', 'x', peakRatios),
        figure('storm', kase, 'defaults/fixed, offered', 'peak attempts ratio (client side)', 'x', pairedRatios(jittered.map((r) => r.offeredPeak), fixed.map((r) => r.offeredPeak))),
        figure('storm', kase, 'model: lifeline defaults', `peak arrivals per ${WINDOW_MS} ms`, 'count', models.map((m) => m.jitter.peak)),
        figure('storm', kase, 'model: lifeline defaults', 'kill->99% arrived', 'ms', models.map((m) => m.jitter.p99)),
        figure('storm', kase, 'model: defaults/fixed', 'peak ratio', 'x', models.map((m) => m.jitter.peak / m.fixed.peak)),
        figure('storm', kase, 'model: probeWindowMs 0', `peak arrivals per ${WINDOW_MS} ms`, 'count', models.map(() => modelStorm(cfg.clients, outage, NO_PROBE, WINDOW_MS).peak)),
        ...MODEL_OUTAGES_MS.flatMap((ms) => {
          const other = `model_${cfg.clients}_clients_${ms}ms`;
          return [
            figure('storm', other, 'model: lifeline defaults', `peak arrivals per ${WINDOW_MS} ms`, 'count', models.map(() => modelStorm(cfg.clients, ms, {}, WINDOW_MS).peak)),
            figure('storm', other, 'model: probeWindowMs 0', `peak arrivals per ${WINDOW_MS} ms`, 'count', models.map(() => modelStorm(cfg.clients, ms, NO_PROBE, WINDOW_MS).peak)),
          ];
        }),
        ...figuresOf(`drain_${cfg.clients}_clients_${cfg.spreadMs}ms`, 'lifeline defaults', drained, 'drain'),
        figure('storm', `drain_${cfg.clients}_clients_${cfg.spreadMs}ms`, 'drain/fixed kill', 'peak ratio', 'x', drainRatios),
      ],
      targets: [
        { bench: 'storm', case: kase, target: 'peak <= 1/5 of the no-jitter peak (ratio <= 0.2)', value: median(peakRatios), met: median(peakRatios) <= 0.2 },
        { bench: 'storm', case: kase, target: '99% joined within 5 s of the kill', value: p99, met: p99 <= 5000 },
      ],
      notes: [
        `${cfg.clients} Lifeline clients in ${cfg.procs} processes; accepts timed in the gateway process; outage ${cfg.outageMs} ms; drain spread ${cfg.spreadMs} ms`,
        ...(missing > 0 ? [`${missing} clients were not back within ${cfg.waitMs} ms (counted as never)`] : []),
      ],
    };
  },
};
