// CI smoke for `npm run bench`'s command line: it builds bench/.dist, runs one bench on the
// compiled children and prints one JSON object per line. Its own file, so it runs beside the
// bench smoke in the other worker.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const FIGURE_KEYS = ['bench', 'case', 'subject', 'metric', 'unit', 'median', 'p25', 'p75', 'min', 'max', 'n'];

describe('npm run bench (command line)', () => {
  it('npm run bench -- <name> --json prints one JSON object per line', { timeout: 45_000 }, () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'throughput', '--json', '--smoke'], { encoding: 'utf8', timeout: 40_000 });
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ kind: 'meta', scale: 'smoke', runtime: 'compiled' });
    expect(lines[0]?.['packages']).toHaveProperty('partysocket');
    const kinds = new Set(lines.map((l) => l['kind']));
    expect([...kinds]).toEqual(expect.arrayContaining(['meta', 'figure', 'target']));
    for (const l of lines.filter((x) => x['kind'] === 'figure')) for (const k of FIGURE_KEYS) expect(l).toHaveProperty(k);
  });

  it('refuses an unknown bench name with exit code 2', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'no-such-bench', '--tsx'], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('unknown bench');
  });
});
