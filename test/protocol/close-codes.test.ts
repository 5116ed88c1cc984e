// The close-code table and the error vocabulary: one place decides what a client does next.
import { describe, expect, it } from 'vitest';
import { CLOSE_CODE_FOR_ERROR, CLOSE_CODE_TABLE, CloseCode, classifyClose, closeEndsSession, type CloseAction } from '../../src/protocol/close-codes.js';
import { ERROR_INFO, WIRE_ERROR_CODES, defaultNextStep, isRecoverable, isTerminal } from '../../src/protocol/errors.js';

// The reactions PROTOCOL.md section 6 promises, written out independently of the table under test.
const documented: ReadonlyArray<[code: number, action: CloseAction]> = [
  [1000, 'backoff'],
  [1001, 'reconnect_now'],
  [4000, 'backoff'],
  [4002, 'reconnect_now'],
  [4003, 'reauthenticate'],
  [4004, 'give_up'],
  [4005, 'give_up'],
  [4006, 'give_up'],
  [4008, 'backoff'],
  [4009, 'backoff'],
  [4010, 'give_up'],
  [4011, 'backoff'],
  [4013, 'backoff'],
  [4029, 'backoff'],
  [4030, 'backoff'],
  [4040, 'reconnect_now'],
  [4503, 'backoff'],
];

describe('classifyClose', () => {
  it.each(documented)('close %i -> %s', (code, action) => {
    expect(classifyClose(code)).toBe(action);
  });

  it.each(CLOSE_CODE_TABLE.map((row) => [row.code, row.name, row.action] as const))('table row %i (%s) -> %s', (code, _name, action) => {
    expect(classifyClose(code)).toBe(action);
  });

  it('the table covers every CloseCode exactly once', () => {
    const tableCodes = CLOSE_CODE_TABLE.map((row) => row.code).sort();
    expect(tableCodes).toEqual(Object.values(CloseCode).sort());
    expect(new Set(tableCodes).size).toBe(tableCodes.length);
    expect(documented.map(([code]) => code).sort()).toEqual(tableCodes);
  });

  it.each([1006, 1011, 1013, 1015, 4001, 4999, 3000, 0, -1])('unknown or transport code %i backs off', (code) => {
    expect(classifyClose(code)).toBe('backoff');
  });

  it('1012 (service restart) reconnects at once', () => {
    expect(classifyClose(1012)).toBe('reconnect_now');
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
  const recoverable = ['rate_limited', 'session_limit', 'bad_frame', 'payload_too_large', 'handshake_timeout', 'session_expired', 'slow_consumer', 'internal_error', 'not_joined', 'unavailable', 'message_in_flight'];
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
    const ending = [...CLOSE_CODE_TABLE.map((row) => row.code), 1006, 1011, 1012, 4999].filter(closeEndsSession);
    expect(ending).toEqual([CloseCode.SessionExpired]);
  });
});
