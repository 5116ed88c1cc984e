// What every long-running `agent-lifeline` command shares: argument parsing that accepts negative
// numbers as values, port and log-level checks, the stderr logger (human or JSON lines), the one-line start-up failure,
// and waiting for Ctrl-C.
import { stderr } from 'node:process';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { pino, type Logger } from 'pino';
import { GatewayError } from '../server/errors.js';
import { closestName } from './did-you-mean.js';
import { humanLogStream } from './human-log.js';

/** A bad command line: printed as one line plus the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `parseArgs` in strict mode, except that a value starting with `-` followed by a digit (as in
 * `--port -1`) is taken as the option's value, so the range check can say what is wrong instead of
 * the parser's "argument is ambiguous". Throws {@link UsageError}.
 */
export function parseCommandLine<T extends Options>(
  args: readonly string[],
  options: T,
  allowPositionals = false,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: boolean }>> {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const next = args[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : '';
    if (options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  checkOptionNames(joined, options);
  try {
    return parseArgs({ args: joined, options, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError(parseErrorLine(error));
  }
}

/** Refuse the first option that is not in `options`, naming the closest one it may have meant. */
function checkOptionNames(args: readonly string[], options: Options): void {
  const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });
  const known = Object.entries(options).flatMap(([name, option]) => [`--${name}`, ...(option.short === undefined ? [] : [`-${option.short}`])]);
  for (const token of tokens) {
    if (token.kind !== 'option' || Object.hasOwn(options, token.name)) continue;
    const guess = closestName(token.rawName, known);
    throw new UsageError(`unknown option ${token.rawName}${guess === undefined ? '' : `; did you mean ${guess}?`}`);
  }
}

/** parseArgs' remaining errors, in the CLI's words rather than Node's advice about positionals. */
function parseErrorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const argument = /'([^']*)'/.exec(message)?.[1];
    return `unexpected argument${argument === undefined ? '' : ` "${argument}"`}: this command takes options only`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const option = /'(-[^ ']+)/.exec(message)?.[1];
    if (option !== undefined && message.includes('argument missing')) return `${option} needs a value`;
  }
  return message;
}

/** A TCP port 0..65535 (0 picks a free one). Throws {@link UsageError}. */
export function portOption(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw new UsageError(`--${name} must be a port number from 0 to 65535 (0 picks a free one), got "${text}"`);
  }
  return value;
}

/** A duration such as `1s`, `500ms` or `2m` (a bare number is milliseconds), in ms. Throws {@link UsageError}. */
export function durationOption(name: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new UsageError(`--${name} must be a duration such as 1s, 500ms or 2m, got "${text}"`);
  const unit = match[2] === 's' ? 1000 : match[2] === 'm' ? 60_000 : 1;
  return Math.round(Number(match[1]) * unit);
}

/** Log levels `--log-level` accepts, most to least verbose, and `silent`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The CLI's default level: `LIFELINE_LOG_LEVEL`, else `info`. */
export function defaultLogLevel(): string {
  return process.env['LIFELINE_LOG_LEVEL'] ?? 'info';
}

/** Formats `--log-format` accepts: lines for a person, or pino's JSON lines for a collector. */
export const LOG_FORMATS = ['human', 'json'] as const;

/** How the CLI's log lines look. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The CLI's default format: `LIFELINE_LOG_FORMAT`, else `human`. */
export function defaultLogFormat(): string {
  return process.env['LIFELINE_LOG_FORMAT'] ?? 'human';
}

/**
 * A pino logger writing to stderr at `level`, as human lines or JSON lines (`format`). Throws
 * {@link UsageError} on an unknown level or format.
 */
export function stderrLogger(level: string, format: string): Logger {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  }
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--log-format must be one of ${LOG_FORMATS.join(', ')}, got "${format}"`);
  }
  if (format === 'json') return pino({ level }, pino.destination({ dest: 2, sync: true }));
  return pino({ level }, humanLogStream((line) => stderr.write(line)));
}

/** CLI wording of the next step, where a flag says it better than the library's sentence. */
const CLI_NEXT_STEP: Partial<Record<GatewayError['code'], string>> = {
  address_in_use: 'Stop the process that holds it (another agent-lifeline gateway, or npm start?), or choose another port (0 picks a free one).',
  unavailable: 'Start Redis, or check --redis and the network; --redis-connect-timeout waits longer.',
};

/**
 * Report `error` as one line on stderr and return exit code 2 when it is a usage or start-up
 * failure the user can fix; rethrow anything else (a bug, which main.ts reports with exit 1).
 */
export function reportFailure(command: string, error: unknown, usage: string): number {
  if (error instanceof UsageError) {
    stderr.write(`agent-lifeline ${command}: ${error.message}\n\n${usage}`);
    return 2;
  }
  if (error instanceof GatewayError) {
    stderr.write(`agent-lifeline ${command}: ${error.message} ${CLI_NEXT_STEP[error.code] ?? error.nextStep}\n`);
    return 2;
  }
  throw error;
}

/** Resolve with the first SIGINT or SIGTERM. */
export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}
