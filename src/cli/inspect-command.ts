// `lifeline inspect <ws-url> --agent ID`: the inspector page for any gateway (Lifeline's, or
// PraisonAI's at /ws?token=...). A local page whose client connects to the URL from the browser
// and shows the chart, the status and the timeline live, across the gateway's restarts.
import { stderr, stdout } from 'node:process';
import { startInspector } from '../../stories/support/inspector-server.js';
import { redactUrl } from '../server/logger.js';
import { parseCommandLine, portOption, reportFailure, UsageError, waitForSignal } from './cli-options.js';
import { unreachable, unreachableLine } from './reachability.js';

const USAGE = `usage: lifeline inspect <ws-url> --agent ID [--token TOKEN] [--port 5174] [--host 127.0.0.1]

Serves the inspector page on http://HOST:PORT/ (a free port if 5174 is busy and --port is not
given); its client connects to <ws-url> as agent ID and stays connected across the gateway's
restarts. For a PraisonAI gateway, put the token in the URL: ws://host:port/ws?token=...
`;

/** `ws://` or `wss://` with a host, or a UsageError that says so. */
function gatewayUrl(text: string | undefined): string {
  if (text === undefined) throw new UsageError('a gateway URL is required, such as ws://127.0.0.1:8787');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`"${text}" is not a URL; give the gateway's WebSocket URL, such as ws://127.0.0.1:8787`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new UsageError(`the gateway URL must start with ws:// or wss://, got "${text}"`);
  return url.href;
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
    if (positionals.length > 1) throw new UsageError(`one gateway URL, got ${positionals.length}: ${positionals.join(' ')}`);
    const url = gatewayUrl(positionals[0]);
    if (values.agent === undefined || values.agent === '') throw new UsageError('--agent is required: the agent id to join, such as --agent demo');
    const inspector = await startInspector({
      host: values.host,
      port: values.port === undefined ? 5174 : portOption('port', values.port),
      portFallback: values.port === undefined,
      target: { url, agentId: values.agent, ...(values.token === undefined ? {} : { token: values.token }) },
    });
    const down = await unreachable(url);
    // Not fatal: watching a gateway come up is what the page is for. But say so.
    if (down !== null) stderr.write(`lifeline inspect: ${unreachableLine(url, down)} The page keeps retrying.\n`);
    stdout.write(`\n  Lifeline inspector   ${inspector.url}\n  Watching             ${redactUrl(inspector.gatewayUrl)}  (agent "${values.agent}")\n\n  Ctrl-C to stop.\n\n`);
    const signal = await waitForSignal();
    stderr.write(`lifeline inspect: ${signal}, shutting down\n`);
    await inspector.close();
    return 0;
  } catch (error) {
    return reportFailure('inspect', error, USAGE);
  }
}
