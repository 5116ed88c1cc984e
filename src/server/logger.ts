// Structured JSON logs through pino. Tokens never reach a log line: known token fields are
// redacted, and URLs are logged with their query string's token removed (redactTokens, in
// src/protocol/credentials.ts, the rule every part of Lifeline shares).
import { pino, type Logger } from 'pino';
import { REDACTED } from '../protocol/credentials.js';

/** The logger type the gateway accepts. */
export type GatewayLogger = Logger;

/** Paths pino censors in every log line, in case a token ever slips into a logged object. */
export const REDACT_PATHS: readonly string[] = [
  'token',
  '*.token',
  'frame.token',
  'hello.token',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
];

/**
 * The gateway's logger. `false` silences it; a given logger gets a child with our redaction
 * added; otherwise, as a library should, only warnings and errors, as JSON lines on stderr
 * (`LIFELINE_LOG_LEVEL` overrides the level; under Vitest the default is `silent`). Nothing is
 * ever written to stdout unasked.
 */
export function createLogger(option: Logger | false | undefined): Logger {
  const redact = { paths: [...REDACT_PATHS], censor: REDACTED };
  if (option === false) return pino({ level: 'silent' });
  if (option !== undefined) return option.child({ component: 'gateway' }, { redact });
  const level = process.env['LIFELINE_LOG_LEVEL'] ?? (process.env['VITEST'] ? 'silent' : 'warn');
  return pino({ level, redact, base: { component: 'gateway' } }, pino.destination({ dest: 2, sync: true }));
}

/** The `token` query parameter of a request URL, if any. */
export function tokenFromUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const query = url.indexOf('?');
  if (query < 0) return undefined;
  return new URLSearchParams(url.slice(query + 1)).get('token') ?? undefined;
}
