// The HTTP transport (SSE down, POST up) against the WebSocket transport, in the same run:
//   client_live   events/s into one Lifeline client from the blaster, which writes pre-encoded
//                 frames as fast as the kernel takes them (the client is the bottleneck), over
//                 WebSocket and over HTTP in alternating pairs;
//   gateway_live  events/s from the reference gateway to one Lifeline client as the app
//                 publishes a burst, over each transport in alternating rounds (fresh processes);
//   drop          the time from a reset of the connection to joined again, every client with the
//                 default options, k over each transport sharing each reset; and the backoff wait
//                 the chart drew in that time, so the rest is the transport's own rejoin.
import { figure, type Bench, type BenchResult, type Figure, type Scale } from './lib/report.js';
import { num, numList, sleep, startProc, type Msg, type Proc } from './lib/proc.js';
import { median, pairedRatios } from './lib/stats.js';

const CONFIG: Record<Scale, { n: number; pairs: number; gatewayN: number; rounds: number; trials: number; perTransport: number; stableMs: number }> = {
  // stableMs: the client resets its backoff after 5 s joined (minUptimeMs), so every trial's
  // reset meets clients at their first retry, as a user's first drop in a while does.
  full: { n: 100_000, pairs: 5, gatewayN: 50_000, rounds: 3, trials: 7, perTransport: 5, stableMs: 5_500 },
  smoke: { n: 1_000, pairs: 1, gatewayN: 200, rounds: 1, trials: 1, perTransport: 1, stableMs: 0 },
};

type Transport = 'websocket' | 'http';
/** The session of the gateway_live burst. */
const BURST_SESSION = 'burst-session';
const KIND: Record<Transport, string> = { websocket: 'lifeline', http: 'lifeline-http' };

/** Client-bound: alternating pairs against the blaster, WebSocket first in even pairs. */
async function clientLive(n: number, pairs: number, progress: (line: string) => void): Promise<Record<Transport, number[]>> {
  const blaster = await startProc('blaster');
  const procs = { websocket: (await startProc('throughput-client')).proc, http: (await startProc('throughput-client')).proc };
  try {
    blaster.proc.send({ type: 'prepare', n, batchN: 1, sse: true });
    await blaster.proc.next('prepared', 60_000);
    const url = `ws://127.0.0.1:${num(blaster.ready, 'port')}/live?n=${n}`;
    const runs: Record<Transport, number[]> = { websocket: [], http: [] };
    const once = async (transport: Transport, count: number): Promise<number> => {
      procs[transport].send({ type: 'run', kind: KIND[transport], url, n: count, timeoutMs: 120_000 });
      return num(await procs[transport].next('result', 130_000), 'eps');
    };
    // Warm-up (JIT, first allocations), not counted; the smoke's one pair runs the same code.
    if (pairs > 1) for (const transport of ['websocket', 'http'] as const) await once(transport, Math.min(n, 20_000));
    progress(`http: client_live, ${pairs} pairs of ${n} events`);
    for (let i = 0; i < pairs; i++) {
      const order: readonly Transport[] = i % 2 === 0 ? ['websocket', 'http'] : ['http', 'websocket'];
      for (const transport of order) runs[transport].push(await once(transport, n));
    }
    return runs;
  } finally {
    await Promise.all([blaster.proc.kill(), procs.websocket.kill(), procs.http.kill()]);
  }
}

/** Gateway-bound: one burst of `m` publishes to a session one client follows over `transport`. */
async function gatewayOnce(transport: Transport, m: number): Promise<number> {
  const server = await startProc('burst-gateway');
  const client = await startProc('http-clients', ['live', `ws://127.0.0.1:${num(server.ready, 'port')}`, transport, String(m), BURST_SESSION]);
  try {
    await client.proc.next('joined', 30_000);
    server.proc.send({ type: 'start', m, session: BURST_SESSION });
    const started = await server.proc.next('started', 10_000);
    const done = await client.proc.next('done', 120_000);
    if (done['transport'] !== transport) throw new Error(`the ${transport} client ran over ${String(done['transport'])}`);
    return (m * 1000) / (num(done, 'at') - num(started, 'at'));
  } finally {
    await Promise.all([server.proc.kill(), client.proc.kill()]);
  }
}

