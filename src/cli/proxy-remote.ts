// `agent-lifeline proxy refuse --port 8791` (and drop, stall, pass, status): switch a running
// proxy from another terminal. The proxy left its control address and key in this user's runtime
// directory (runtime-files.ts); this reads them and makes one request with a deadline.
import { stderr, stdout } from 'node:process';
import { CONTROL_KEY_HEADER } from '../../stories/support/control-guard.js';
import type { NetworkAction, NetworkStatus } from './proxy-control.js';
import { readRuntimeFile, runtimeDir, writeRuntimeFile, removeRuntimeFile } from './runtime-files.js';

/** What a proxy leaves for its remote control. */
interface ProxyRuntime {
  readonly control: string;
  readonly key: string;
  readonly pid: number;
}

/** What `proxy <what>` can ask. */
export type RemoteRequest = NetworkAction | 'status';

/** How long a remote request waits for the proxy's answer. */
const REQUEST_TIMEOUT_MS = 5000;

const fileName = (port: number): string => `proxy-${port}.json`;

/**
 * Leave the control address and key of the proxy on `port` for {@link runRemote}; returns a
 * function that removes them, or the reason they could not be saved.
 */
export function publishProxyKey(port: number, control: string, key: string): { remove: () => void } | { error: string } {
  try {
    writeRuntimeFile(fileName(port), { control, key, pid: process.pid } satisfies ProxyRuntime);
    return { remove: () => removeRuntimeFile(fileName(port)) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

function isProxyRuntime(value: unknown): value is ProxyRuntime {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record['control'] === 'string' && typeof record['key'] === 'string';
}

/** The proxy's own report line for an action's result, as its terminal shows it. */
export function actionLine(action: RemoteRequest, status: NetworkStatus): string {
  if (action === 'status') return `${status.mode}, ${status.connections} connection${status.connections === 1 ? '' : 's'}, forwarding to ${status.target}`;
  return action === 'drop' ? `dropped every connection (still ${status.mode})` : `now ${status.mode}`;
}

/** Ask the proxy on `port` to take `request`; resolves with the exit code (0, or 2 with one line on stderr). */
export async function runRemote(request: RemoteRequest, port: number): Promise<number> {
  const fail = (line: string): number => {
    stderr.write(`agent-lifeline proxy ${request}: ${line}\n`);
    return 2;
  };
  const runtime = readRuntimeFile(fileName(port));
  if (!isProxyRuntime(runtime)) {
    return fail(`no agent-lifeline proxy of yours is running on port ${port} (nothing in ${runtimeDir()}). Start one with agent-lifeline proxy --to ws://HOST:PORT --port ${port}, or give the port it prints with --port.`);
  }
  let response: Response;
  try {
    response = await fetch(`${runtime.control}/${request === 'status' ? '' : request}`, {
      method: request === 'status' ? 'GET' : 'POST',
      headers: { [CONTROL_KEY_HEADER]: runtime.key },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const why = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS} ms` : 'nothing answers';
    return fail(`the proxy on port ${port} does not answer at ${runtime.control} (${why}). Is it still running? Start it again with agent-lifeline proxy --to … --port ${port}.`);
  }
  const body = (await response.json().catch(() => null)) as (NetworkStatus & { message?: string; nextStep?: string }) | null;
  if (!response.ok || body === null) return fail(`the proxy refused: ${body?.message ?? response.statusText} ${body?.nextStep ?? ''}`.trimEnd());
  stdout.write(`agent-lifeline proxy on port ${port}: ${actionLine(request, body)}\n`);
  return 0;
}
