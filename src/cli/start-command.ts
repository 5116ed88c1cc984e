// `agent-lifeline start` (`npm start`): a local gateway with the demo agent, and the live inspector
// page served on 127.0.0.1. Runs until SIGINT/SIGTERM, then closes everything. Default ports that
// are busy are swapped for free ones; ports given on the command line are kept or refused.
import { stderr, stdout } from 'node:process';
import { startInspector } from '../../stories/support/inspector-server.js';
import { defaultLogFormat, defaultLogLevel, parseCommandLine, portOption, reportFailure, stderrLogger, waitForSignal } from './cli-options.js';

const USAGE = `usage: agent-lifeline start [--port 5173] [--gateway-port 8787] [--host 127.0.0.1] [--log-level info]

Starts the reference gateway (in-memory log, demo agent "demo") and the live inspector page.
When a default port is busy, a free one is used; the URLs are printed either way. The page's URL
carries a key made for this run, which its local server requires (no other web page can use it).
Gateway logs go to stderr at --log-level (default info, or LIFELINE_LOG_LEVEL), as lines for a
person, or as JSON lines with --log-format json (or LIFELINE_LOG_FORMAT).
`;

/** Run the command; resolves with the exit code after a signal, or 2 on bad arguments or a port it cannot use. */
export async function run(args: string[]): Promise<number> {
  try {
    const { values } = parseCommandLine(args, {
      port: { type: 'string' },
      'gateway-port': { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      'log-level': { type: 'string', default: defaultLogLevel() },
      'log-format': { type: 'string', default: defaultLogFormat() },
      help: { type: 'boolean', short: 'h', default: false },
    });
    if (values.help) {
      stdout.write(USAGE);
      return 0;
    }
    const inspector = await startInspector({
      host: values.host,
      port: values.port === undefined ? 5173 : portOption('port', values.port),
      portFallback: values.port === undefined,
      gatewayPort: values['gateway-port'] === undefined ? 8787 : portOption('gateway-port', values['gateway-port']),
      gatewayPortFallback: values['gateway-port'] === undefined,
      logger: stderrLogger(values['log-level'], values['log-format']),
    });
    stdout.write(
      [
        '',
        `  Lifeline inspector   ${inspector.url}`,
        `  Demo gateway         ${inspector.gatewayUrl}  (agent "demo")`,
        '',
        `  Open the page and pick a story, or go straight to one: ${inspector.url}&story=flaky-network&run=1`,
        '  In a terminal, the same stories print their timeline: npm run story -- --list',
        '',
        '  Ctrl-C to stop.',
        '',
      ].join('\n'),
    );

    const signal = await waitForSignal();
    stderr.write(`agent-lifeline start: ${signal}, shutting down\n`);
    await inspector.close();
    return 0;
  } catch (error) {
    return reportFailure('start', error, USAGE);
  }
}
