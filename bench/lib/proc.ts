// Child processes for the benches: every server and every client population runs in its own
// Node process (compiled JS, or TypeScript under tsx), talking to the orchestrator over IPC. Wall-clock timestamps taken in
// different processes are comparable because they all use `wallNow()` (timeOrigin + now).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

/** One IPC message: a `type` and flat fields. */
export type Msg = { readonly type: string } & Readonly<Record<string, unknown>>;

/** Milliseconds since the Unix epoch with sub-ms precision, comparable across processes. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export function isMsg(value: unknown): value is Msg {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** A numeric field of a message; throws when missing, so a protocol slip fails loudly. */
export function num(msg: Msg, key: string): number {
  const value = msg[key];
  if (typeof value !== 'number') throw new Error(`IPC message "${msg.type}" lacks numeric "${key}"`);
  return value;
}

export function str(msg: Msg, key: string): string {
  const value = msg[key];
  if (typeof value !== 'string') throw new Error(`IPC message "${msg.type}" lacks string "${key}"`);
  return value;
}

export function numList(msg: Msg, key: string): number[] {
  const value = msg[key];
  if (!Array.isArray(value) || !value.every((v): v is number => typeof v === 'number')) {
    throw new Error(`IPC message "${msg.type}" lacks number[] "${key}"`);
  }
  return value;
}

/** A running child process. */
export interface Proc {
  readonly pid: number;
  send(msg: Msg): void;
  /** The next message of this type (queued ones first); rejects after `timeoutMs` or if the child exits. */
  next(type: string, timeoutMs: number): Promise<Msg>;
  /** Hard kill (a crash, as the benches need), resolving once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  readonly exited: Promise<number | null>;
}

const live = new Set<ChildProcess>();
// A bench that throws must not leave servers behind: kill what we started, by pid.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Set by `bench/run.ts` once `bench/.dist` is built: children then run compiled JS on plain node. */
export const COMPILED_ENV = 'LIFELINE_BENCH_COMPILED';

/**
 * How to start `bench/procs/<name>`. Compiled by default for published numbers: tsx compiles with
 * esbuild's keepNames, which wraps every named closure in `__name(...)`, and that costs Lifeline's
 * closure-based factories real heap (about 256 bytes a closure) and CPU that users of the built
 * package never pay. The smoke test runs the TypeScript directly under tsx.
 */
export function procCommand(name: string): { path: string; execArgv: string[] } {
  if (process.env[COMPILED_ENV] === '1') {
    return { path: fileURLToPath(new URL(`../.dist/bench/procs/${name}.js`, import.meta.url)), execArgv: [] };
  }
  return { path: fileURLToPath(new URL(`../procs/${name}.ts`, import.meta.url)), execArgv: ['--import', 'tsx'] };
}

/** Start `bench/procs/<name>.ts` with the tsx loader and wait for its `ready` message. */
export async function startProc(name: string, args: readonly string[] = [], options: { execArgv?: readonly string[]; readyTimeoutMs?: number } = {}): Promise<{ proc: Proc; ready: Msg }> {
  const command = procCommand(name);
  const child = fork(command.path, [...args], {
    execArgv: [...command.execArgv, ...(options.execArgv ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  live.add(child);
  const queue: Msg[] = [];
  const waiters: Array<{ type: string; resolve: (m: Msg) => void; reject: (e: Error) => void }> = [];
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      exitCode = code;
      for (const w of waiters.splice(0)) w.reject(new Error(`${name} exited (${String(code)}) while waiting for "${w.type}"`));
      resolve(code);
    });
  });
  child.on('message', (value: unknown) => {
    if (!isMsg(value)) return;
    if (value.type === 'fatal') {
      process.stderr.write(`[${name}] ${String(value['message'])}\n`);
    }
    const i = waiters.findIndex((w) => w.type === value.type || value.type === 'fatal');
    const waiter = i >= 0 ? waiters.splice(i, 1)[0] : undefined;
    if (!waiter) queue.push(value);
    else if (value.type === 'fatal') waiter.reject(new Error(`${name}: ${String(value['message'])}`));
    else waiter.resolve(value);
  });
  const proc: Proc = {
    pid: child.pid ?? -1,
    send(msg) {
      if (child.connected) child.send(msg);
    },
    next(type, timeoutMs) {
      const i = queue.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0] as Msg);
      if (exitCode !== undefined) return Promise.reject(new Error(`${name} already exited`));
      return new Promise<Msg>((resolve, reject) => {
        const waiter = {
          type,
          resolve: (m: Msg) => {
            clearTimeout(timer);
            resolve(m);
          },
          reject: (e: Error) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        const timer = setTimeout(() => {
          const j = waiters.indexOf(waiter);
          if (j >= 0) waiters.splice(j, 1);
          reject(new Error(`${name}: no "${type}" within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    async kill(signal = 'SIGKILL') {
      if (exitCode === undefined) child.kill(signal);
      await exited;
    },
    exited,
  };
  try {
    return { proc, ready: await proc.next('ready', options.readyTimeoutMs ?? 30_000) };
  } catch (error) {
    // Nobody else holds it yet: a child that never got ready would keep the run alive.
    await proc.kill();
    throw error;
  }
}

/**
 * Kill every child still running, and say how many there were. `bench/run.ts` calls it after
 * each bench: a bench must stop its own children, so any found here is a bug it reports, and
 * killing them keeps that bug from holding the whole run open.
 */
export async function killStrays(): Promise<number> {
  const strays = [...live];
  await Promise.all(
    strays.map(
      (child) =>
        new Promise<void>((resolve) => {
          // Still in `live`, so its 'exit' has not fired yet; it will, whether or not this kill lands.
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
  return strays.length;
}

/** Inside a child: report to the orchestrator. */
export function tell(msg: Msg): void {
  process.send?.(msg);
}

/**
 * Inside a child: handle orchestrator commands one at a time. A handler that throws reports
 * `fatal` instead of leaving the orchestrator waiting. The child exits when the parent goes away.
 */
export function serve(handler: (msg: Msg) => Promise<void> | void): void {
  let chain = Promise.resolve();
  process.on('message', (value: unknown) => {
    if (!isMsg(value)) return;
    if (value.type === 'exit') process.exit(0);
    chain = chain.then(() => handler(value)).catch((error: unknown) => {
      tell({ type: 'fatal', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    });
  });
  process.on('disconnect', () => process.exit(0));
}

/** Sleep, for outages and settle times (never to wait for a condition: use `waitUntil`). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll a condition every `stepMs` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, stepMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
  return true;
}
