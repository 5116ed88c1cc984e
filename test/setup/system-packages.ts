// The pre-test step of `npm test`: every system package the suites need, in one list. Missing ones
// are installed with apt-get when running as root; otherwise this prints the exact command and
// fails. It never lets a suite be skipped silently. Add a requirement here when a suite needs one.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM_PATH, findPython, NGINX_PATH, runs } from '../support/system.js';

interface Requirement {
  /** What needs it, for the message. */
  readonly neededBy: string;
  /** Debian packages still missing, or an empty list when the requirement is met. */
  missing(): readonly string[];
}

const REQUIREMENTS: readonly Requirement[] = [
  { neededBy: 'the browser tests (test/browser)', missing: () => (existsSync(CHROMIUM_PATH) ? [] : ['chromium']) },
  { neededBy: 'the HTTP-transport proxy tests (nginx in front of the gateway)', missing: () => (runs(NGINX_PATH, ['-v']) ? [] : ['nginx-light']) },
  {
    neededBy: 'the Redis fleet tests',
    missing: () => [...(runs('redis-server', ['--version']) ? [] : ['redis-server']), ...(runs('redis-cli', ['--version']) ? [] : ['redis-tools'])],
  },
  {
    neededBy: 'the Python client tests (clients/python)',
    missing: () => {
      const found = findPython();
      return 'python' in found ? [] : found.packages;
    },
  },
];

function missingPackages(): { packages: string[]; neededBy: string[] } {
  const packages = new Set<string>();
  const neededBy: string[] = [];
  for (const requirement of REQUIREMENTS) {
    const missing = requirement.missing();
    if (missing.length === 0) continue;
    neededBy.push(requirement.neededBy);
    for (const name of missing) packages.add(name);
  }
  return { packages: [...packages].sort(), neededBy };
}

function apt(args: readonly string[]): boolean {
  const result = spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return result.status === 0;
}

function main(): number {
  const before = missingPackages();
  if (before.packages.length === 0) return 0;
  const install = ['install', '-y', '--no-install-recommends', ...before.packages];
  const command = `apt-get update && apt-get install -y --no-install-recommends ${before.packages.join(' ')}`;
  console.error(`npm test needs system packages that are missing: ${before.packages.join(', ')} (for ${before.neededBy.join('; ')}).`);
  if (process.getuid?.() !== 0) {
    console.error(`Install them as root, then run npm test again:\n  sudo sh -c '${command}'`);
    return 1;
  }
  console.error(`Running as root: ${command}`);
  if (!apt(['update']) || !apt(install)) {
    console.error(`apt-get failed. Run it by hand to see why:\n  ${command}`);
    return 1;
  }
  const after = missingPackages();
  if (after.packages.length > 0) {
    console.error(`Still missing after apt-get: ${after.packages.join(', ')} (for ${after.neededBy.join('; ')}).`);
    if (after.neededBy.some((what) => what.includes('Python'))) console.error(findPythonProblem());
    return 1;
  }
  return 0;
}

function findPythonProblem(): string {
  const found = findPython();
  return 'problem' in found ? `${found.problem}. Set LIFELINE_PYTHON to an interpreter that has them.` : '';
}

process.exitCode = main();
