// CI smoke for the benches: each runs at `smoke` scale (tiny N, short outages) so the harness,
// the child processes and the report keep working. No timing assertions: only that every bench
// finishes and reports the figures and JSON keys the README documents.
import { describe, expect, it } from 'vitest';
import { fanout } from '../../bench/fanout.js';
import { fleet } from '../../bench/fleet.js';
import { memory } from '../../bench/memory.js';
import { python } from '../../bench/python.js';
import { reconnect } from '../../bench/reconnect.js';
import type { Bench, BenchResult } from '../../bench/lib/report.js';
import { storm } from '../../bench/storm.js';
import { throughput } from '../../bench/throughput.js';

const FIGURE_KEYS = ['bench', 'case', 'subject', 'metric', 'unit', 'median', 'p25', 'p75', 'min', 'max', 'n'];
const TARGET_KEYS = ['bench', 'case', 'target', 'value', 'met'];

/** The subjects and metrics each bench must report (case names depend on the scale). */
const EXPECTED: Record<string, Array<[subject: string, metric: string]>> = {
  throughput: [['ws+JSON.parse', 'events/s'], ['lifeline', 'events/s'], ['lifeline/ws', 'ratio']],
  reconnect: [
    ['lifeline', 'listen->joined'],
    ['socket.io-client', 'listen->joined'],
    ['partysocket', 'listen->joined'],
    ['reconnecting-websocket', 'listen->joined'],
    ['lifeline', 'attempts (incl. the one that worked)'],
    ['lifeline/best peer', 'listen->joined ratio (per trial)'],
  ],
  storm: [
    ['lifeline defaults', 'peak accepts per 100 ms'],
    ['fixed 1s, no jitter', 'peak accepts per 100 ms'],
    ['lifeline defaults', 'kill->99% joined'],
    ['lifeline defaults', 'total attempts'],
    ['defaults/fixed', 'peak ratio'],
    ['drain/fixed kill', 'peak ratio'],
  ],
  memory: [['lifeline/ws', 'RSS ratio'], ['lifeline/ws', 'heap ratio']],
  fanout: [['lifeline gateway', 'deliveries/s'], ['bare ws broadcast', 'deliveries/s'], ['gateway/ws', 'ratio']],
  python: [['websockets+json.loads', 'events/s'], ['lifeline_client', 'events/s'], ['lifeline_client/websockets', 'ratio']],
  fleet: [
    ['redis, A -> B', 'events/s'],
    ['redis/memory', 'throughput ratio'],
    ['durability async', 'commands sent per publish'],
    ['redis', 'bytes per session'],
  ],
};

function check(bench: Bench, result: BenchResult): void {
  for (const f of result.figures) {
    expect(Object.keys(f).sort()).toEqual([...FIGURE_KEYS].sort());
    expect(f.bench).toBe(bench.name);
    const label = `${f.bench} ${f.case} ${f.subject} ${f.metric}`;
    expect(f.n, label).toBeGreaterThan(0);
    expect(Number.isFinite(f.median), label).toBe(true);
  }
  for (const t of result.targets) expect(Object.keys(t).sort()).toEqual([...TARGET_KEYS].sort());
  const seen = result.figures.map((f) => `${f.subject} | ${f.metric}`);
  for (const [subject, metric] of EXPECTED[bench.name] ?? []) expect(seen).toContain(`${subject} | ${metric}`);
}

describe('bench smoke (tiny N, no timing assertions)', () => {
  // Concurrently: the figures are meaningless at this scale anyway, and it keeps CI short.
  it('runs every bench and reports the documented figures', { timeout: 60_000 }, async () => {
    const benches = [throughput, reconnect, storm, memory, fanout];
    const results = await Promise.all(benches.map((b) => b.run('smoke', () => undefined)));
    benches.forEach((b, i) => check(b, results[i] as BenchResult));
  });

  // Apart from the others: it runs Python processes of its own.
  it('runs the Python client bench and reports its figures', { timeout: 60_000 }, async () => {
    check(python, await python.run('smoke', () => undefined));
  });

  // Apart too: it starts its own redis-server and replica.
  it('runs the fleet bench and reports one round trip per publish', { timeout: 60_000 }, async () => {
    const result = await fleet.run('smoke', () => undefined);
    check(fleet, result);
    expect(result.targets).toMatchObject([{ case: 'round_trips', value: 1, met: true }]);
  });

});
