// `npm run bench -- --json | npx tsx bench/markdown.ts`: turn the JSON lines into the markdown
// tables of bench/README.md, so the published table is pasted, never retyped.
import { stdin } from 'node:process';

type Line = Record<string, unknown>;

function cell(value: unknown): string {
  if (typeof value === 'number') return Math.abs(value) >= 10_000 ? Math.round(value).toLocaleString('en-US') : String(value);
  if (typeof value === 'boolean') return value ? 'met' : '**missed**';
  return String(value ?? '');
}

async function readLines(): Promise<Line[]> {
  let text = '';
  for await (const chunk of stdin) text += String(chunk);
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

const lines = await readLines();
const meta = lines.find((l) => l['kind'] === 'meta');
if (meta) {
  const packages = meta['packages'];
  const list = typeof packages === 'object' && packages !== null ? Object.entries(packages).map(([k, v]) => `${k} ${String(v)}`).join(', ') : '';
  process.stdout.write(`Node ${cell(meta['node'])}, ${cell(meta['platform'])}, ${cell(meta['cpu'])}, ${cell(meta['memory_gb'])} GB, load ${cell(meta['loadavg_1m'])} at start, ${cell(meta['runtime'])} JS.\nPackages: ${list}.\n\n`);
}
for (const bench of [...new Set(lines.filter((l) => l['kind'] === 'figure').map((l) => String(l['bench'])))]) {
  process.stdout.write(`### ${bench}\n\n| case | subject | metric | median | p25..p75 | min..max | n | unit |\n|---|---|---|---|---|---|---|---|\n`);
  for (const f of lines.filter((l) => l['kind'] === 'figure' && l['bench'] === bench)) {
    process.stdout.write(`| ${cell(f['case'])} | ${cell(f['subject'])} | ${cell(f['metric'])} | **${cell(f['median'])}** | ${cell(f['p25'])}..${cell(f['p75'])} | ${cell(f['min'])}..${cell(f['max'])} | ${cell(f['n'])} | ${cell(f['unit'])} |\n`);
  }
  const targets = lines.filter((l) => l['kind'] === 'target' && l['bench'] === bench);
  if (targets.length > 0) {
    process.stdout.write(`\n| target | case | measured | |\n|---|---|---|---|\n`);
    for (const t of targets) process.stdout.write(`| ${cell(t['target'])} | ${cell(t['case'])} | ${cell(typeof t['value'] === 'number' ? Number(t['value'].toPrecision(3)) : t['value'])} | ${cell(t['met'])} |\n`);
  }
  process.stdout.write('\n');
}
