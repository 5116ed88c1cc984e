// CI smoke for the benches: the real command, `npm run bench -- --smoke --json`, as a child process
// (tiny N, short outages, compiled children as published numbers use). No timing assertions: only
// that every bench reports the figures and JSON keys the README documents, and that the command
// exits by itself once its last line is out, which is how a handle a bench leaked shows.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';

const FIGURE_KEYS = ['bench', 'case', 'subject', 'metric', 'unit', 'median', 'p25', 'p75', 'min', 'max', 'n'];
const TARGET_KEYS = ['bench', 'case', 'target', 'value', 'met'];
/** The whole smoke run, build included: 118-178 s on the 2 shared cores at a load average of 20. */
const RUN_BOUND_MS = 240_000;
/** From the `end` line to the exit: nothing is left to do then but exit. */
const EXIT_BOUND_MS = 10_000;

/** The subjects and metrics each bench must report (case names depend on the scale). */
const EXPECTED: Record<string, Array<[subject: string, metric: string]>> = {
  throughput: [['ws+JSON.parse', 'events/s'], ['lifeline', 'events/s'], ['lifeline/ws', 'ratio'], ['lifeline/ws', 'CPU ratio']],
  http: [
    ['lifeline over websocket', 'events/s'],
    ['lifeline over http', 'events/s'],
    ['http/websocket', 'ratio'],
    ['lifeline over http', 'reset->joined'],
    ['lifeline over http', 'backoff wait in it'],
    ['http/websocket', 'reset->joined ratio (per trial)'],
  ],
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
  memory: [['lifeline/ws', 'RSS ratio'], ['lifeline/ws', 'heap ratio'], ['chart', 'heap+external per client'], ['(chart + ws)/ws', 'heap ratio']],
  capacity: [
    ['ws', 'RSS per connection'],
    ['lifeline', 'RSS per connection'],
    ['socket.io', 'RSS per connection'],
    ['lifeline', 'joins/s'],
    ['lifeline', 'connections held'],
    ['lifeline/ws', 'RSS ratio'],
    ['lifeline/socket.io', 'RSS ratio'],
  ],
  fanout: [['lifeline gateway', 'deliveries/s'], ['bare ws broadcast', 'deliveries/s'], ['gateway/ws', 'ratio']],
  python: [['websockets+json.loads', 'events/s'], ['lifeline_client', 'events/s'], ['lifeline_client/websockets', 'ratio']],
  fleet: [
    ['redis, A -> B', 'events/s'],
    ['redis/memory', 'throughput ratio'],
    ['durability async', 'commands sent per publish'],
    ['redis', 'bytes per session'],
  ],
};

type Line = Record<string, unknown>;

const started: ChildProcess[] = [];
afterEach(() => {
  // The command runs in a process group of its own: npm, tsx, node, the bench's children, redis-server.
  for (const child of started.splice(0)) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is gone already.
      }
    }
  }
});

/** Run the command; reject if it runs past `RUN_BOUND_MS`, or past `EXIT_BOUND_MS` after its `end` line. */
function runBench(args: readonly string[]): Promise<{ code: number | null; lines: Line[]; stderr: string }> {
  const child = spawn('npm', ['run', '--silent', 'bench', '--', ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let exitTimer: ReturnType<typeof setTimeout> | undefined;
    const fail = (why: string): void => {
      clearTimeout(runTimer);
      clearTimeout(exitTimer);
      reject(new Error(`${why}\n--- stderr (tail) ---\n${stderr.slice(-3000)}\n--- stdout (tail) ---\n${stdout.slice(-1500)}`));
    };
    const runTimer = setTimeout(() => fail(`npm run bench ${args.join(' ')} still running after ${RUN_BOUND_MS} ms`), RUN_BOUND_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (exitTimer === undefined && stdout.includes('{"kind":"end"')) {
        exitTimer = setTimeout(() => fail(`npm run bench printed its last line but did not exit within ${EXIT_BOUND_MS} ms: something it opened is still open`), EXIT_BOUND_MS);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(runTimer);
      clearTimeout(exitTimer);
      const lines = stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
      resolve({ code, lines, stderr });
    });
  });
}

function check(name: string, lines: readonly Line[]): void {
  const figures = lines.filter((l) => l['kind'] === 'figure' && l['bench'] === name);
  expect(figures.length, `${name} reported no figures`).toBeGreaterThan(0);
  for (const f of figures) {
    const { kind: _kind, ...body } = f;
    expect(Object.keys(body).sort()).toEqual([...FIGURE_KEYS].sort());
    const label = `${String(f['bench'])} ${String(f['case'])} ${String(f['subject'])} ${String(f['metric'])}`;
    expect(f['n'], label).toBeGreaterThan(0);
    expect(typeof f['median'] === 'number' && Number.isFinite(f['median']), label).toBe(true);
  }
  for (const t of lines.filter((l) => l['kind'] === 'target' && l['bench'] === name)) {
    const { kind: _kind, ...body } = t;
    expect(Object.keys(body).sort()).toEqual([...TARGET_KEYS].sort());
  }
  const seen = figures.map((f) => `${String(f['subject'])} | ${String(f['metric'])}`);
  for (const [subject, metric] of EXPECTED[name] ?? []) expect(seen).toContain(`${subject} | ${metric}`);
}

describe('npm run bench -- --smoke --json (the real command, tiny N, no timing assertions)', () => {
  it('runs every bench, reports the documented figures, and exits by itself', { timeout: RUN_BOUND_MS + 10_000 }, async () => {
    const { code, lines, stderr } = await runBench(['--smoke', '--json']);
    expect(stderr).not.toMatch(/bench \S+ failed|left \d+ child process|still open after/);
    expect(code, stderr.slice(-3000)).toBe(0);
    expect(lines[0]).toMatchObject({ kind: 'meta', scale: 'smoke', runtime: 'compiled' });
    expect(lines[0]?.['packages']).toHaveProperty('partysocket');
    // Nothing but what the runtime needs was left after the last bench.
    expect(lines.at(-1)).toEqual({ kind: 'end', failed: 0, leftover: [] });
    for (const name of Object.keys(EXPECTED)) check(name, lines);
    const fleetTargets = lines.filter((l) => l['kind'] === 'target' && l['bench'] === 'fleet');
    expect(fleetTargets.map((t) => t['case'])).toEqual(['round_trips', 'publish_deliver']);
    // Exact, so checked even at tiny N; the throughput ratio is timing and only reported.
    expect(fleetTargets[0]).toMatchObject({ value: 1, met: true });
  });
});
