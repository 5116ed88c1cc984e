// Runs the Python client's suite (clients/python/tests, pytest) as part of `npm test`. It fails
// loudly, naming the interpreter problem and the apt-get command, when Python or its packages are
// missing; it never skips. Its scenarios start real gateways themselves (tests/support/harness.ts).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPython, PYTHON_MODULES } from '../support/system.js';

const root = join(import.meta.dirname, '../..');

function run(python: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests'], {
      cwd: join(root, 'clients/python'),
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('clients/python (pytest)', () => {
  it('passes against real gateways', { timeout: 120_000 }, async () => {
    const found = findPython();
    if (!('python' in found)) {
      throw new Error(
        `The Python client suite cannot run: ${found.problem}.\n` +
          `Install: apt-get update && apt-get install -y --no-install-recommends ${found.packages.join(' ')}\n` +
          `(or point LIFELINE_PYTHON at an interpreter with ${Object.keys(PYTHON_MODULES).join(', ')}).`,
      );
    }
    const { code, output } = await run(found.python);
    expect(code, `pytest exited ${String(code)}:\n${output}`).toBe(0);
  });
});
