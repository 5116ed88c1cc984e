// The close-code table and the error vocabulary: one place decides what a client does next.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLOSE_CODE_FOR_ERROR, CLOSE_CODE_TABLE, CloseCode, classifyClose, closeEndsSession, type CloseAction } from '../../src/protocol/close-codes.js';
import { ERROR_INFO, WIRE_ERROR_CODES, defaultNextStep, isRecoverable, isTerminal } from '../../src/protocol/errors.js';

// The close-code table of PROTOCOL.md section 6, read from the document: the code, its name and
// the reaction it promises, written out independently of the table under test.
function documentedCloses(): ReadonlyArray<[code: number, name: string, action: CloseAction]> {
  const text = readFileSync(fileURLToPath(new URL('../../PROTOCOL.md', import.meta.url)), 'utf8');
  const section = text.slice(text.indexOf('## 6. '), text.indexOf('## 7. '));
  return [...section.matchAll(/^\| (\d{4}) \| `(\w+)` \| `(\w+)` \|/gm)].map((m) => [Number(m[1]), m[2] ?? '', m[3] as CloseAction]);
}
const documented = documentedCloses();

describe('classifyClose', () => {
  it.each(documented)('close %i (%s) -> %s, as PROTOCOL.md says', (code, name, action) => {
    expect(classifyClose(code)).toBe(action);
    expect(CloseCode[name as keyof typeof CloseCode]).toBe(code);
  });

  it.each(CLOSE_CODE_TABLE.map((row) => [row.code, row.name, row.action] as const))('table row %i (%s) -> %s', (code, name, action) => {
    expect(classifyClose(code)).toBe(action);
    expect(CloseCode[name as keyof typeof CloseCode]).toBe(code);
  });

  it('the table covers every CloseCode exactly once, and PROTOCOL.md lists the same codes', () => {
    const tableCodes = CLOSE_CODE_TABLE.map((row) => row.code).sort();
    expect(tableCodes).toEqual(Object.values(CloseCode).sort());
    expect(new Set(tableCodes).size).toBe(tableCodes.length);
    expect(documented.map(([code]) => code).sort()).toEqual(tableCodes);
  });

  it('names 1006 and 1012, which the client meets without a gateway sending them', () => {
    expect(CloseCode.Abnormal).toBe(1006);
    expect(CloseCode.ServiceRestart).toBe(1012);
  });

  it.each([1005, 1015, 4001, 4999, 3000, 0, -1])('unknown code %i backs off', (code) => {
    expect(classifyClose(code)).toBe('backoff');
  });

  it('1012 (service restart) reconnects at once', () => {
    expect(classifyClose(CloseCode.ServiceRestart)).toBe('reconnect_now');
  });

  it('every wire error with a close code is sent with the code its table row expects', () => {
    for (const [error, code] of Object.entries(CLOSE_CODE_FOR_ERROR)) {
      const info = ERROR_INFO[error as keyof typeof ERROR_INFO];
      const action = classifyClose(code);
      // A non-recoverable refusal must never be retried by the close handler either.
      if (!info.recoverable) expect(['give_up', 'reauthenticate'], `${error} -> ${code}`).toContain(action);
      else expect(['backoff', 'reconnect_now'], `${error} -> ${code}`).toContain(action);
    }
  });
});

describe('isRecoverable / isTerminal / defaultNextStep', () => {
  const recoverable = ['rate_limited', 'session_limit', 'bad_frame', 'payload_too_large', 'handshake_timeout', 'session_expired', 'slow_consumer', 'internal_error', 'not_joined', 'unavailable', 'message_in_flight', 'unknown_connection'];
  const fatal = ['auth_required', 'auth_unauthorized', 'protocol_unsupported', 'agent_not_found', 'origin_not_allowed', 'configuration_error'];

  it('splits the wire codes as PROTOCOL.md section 6 says', () => {
    expect([...recoverable, ...fatal].sort()).toEqual([...WIRE_ERROR_CODES].sort());
    for (const code of recoverable) expect(isRecoverable(code), code).toBe(true);
    for (const code of fatal) expect(isRecoverable(code), code).toBe(false);
  });

  it.each(['version_unsupported', 'invalid_protocol_hello', 'something_new', ''])('unknown code %j is recoverable', (code) => {
    expect(isRecoverable(code)).toBe(true);
    expect(defaultNextStep(code)).toBe('wait_then_retry');
  });

  it.each([
    ['auth_required', 'reauthenticate', true],
    ['protocol_unsupported', 'downgrade_client', true],
    ['agent_not_found', 'do_not_retry', true],
    ['rate_limited', 'wait_then_retry', false],
    ['rate_limited', undefined, false],
    ['handshake_timeout', 'wait_then_retry', false],
    ['bad_frame', 'do_not_retry', true],
    ['something_new', undefined, false],
    ['something_new', 'wait_then_retry', false],
    ['something_new', 'do_not_retry', true],
    // A step from the future is not one of ours: do not stop on it.
    ['something_new', 'ask_an_admin', false],
    ['internal_error', 'upgrade_client', true],
  ] as const)('isTerminal(%j, %j) = %s', (code, step, terminal) => {
    expect(isTerminal(code, step)).toBe(terminal);
  });

  it('default next steps match the table', () => {
    expect(defaultNextStep('auth_required')).toBe('reauthenticate');
    expect(defaultNextStep('agent_not_found')).toBe('do_not_retry');
    expect(defaultNextStep('rate_limited')).toBe('wait_then_retry');
  });

  it('only session_expired (4040) ends the session: every other close resumes it', () => {
    const ending = [...CLOSE_CODE_TABLE.map((row) => row.code), 1005, 4999].filter(closeEndsSession);
    expect(ending).toEqual([CloseCode.SessionExpired]);
  });
});