/** Drop trials: every client's reset->joined and backoff wait, per transport. */
async function drops(cfg: (typeof CONFIG)[Scale], progress: (line: string) => void): Promise<{ back: Record<Transport, number[]>; wait: Record<Transport, number[]>; ratios: number[]; missing: number }> {
  const server = await startProc('burst-gateway');
  let clients: Proc | undefined;
  const back: Record<Transport, number[]> = { websocket: [], http: [] };
  const wait: Record<Transport, number[]> = { websocket: [], http: [] };
  const ratios: number[] = [];
  let missing = 0;
  try {
    clients = (await startProc('http-clients', ['drop', String(num(server.ready, 'port')), String(cfg.perTransport)])).proc;
    await clients.next('joined', 30_000);
    for (let t = 0; t < cfg.trials; t++) {
      progress(`http: drop, trial ${t + 1}/${cfg.trials}`);
      await sleep(cfg.stableMs);
      clients.send({ type: 'drop' });
      let msg: Msg;
      try {
        msg = await clients.next('rejoined', 30_000);
      } catch {
        clients.send({ type: 'report' });
        msg = await clients.next('rejoined', 5_000);
      }
      const expected = [...Array<Transport>(cfg.perTransport).fill('websocket'), ...Array<Transport>(cfg.perTransport).fill('http')];
      if (JSON.stringify(msg['transports']) !== JSON.stringify(expected)) throw new Error(`a client changed transport: ${JSON.stringify(msg['transports'])}`);
      for (const transport of ['websocket', 'http'] as const) {
        const samples = numList(msg, transport);
        missing += samples.filter((v) => Number.isNaN(v)).length;
        back[transport].push(...samples.filter((v) => !Number.isNaN(v)));
        wait[transport].push(...numList(msg, `${transport}Wait`).filter((v) => !Number.isNaN(v)));
      }
      const own = median(numList(msg, 'http').filter((v) => !Number.isNaN(v)));
      const base = median(numList(msg, 'websocket').filter((v) => !Number.isNaN(v)));
      if (Number.isFinite(own) && base > 0) ratios.push(own / base);
    }
    clients.send({ type: 'close' });
    await clients.next('closed', 10_000);
    return { back, wait, ratios, missing };
  } finally {
    await Promise.all([server.proc.kill(), clients?.kill()]);
  }
}

export const http: Bench = {
  name: 'http',
  title: 'the HTTP transport (SSE down, POST up) against the WebSocket transport',
  async run(scale, progress): Promise<BenchResult> {
    const cfg = CONFIG[scale];
    const b = 'http';
    const figures: Figure[] = [];
    const notes: string[] = [];

    const client = await clientLive(cfg.n, cfg.pairs, progress);
    figures.push(
      figure(b, 'client_live', 'lifeline over websocket', 'events/s', 'ev/s', client.websocket),
      figure(b, 'client_live', 'lifeline over http', 'events/s', 'ev/s', client.http),
      figure(b, 'client_live', 'http/websocket', 'ratio', 'x', pairedRatios(client.http, client.websocket)),
    );

    const gateway: Record<Transport, number[]> = { websocket: [], http: [] };
    for (let i = 0; i < cfg.rounds; i++) {
      progress(`http: gateway_live, round ${i + 1}/${cfg.rounds}`);
      const order: readonly Transport[] = i % 2 === 0 ? ['websocket', 'http'] : ['http', 'websocket'];
      for (const transport of order) gateway[transport].push(await gatewayOnce(transport, cfg.gatewayN));
    }
    figures.push(
      figure(b, 'gateway_live', 'lifeline over websocket', 'events/s', 'ev/s', gateway.websocket),
      figure(b, 'gateway_live', 'lifeline over http', 'events/s', 'ev/s', gateway.http),
      figure(b, 'gateway_live', 'http/websocket', 'ratio', 'x', pairedRatios(gateway.http, gateway.websocket)),
    );

    const dropped = await drops(cfg, progress);
    for (const transport of ['websocket', 'http'] as const) {
      figures.push(
        figure(b, 'drop', `lifeline over ${transport}`, 'reset->joined', 'ms', dropped.back[transport]),
        figure(b, 'drop', `lifeline over ${transport}`, 'backoff wait in it', 'ms', dropped.wait[transport]),
      );
    }
    figures.push(figure(b, 'drop', 'http/websocket', 'reset->joined ratio (per trial)', 'x', dropped.ratios));
    if (dropped.missing > 0) notes.push(`drop: ${dropped.missing} clients not back within 30 s (left out of the medians)`);
    notes.push(
      `client_live: ${cfg.n} events of ~72 bytes from the blaster (pre-encoded WebSocket frames or SSE messages with id lines), ${cfg.pairs} alternating pairs after a warm-up`,
      `gateway_live: ${cfg.gatewayN} events published at once to one session, one client, fresh processes, ${cfg.rounds} alternating rounds`,
      `drop: ${cfg.trials} trials, ${cfg.perTransport} clients per transport sharing each reset (a TCP fault proxy), default options, ${cfg.stableMs} ms joined before each`,
    );
    return { figures, targets: [], notes };
  },
};
