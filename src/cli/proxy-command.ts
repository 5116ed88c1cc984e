// `agent-lifeline proxy`: the stories' TCP fault proxy as a command. Put it between a client and a
// gateway, then cut the network on a keypress, from another terminal (`agent-lifeline proxy refuse`)
// or over its local HTTP control endpoint (which needs this run's key), to watch (or test) how an
// app rides out drops, stalls and outages.
import { stderr, stdin, stdout } from 'node:process';
import { CONTROL_KEY_HEADER, CONTROL_KEY_PARAM } from '../../stories/support/control-guard.js';
import { createFaultProxy } from '../testing/index.js';
import { withDefaultScheme } from './address.js';
import { parseCommandLine, portOption, reportFailure, UsageError, waitForSignal } from './cli-options.js';
import { closestName } from './did-you-mean.js';
import { createNetworkSwitch, serveNetworkSwitch, type NetworkAction } from './proxy-control.js';
import { actionLine, publishProxyKey, runRemote, type RemoteRequest } from './proxy-remote.js';
import { unreachable, unreachableLine } from './reachability.js';

const USAGE = `usage: agent-lifeline proxy --to ws://127.0.0.1:8790 [--port 8791] [--control-port PORT+1] [--host 127.0.0.1]
       agent-lifeline proxy drop|stall|refuse|pass|status [--port 8791]

A TCP proxy in front of a gateway (--to ws://host:port, or just host:port): point your client at
ws://HOST:PORT instead. Change the network with a key (d drop, s stall, r refuse, p pass, q quit),
from another terminal (agent-lifeline proxy refuse --port 8791: the proxy you started on that port),
or over HTTP with the key the proxy prints (every request needs it; web pages are refused):
  curl -X POST -H 'X-Lifeline-Control: KEY' http://127.0.0.1:CONTROL_PORT/drop    reset every connection; new ones go through
  curl -X POST -H 'X-Lifeline-Control: KEY' http://127.0.0.1:CONTROL_PORT/stall   forward nothing, keep sockets open (half-open)
  curl -X POST -H 'X-Lifeline-Control: KEY' http://127.0.0.1:CONTROL_PORT/refuse  reset every connection and refuse new ones
  curl -X POST -H 'X-Lifeline-Control: KEY' http://127.0.0.1:CONTROL_PORT/pass    forward normally again
  curl -H 'X-Lifeline-Control: KEY' http://127.0.0.1:CONTROL_PORT/                {mode, connections, target}
`;

const KEYS: Record<string, NetworkAction> = { d: 'drop', s: 'stall', r: 'refuse', p: 'pass' };

/** `ws://host:port/...` or `host:port` to a TCP target. Throws UsageError. */
function target(text: string | undefined): { host: string; port: number } {
  if (text === undefined) throw new UsageError('--to is required: the gateway to proxy, such as ws://127.0.0.1:8790');
  let url: URL;
  try {
    url = new URL(withDefaultScheme(text, 'ws'));
  } catch {
    throw new UsageError(`--to must be a gateway address such as ws://127.0.0.1:8790, got "${text}"`);
  }
  if (!['ws:', 'http:'].includes(url.protocol) || url.port === '') {
    throw new UsageError(`--to must be ws://host:port with an explicit port (the proxy forwards plain TCP, not TLS), got "${text}"`);
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) };
}

/** Resolve on q or Ctrl-C when stdin is a terminal, taking `onKey` actions meanwhile; never otherwise. */
function keyboard(onKey: (action: NetworkAction) => void): { quit: Promise<void>; stop: () => void } {
  if (!stdin.isTTY) return { quit: new Promise(() => undefined), stop: () => undefined };
  stdin.setRawMode(true);
  stdin.resume();
  let onData: (data: Buffer) => void = () => undefined;
  const quit = new Promise<void>((resolve) => {
    onData = (data) => {
      const key = data.toString().toLowerCase();
      if (key === 'q' || key === '\u0003') resolve();
      const action = KEYS[key];
      if (action) onKey(action);
    };
    stdin.on('data', onData);
  });
  return {
    quit,
    stop: () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
    },
  };
}

