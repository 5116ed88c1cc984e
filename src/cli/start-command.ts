// `lifeline start` (`npm start`): a local gateway with the demo agent, and the live inspector
// page served on 127.0.0.1. Runs until SIGINT/SIGTERM, then closes everything.
import { stderr, stdout } from 'node:process';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startInspector } from '../../stories/support/inspector-server.js';

const USAGE = `usage: lifeline start [--port 5173] [--gateway-port 8787] [--host 127.0.0.1]

Starts the reference gateway (in-memory log, demo agent "demo") and the live inspector page.
`;

function port(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new RangeError(`--${name} must be a port number, got "${text}"`);
  return value;
}

/** Run the command; resolves with the exit code after a signal, or 2 on bad arguments. */
export async function run(args: string[]): Promise<number> {
  let options;
  try {
    const { values } = parseArgs({
      args,
      options: {
        port: { type: 'string', default: '5173' },
        'gateway-port': { type: 'string', default: '8787' },
        host: { type: 'string', default: '127.0.0.1' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
    if (values.help) {
      stdout.write(USAGE);
      return 0;
    }
    options = { host: values.host, port: port('port', values.port), gatewayPort: port('gateway-port', values['gateway-port']) };
  } catch (error) {
    stderr.write(`lifeline start: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }

  const logger = pino({ level: process.env['LIFELINE_LOG_LEVEL'] ?? 'warn' }, pino.destination(2));
  const inspector = await startInspector({ ...options, logger });
  stdout.write(
    [
      '',
      `  Lifeline inspector   ${inspector.url}`,
      `  Demo gateway         ${inspector.gatewayUrl}  (agent "demo")`,
      '',
      `  Open the page and pick a story, or go straight to one: ${inspector.url}?story=flaky-network`,
      '  In a terminal, the same stories print their timeline: npm run story -- --list',
      '',
      '  Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  stderr.write(`lifeline start: ${signal}, shutting down\n`);
  await inspector.close();
  return 0;
}
