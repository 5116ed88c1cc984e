// `npm run bench [-- <name>...] [-- --json] [-- --smoke] [-- --tsx]`: run the benches one after
// another (never in parallel: they would measure each other) and print a table or JSON lines.
// The measured processes run compiled JS (bench/.dist) unless --tsx is given.
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { buildCompiled } from './lib/build.js';
import { killStrays } from './lib/proc.js';
import { humanTable, jsonLine, type Bench, type Scale } from './lib/report.js';
import { leftoverResources } from './lib/resources.js';
import { capacity } from './capacity.js';
import { fanout } from './fanout.js';
import { fleet } from './fleet.js';
import { http } from './http.js';
import { memory } from './memory.js';
import { python } from './python.js';
import { reconnect } from './reconnect.js';
import { storm } from './storm.js';
import { throughput } from './throughput.js';

const BENCHES: readonly Bench[] = [throughput, http, reconnect, storm, memory, capacity, fanout, python, fleet];

const PACKAGES = ['ws', 'xstate', 'valibot', 'isomorphic-ws', 'socket.io', 'socket.io-client', 'partysocket', 'reconnecting-websocket', 'tsx'];

function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    // Resolve the package folder through its package.json; some packages do not export it.
    const path = require.resolve(`${name}/package.json`, { paths: [process.cwd()] });
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && 'version' in parsed ? String(parsed.version) : 'unknown';
  } catch {
    try {
      const parsed: unknown = JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8'));
      return typeof parsed === 'object' && parsed !== null && 'version' in parsed ? String(parsed.version) : 'unknown';
    } catch {
      return 'missing';
    }
  }
}

/** Where and with what the numbers were taken: they mean little without it. */
export function machineMeta(): Record<string, unknown> {
  const cpu = cpus();
  return {
    node: process.version,
    platform: `${platform()} ${arch()}`,
    cpu: `${cpu[0]?.model ?? 'unknown'} x${cpu.length}`,
    memory_gb: Math.round(totalmem() / 2 ** 30),
    loadavg_1m: Number(loadavg()[0]?.toFixed(2)),
    packages: Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(p)])),
  };
}

async function main(argv: readonly string[]): Promise<number> {
  // stdout and stderr become handles once touched: they belong to the baseline, like the loader.
  const baseline = process.stdout.writable && process.stderr.writable ? process.getActiveResourcesInfo() : [];
  const json = argv.includes('--json');
  const scale: Scale = argv.includes('--smoke') ? 'smoke' : 'full';
  const names = argv.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown bench: ${unknown.join(', ')}; choose from ${BENCHES.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  const selected = names.length === 0 ? BENCHES : BENCHES.filter((b) => names.includes(b.name));
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const progress = (line: string): void => void process.stderr.write(`# ${line}\n`);
  const runtime = argv.includes('--tsx') ? 'tsx' : 'compiled';
  if (runtime === 'compiled') {
    progress('building bench/.dist (tsc, emit only)');
    buildCompiled();
  }
  const meta: Record<string, unknown> = { ...machineMeta(), runtime };
  if (json) out(jsonLine('meta', { scale, ...meta }));
  else out(`node ${String(meta['node'])}, ${String(meta['cpu'])}, load ${String(meta['loadavg_1m'])}, scale ${scale}, ${runtime}\n`);
  let failed = 0;
  for (const bench of selected) {
    const started = Date.now();
    try {
      const result = await bench.run(scale, progress);
      if (json) {
        for (const f of result.figures) out(jsonLine('figure', f));
        for (const t of result.targets) out(jsonLine('target', t));
        for (const n of result.notes) out(jsonLine('note', { bench: bench.name, note: n }));
      } else {
        out(humanTable(bench, result));
        out(`(${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
      }
    } catch (error) {
      failed++;
      process.stderr.write(`bench ${bench.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    const strays = await killStrays();
    if (strays > 0) {
      failed++;
      process.stderr.write(`bench ${bench.name} left ${strays} child process(es) running; killed them\n`);
    }
  }
  // Nothing may keep the process alive now: it exits by itself, never through process.exit.
  const leftover = await leftoverResources(baseline, 5_000);
  if (leftover.length > 0) {
    failed++;
    process.stderr.write(`still open after the last bench, so the process cannot exit by itself: ${leftover.join(', ')}\n`);
  }
  if (json) out(jsonLine('end', { failed, leftover }));
  else progress(leftover.length === 0 ? 'done: nothing left open' : `done, leaking ${leftover.join(', ')}`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
