// Where the system programs the suites drive live, found once and shared by the pre-test check
// (test/setup/system-packages.ts) and the suites themselves, so both agree on what "installed" means.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Python modules the Python client's suite imports, and the Debian package of each. */
export const PYTHON_MODULES: Readonly<Record<string, string>> = {
  websockets: 'python3-websockets',
  pytest: 'python3-pytest',
  pytest_asyncio: 'python3-pytest-asyncio',
  hypothesis: 'python3-hypothesis',
};

/** The Chromium the browser tests drive (Debian's package; a test never downloads a browser). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Debian's nginx (`nginx-light`), which the HTTP-transport tests put in front of the gateway. */
export const NGINX_PATH = '/usr/sbin/nginx';

/** True when `command` runs and exits 0 (e.g. `redis-server --version`). */
export function runs(command: string, args: readonly string[]): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 });
  return result.status === 0;
}

/** What an interpreter lacks of `PYTHON_MODULES` (empty when it has them all), or null if it does not run. */
function missingModules(python: string): string[] | null {
  const probe = `import importlib.util, sys\nprint(",".join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))`;
  const result = spawnSync(python, ['-c', probe, ...Object.keys(PYTHON_MODULES)], { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0) return null;
  const line = result.stdout.trim();
  return line === '' ? [] : line.split(',');
}

/**
 * Interpreters tried for the Python suite, in order: `LIFELINE_PYTHON`, Debian's `/usr/bin/python3`,
 * then `python3` on PATH. On these machines PATH's `python3` may be a separate interpreter
 * (pyenv) without Debian's packages, so Debian's comes first.
 */
export function pythonCandidates(): string[] {
  const env = process.env['LIFELINE_PYTHON'];
  return [...(env ? [env] : []), ...(existsSync('/usr/bin/python3') ? ['/usr/bin/python3'] : []), 'python3'];
}

/** The first interpreter that has every module, or an explanation of what each candidate lacks. */
export function findPython(): { python: string } | { problem: string; packages: string[] } {
  const reports: string[] = [];
  const packages = new Set<string>();
  for (const python of pythonCandidates()) {
    const missing = missingModules(python);
    if (missing === null) {
      reports.push(`${python}: does not run`);
      packages.add('python3');
    } else if (missing.length === 0) {
      return { python };
    } else {
      reports.push(`${python}: lacks ${missing.join(', ')}`);
    }
    for (const module of missing ?? Object.keys(PYTHON_MODULES)) packages.add(PYTHON_MODULES[module] ?? module);
  }
  return { problem: `no Python interpreter with ${Object.keys(PYTHON_MODULES).join(', ')} (${reports.join('; ')})`, packages: [...packages] };
}