const REQUESTS: readonly RemoteRequest[] = ['drop', 'stall', 'refuse', 'pass', 'status'];

/** The positional of `proxy <request>`, or a UsageError naming the closest request. */
function remoteRequest(word: string, extra: readonly string[], values: { to?: string | undefined }): RemoteRequest {
  const request = REQUESTS.find((r) => r === word);
  if (request === undefined) {
    const guess = closestName(word, REQUESTS);
    throw new UsageError(`unknown request "${word}"${guess === undefined ? '' : `; did you mean ${guess}?`} (drop, stall, refuse, pass or status)`);
  }
  if (extra.length > 0) throw new UsageError(`one request at a time, got "${[word, ...extra].join(' ')}"`);
  if (values.to !== undefined) throw new UsageError(`--to starts a proxy; "proxy ${request}" switches one already running (name it with --port)`);
  return request;
}

/** Run the command; resolves with 0 after q, Ctrl-C or a signal, or 2 on bad arguments or a busy port. */
export async function run(args: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCommandLine(
      args,
      {
        to: { type: 'string' },
        port: { type: 'string', default: '8791' },
        'control-port': { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      true,
    );
    if (values.help) {
      stdout.write(USAGE);
      return 0;
    }
    const [word, ...extra] = positionals;
    if (word !== undefined) return await runRemote(remoteRequest(word, extra, values), portOption('port', values.port));
    return await serve(target(values.to), portOption('port', values.port), values);
  } catch (error) {
    return reportFailure('proxy', error, USAGE);
  }
}

/** Start the proxy and its control endpoint; resolves with 0 after q, Ctrl-C or a signal. */
async function serve(upstream: { host: string; port: number }, port: number, values: { 'control-port'?: string | undefined; host: string }): Promise<number> {
  const controlPort = values['control-port'] === undefined ? (port === 0 ? 0 : port + 1) : portOption('control-port', values['control-port']);
  const proxy = await createFaultProxy({ target: upstream, host: values.host, port });
  const network = createNetworkSwitch(proxy, `${upstream.host}:${upstream.port}`);
  const report = (action: NetworkAction): void => void stdout.write(`agent-lifeline proxy: ${actionLine(action, network.status())}\n`);
  const control = await serveNetworkSwitch(network, values.host, controlPort, report).catch(async (error: unknown) => {
    await proxy.close();
    throw error;
  });
  const listening = Number(new URL(proxy.url).port);
  const saved = publishProxyKey(listening, control.url, control.key);
  if ('error' in saved) stderr.write(`agent-lifeline proxy: could not save the control key for "agent-lifeline proxy refuse" (${saved.error}); use the control URL below.\n`);
  const down = await unreachable(`ws://${upstream.host.includes(':') ? `[${upstream.host}]` : upstream.host}:${upstream.port}`);
  if (down !== null) stderr.write(`agent-lifeline proxy: ${unreachableLine(`${upstream.host}:${upstream.port}`, down)} Connections reset until it does.\n`);
  const keys = keyboard((action) => {
    network.apply(action);
    report(action);
  });
  stdout.write(
    [
      `agent-lifeline proxy listening on ${proxy.url} -> ${upstream.host}:${upstream.port}`,
      `  control: ${control.url}/?${CONTROL_KEY_PARAM}=${control.key}  (POST /drop, /stall, /refuse, /pass; GET / for the status)`,
      `  from a terminal: npx agent-lifeline proxy refuse --port ${listening}  (or drop, stall, pass, status)`,
      `     or with curl: curl -X POST -H '${CONTROL_KEY_HEADER}: ${control.key}' ${control.url}/refuse`,
      stdin.isTTY ? '  keys: d drop, s stall, r refuse, p pass, q quit' : '',
      '',
    ]
      .filter((line, i, all) => line !== '' || i === all.length - 1)
      .join('\n'),
  );
  await Promise.race([waitForSignal(), keys.quit]);
  keys.stop();
  if ('remove' in saved) saved.remove();
  await control.close();
  await proxy.close();
  return 0;
}
