// `agent-lifeline conformance ws://host:port[/path] --agent ID [--token T] [--json] [--timeout ms] [--only prefix,...] [--require-http]`:
// run the conformance kit against a gateway and print a table. Exit 1 only when a rule fails.
import { exitCode, formatTable, runConformance, summarize, type ConformanceOptions } from '../conformance/index.js';
import { withDefaultScheme } from './address.js';
import { parseCommandLine, UsageError } from './cli-options.js';
import { unreachable, unreachableLine } from './reachability.js';

const USAGE = `usage: agent-lifeline conformance ws://host:port[/path] --agent ID [--token T] [--json] [--timeout ms] [--only prefix,...] [--require-http]

Checks a gateway against PROTOCOL.md and prints one row per rule: pass, FAIL (expected vs seen)
or not offered (an optional extension the gateway does not advertise). Exits 1 only on a failure,
2 on bad arguments. The HTTP binding (PROTOCOL.md section 9) is optional: its rules report not
offered when the gateway does not serve it, unless --require-http makes them fail.
`;

/** Parse arguments into options, or a usage error message. */
export function parseConformanceArgs(args: string[]): { options: ConformanceOptions; json: boolean } | { error: string } {
  let parsed;
  try {
    parsed = parseCommandLine(
      args,
      {
        agent: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean', default: false },
        timeout: { type: 'string' },
        only: { type: 'string' },
        'require-http': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      true,
    );
  } catch (error) {
    if (error instanceof UsageError) return { error: error.message };
    throw error;
  }
  const { values, positionals } = parsed;
  if (values.help) return { error: '' };
  const [given, ...extra] = positionals;
  if (given === undefined || extra.length > 0) return { error: 'give exactly one gateway URL' };
  const url = withDefaultScheme(given, 'ws');
  if (!/^wss?:\/\//.test(url)) return { error: `expected a ws:// or wss:// URL, got "${url}"` };
  if (!values.agent) return { error: '--agent is required' };
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout <= 0)) return { error: `--timeout must be a positive number of ms, got "${values.timeout}"` };
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  return {
    json: values.json,
    options: {
      url,
      agentId: values.agent,
      ...(values.token === undefined ? {} : { token: values.token }),
      ...(timeout === undefined ? {} : { timeoutMs: timeout }),
      ...(only?.length ? { only } : {}),
      ...(values['require-http'] ? { requireHttp: true } : {}),
    },
  };
}

/** Entry point used by `src/cli/main.ts`. */
export async function run(args: string[]): Promise<number> {
  const parsed = parseConformanceArgs(args);
  if ('error' in parsed) {
    process.stderr.write(parsed.error ? `agent-lifeline conformance: ${parsed.error}\n\n${USAGE}` : USAGE);
    return parsed.error ? 2 : 0;
  }
  const down = await unreachable(parsed.options.url);
  if (down !== null) {
    process.stderr.write(`agent-lifeline conformance: ${unreachableLine(parsed.options.url, down)}\n`);
    return 2;
  }
  let results;
  try {
    results = await runConformance(parsed.options);
  } catch (error) {
    process.stderr.write(`agent-lifeline conformance: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  process.stdout.write(parsed.json ? `${JSON.stringify({ summary: summarize(results), results }, null, 2)}\n` : formatTable(results));
  return exitCode(results);
}
