// `lifeline gateway`: run the reference gateway with the demo agent until SIGINT/SIGTERM, then
// drain (clients get a spread reconnect hint) and close. The URL goes to stdout, logs to stderr.
import { stderr, stdout } from 'node:process';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parseRange } from '../protocol/index.js';
import { attachDemoAgent, createGateway, DEMO_EVENT_TYPES } from '../server/index.js';

const USAGE = `usage: lifeline gateway [--port 8787] [--host 127.0.0.1] [--protocol 1..2] [--replay-window 1000] [--heartbeat-ms 15000]

Runs the reference gateway with the demo agent registered as "demo".
Logs are JSON lines on stderr (level from LIFELINE_LOG_LEVEL, default info).
`;

function integer(name: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new RangeError(`--${name} must be an integer >= ${min}, got "${text}"`);
  return value;
}

/** Run the command; resolves with the exit code after a signal, or 2 on bad arguments. */
export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        port: { type: 'string', default: '8787' },
        host: { type: 'string', default: '127.0.0.1' },
        protocol: { type: 'string', default: '1..2' },
        'replay-window': { type: 'string', default: '1000' },
        'heartbeat-ms': { type: 'string', default: '15000' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    stderr.write(`lifeline gateway: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    stdout.write(USAGE);
    return 0;
  }
  const protocol = parseRange(parsed.protocol);
  let numbers: { port: number; replayWindow: number; heartbeatMs: number };
  try {
    if (!protocol) throw new RangeError(`--protocol must look like 1..2, got "${parsed.protocol}"`);
    numbers = {
      port: integer('port', parsed.port, 0),
      replayWindow: integer('replay-window', parsed['replay-window'], 1),
      heartbeatMs: integer('heartbeat-ms', parsed['heartbeat-ms'], 1),
    };
  } catch (error) {
    stderr.write(`lifeline gateway: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }

  const logger = pino({ level: process.env['LIFELINE_LOG_LEVEL'] ?? 'info' }, pino.destination(2));
  const gateway = await createGateway({ host: parsed.host, protocol, eventTypes: DEMO_EVENT_TYPES, logger, ...numbers });
  const detachDemo = attachDemoAgent(gateway, 'demo');
  stdout.write(`lifeline gateway listening on ${gateway.url} (protocol ${protocol.min}..${protocol.max}, agent "demo")\n`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  stderr.write(`lifeline gateway: ${signal}, draining\n`);
  detachDemo();
  await gateway.drain();
  await gateway.close();
  return 0;
}
