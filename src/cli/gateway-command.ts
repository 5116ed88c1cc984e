// `lifeline gateway`: run the reference gateway with the demo agent until SIGINT/SIGTERM, then
// drain (clients get a spread reconnect hint) and close. The URL goes to stdout, logs to stderr.
import { stderr, stdout } from 'node:process';
import { parseRange } from '../protocol/index.js';
import { attachDemoAgent, createGateway, DEMO_EVENT_TYPES } from '../server/index.js';
import { defaultLogLevel, parseCommandLine, portOption, reportFailure, stderrLogger, UsageError, waitForSignal } from './cli-options.js';

const USAGE = `usage: lifeline gateway [--port 8787] [--host 127.0.0.1] [--protocol 1..2] [--replay-window 1000]
                        [--heartbeat-ms 15000] [--log-level info]

Runs the reference gateway with the demo agent registered as "demo".
Logs are JSON lines on stderr at --log-level (trace, debug, info, warn, error, fatal, silent;
default info, or LIFELINE_LOG_LEVEL).
`;

function integer(name: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${text}"`);
  return value;
}

/** Run the command; resolves with the exit code after a signal, or 2 on bad arguments or a port it cannot use. */
export async function run(args: string[]): Promise<number> {
  try {
    const { values } = parseCommandLine(args, {
      port: { type: 'string', default: '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      protocol: { type: 'string', default: '1..2' },
      'replay-window': { type: 'string', default: '1000' },
      'heartbeat-ms': { type: 'string', default: '15000' },
      'log-level': { type: 'string', default: defaultLogLevel() },
      help: { type: 'boolean', short: 'h', default: false },
    });
    if (values.help) {
      stdout.write(USAGE);
      return 0;
    }
    const protocol = parseRange(values.protocol);
    if (!protocol) throw new UsageError(`--protocol must look like 1..2, got "${values.protocol}"`);
    const logger = stderrLogger(values['log-level']);
    const gateway = await createGateway({
      host: values.host,
      port: portOption('port', values.port),
      protocol,
      replayWindow: integer('replay-window', values['replay-window'], 1),
      heartbeatMs: integer('heartbeat-ms', values['heartbeat-ms'], 1),
      eventTypes: DEMO_EVENT_TYPES,
      logger,
    });
    const detachDemo = attachDemoAgent(gateway, 'demo');
    stdout.write(`lifeline gateway listening on ${gateway.url} (protocol ${protocol.min}..${protocol.max}, agent "demo")\n`);

    const signal = await waitForSignal();
    stderr.write(`lifeline gateway: ${signal}, draining\n`);
    detachDemo();
    await gateway.drain();
    await gateway.close();
    return 0;
  } catch (error) {
    return reportFailure('gateway', error, USAGE);
  }
}
