// `npm run bench`'s command line refusing what it cannot run; the smoke (smoke.test.ts) runs the
// real command end to end.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('npm run bench (command line)', () => {
  it('refuses an unknown bench name with exit code 2, naming the benches', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'no-such-bench', '--tsx'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('unknown bench');
    expect(run.stderr).toContain('capacity');
  });
});
