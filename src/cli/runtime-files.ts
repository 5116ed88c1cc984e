// Small files a running command leaves for the same user's other commands: the control address
// and key of each `agent-lifeline proxy`, so `agent-lifeline proxy refuse --port 8791` in another
// terminal can use them without anyone copying a key (as Jupyter keeps its servers' tokens). They
// live in a directory only this user can read: $XDG_RUNTIME_DIR/agent-lifeline, or
// <tmpdir>/agent-lifeline-<uid>, which is refused unless it is this user's and private.
import { lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The directory for this user's runtime files (not created). */
export function runtimeDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_RUNTIME_DIR'];
  if (xdg !== undefined && xdg !== '') return join(xdg, 'agent-lifeline');
  return join(tmpdir(), `agent-lifeline-${process.getuid?.() ?? 'user'}`);
}

/** Create the directory if needed and check it is a private directory of this user; throws an Error saying what is wrong. */
function privateDir(env: NodeJS.ProcessEnv): string {
  const dir = runtimeDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  const uid = process.getuid?.();
  if (!stat.isDirectory()) throw new Error(`${dir} is not a directory`);
  // On a shared /tmp, someone else could have made it first: never put a key in their directory.
  if (uid !== undefined && stat.uid !== uid) throw new Error(`${dir} belongs to another user`);
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) throw new Error(`${dir} is readable by other users (mode ${(stat.mode & 0o777).toString(8)})`);
  return dir;
}

/** Write `name` (readable by this user only); resolves with its path. Throws an Error when the directory is not private. */
export function writeRuntimeFile(name: string, content: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const path = join(privateDir(env), name);
  writeFileSync(path, `${JSON.stringify(content)}\n`, { mode: 0o600 });
  return path;
}

/** The parsed content of `name`, or undefined when there is none (or it is unreadable). */
export function readRuntimeFile(name: string, env: NodeJS.ProcessEnv = process.env): unknown {
  try {
    return JSON.parse(readFileSync(join(privateDir(env), name), 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Remove `name` if it is there. */
export function removeRuntimeFile(name: string, env: NodeJS.ProcessEnv = process.env): void {
  rmSync(join(runtimeDir(env), name), { force: true });
}
