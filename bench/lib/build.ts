// Compile src/, machines/ and bench/ to bench/.dist with tsc (emit only; `npm run typecheck`
// does the checking), so the measured processes run the same JS a user of the package runs.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { COMPILED_ENV } from './proc.js';

/** Build, then make every `startProc` in this process use the compiled children. Throws on failure. */
export function buildCompiled(): void {
  const require = createRequire(import.meta.url);
  const tsc = require.resolve('typescript/bin/tsc');
  const project = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
  const run = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) throw new Error(`bench build failed:\n${run.stdout}${run.stderr}`);
  process.env[COMPILED_ENV] = '1';
}
