// The `agent-lifeline` command as a real child process: spawn it (from source through tsx, or any
// entry), wait for a line on stdout with a bounded timeout, and collect its exit. Killed after the
// test if still running.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach } from 'vitest';

/** A running `agent-lifeline` process. */
export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything written to stdout and stderr so far. */
  readonly output: { stdout: string; stderr: string };
  /** Resolve with the first match of `pattern` on stdout; reject after `timeoutMs` or if the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolve with the exit code (null after a signal); reject after `timeoutMs`. */
  exited(timeoutMs?: number): Promise<number | null>;
}

const running = new Set<ChildProcessWithoutNullStreams>();
/** Children started in a process group of their own: cleanup kills the whole group. */
const groups = new WeakSet<ChildProcessWithoutNullStreams>();
afterEach(() => {
  for (const child of running) {
    if (groups.has(child) && child.pid !== undefined) {
      // npx runs the command as a grandchild; killing npx alone would leave it running.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is gone already.
      }
    } else if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  running.clear();
});

/** The command line that runs the CLI from source. */
export const FROM_SOURCE: readonly string[] = ['--import', 'tsx', 'src/cli/main.ts'];

/**
 * Spawn `node ...entry ...args` with quiet logs unless `env` says otherwise. `group`: in a process
 * group of its own, all of it killed after the test (for an entry such as npx that runs the
 * command as a child of its own).
 */
export function spawnCli(args: readonly string[], options: { entry?: readonly string[]; env?: NodeJS.ProcessEnv; cwd?: string; group?: boolean } = {}): CliProcess {
  const child = spawn(process.execPath, [...(options.entry ?? FROM_SOURCE), ...args], {
    env: { ...process.env, LIFELINE_LOG_LEVEL: 'silent', ...options.env },
    cwd: options.cwd ?? process.cwd(),
    detached: options.group ?? false,
  });
  running.add(child);
  if (options.group) groups.add(child);
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output,
    waitForOutput(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(output.stdout);
          if (match) done(() => resolve(match));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no ${String(pattern)} on stdout within ${timeoutMs} ms; stderr: ${output.stderr}`))), timeoutMs);
        const onExit = (): void => done(() => reject(new Error(`exited before printing ${String(pattern)}; stderr: ${output.stderr}`)));
        const done = (then: () => void): void => {
          clearTimeout(timer);
          child.stdout.off('data', check);
          child.off('exit', onExit);
          then();
        };
        child.stdout.on('data', check);
        child.once('exit', onExit);
        check();
      });
    },
    exited(timeoutMs = 20_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms; stderr: ${output.stderr}`)), timeoutMs);
      });
      return Promise.race([exit, timeout]).finally(() => clearTimeout(timer));
    },
  };
}
