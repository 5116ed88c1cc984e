// `agent-lifeline inspect <ws-url>... --agent ID`: the inspector page for any gateway (Lifeline's, or
// PraisonAI's at /ws with --token), or for several nodes of a fleet. A local page whose client
// connects from the browser (failing over between the nodes given) and shows the chart, the
// status, the node it is on and the timeline live, across the gateways' restarts.
import { stderr, stdout } from 'node:process';
import { startInspector } from '../../stories/support/inspector-server.js';
import { redactTokens } from '../protocol/credentials.js';
import { withDefaultScheme } from './address.js';
import { parseCommandLine, portOption, reportFailure, UsageError, waitForSignal } from './cli-options.js';
import { unreachable, unreachableLine } from './reachability.js';

const USAGE = `usage: agent-lifeline inspect <ws-url> [<ws-url>...] --agent ID [--token TOKEN] [--port 5174] [--host 127.0.0.1]

Serves the inspector page on http://HOST:PORT/?key=… (a free port if 5174 is busy and --port is
not given; the key is made for this run, and the local server requires it). Its client connects
to <ws-url> as agent ID and stays connected across the gateway's restarts. Give several nodes of
a fleet, separated by spaces (agent-lifeline inspect ws://127.0.0.1:8801 ws://127.0.0.1:8802
--agent demo), and the client fails over between them in turn, as the client's url list does;
the page shows the node it is on. A bare host:port means ws://. For a PraisonAI gateway, give
its /ws URL and --token: on a /ws path the token also goes in ?token=.
`;

/** `ws://` or `wss://` with a host (a bare `host:port` is ws://), or a UsageError that says so. */
function gatewayUrl(text: string | undefined): string {
  if (text === undefined) throw new UsageError('a gateway URL is required, such as ws://127.0.0.1:8787');
  let url: URL;
  try {
    url = new URL(withDefaultScheme(text, 'ws'));
  } catch {
    throw new UsageError(`"${text}" is not a URL; give the gateway's WebSocket URL, such as ws://127.0.0.1:8787`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new UsageError(`the gateway URL must start with ws:// or wss://, got "${text}"`);
  return url.href;
}

/** Every positional as a gateway URL, at least one, none twice; or a UsageError naming the bad one. */
export function gatewayUrls(positionals: readonly string[]): string[] {
  if (positionals.length === 0) return [gatewayUrl(undefined)];
  const urls = positionals.map(gatewayUrl);
  const twice = urls.find((url, i) => urls.indexOf(url) !== i);
  if (twice !== undefined) throw new UsageError(`the gateway URL ${redactTokens(twice)} is given twice; give each node once`);
  return urls;
}

/** Run the command; resolves with 0 after a signal, or 2 on bad arguments or a busy port. */
export async function run(args: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCommandLine(
      args,
      {
        agent: { type: 'string' },
        token: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      true,
    );
    if (values.help) {
      stdout.write(USAGE);
      return 0;
    }
    const urls = gatewayUrls(positionals);
    if (values.agent === undefined || values.agent === '') throw new UsageError('--agent is required: the agent id to join, such as --agent demo');
    const inspector = await startInspector({
      host: values.host,
      port: values.port === undefined ? 5174 : portOption('port', values.port),
      portFallback: values.port === undefined,
      target: { url: urls, agentId: values.agent, ...(values.token === undefined ? {} : { token: values.token }) },
    });
    const down = await Promise.all(urls.map(unreachable));
    // Not fatal: watching a gateway come up is what the page is for. But say so.
    urls.forEach((url, i) => {
      const reason = down[i];
      if (reason !== null && reason !== undefined) stderr.write(`agent-lifeline inspect: ${unreachableLine(url, reason)} The page keeps retrying.\n`);
    });
    const watching = inspector.gatewayUrls.map(redactTokens).join(' ');
    stdout.write(`\n  Lifeline inspector   ${inspector.url}\n  Watching             ${watching}  (agent "${values.agent}")\n\n  Ctrl-C to stop.\n\n`);
    const signal = await waitForSignal();
    stderr.write(`agent-lifeline inspect: ${signal}, shutting down\n`);
    await inspector.close();
    return 0;
  } catch (error) {
    return reportFailure('inspect', error, USAGE);
  }
}
