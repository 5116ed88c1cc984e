// The negotiation rule as a table: every client/server range pairing a gateway will meet.
import { describe, expect, it } from 'vitest';
import { isValidRange, negotiate, parseRange, type ProtocolRange } from '../../src/protocol/versions.js';

type Expected = { version: number } | { next_step: 'upgrade_client' | 'downgrade_client' | 'do_not_retry'; reason: string };

const server12: ProtocolRange = { min: 1, max: 2 };

const matrix: ReadonlyArray<[name: string, client: ProtocolRange, server: ProtocolRange, expected: Expected]> = [
  ['identical ranges', { min: 1, max: 2 }, server12, { version: 2 }],
  ['identical single version', { min: 1, max: 1 }, { min: 1, max: 1 }, { version: 1 }],
  ['client wider above: highest common', { min: 1, max: 5 }, server12, { version: 2 }],
  ['client wider below: highest common', { min: 0, max: 1 }, server12, { version: 1 }],
  ['overlap on the server min only', { min: 0, max: 1 }, { min: 1, max: 3 }, { version: 1 }],
  ['overlap on the server max only', { min: 3, max: 9 }, { min: 1, max: 3 }, { version: 3 }],
  ['client inside server', { min: 2, max: 2 }, { min: 1, max: 3 }, { version: 2 }],
  ['server inside client', { min: 1, max: 9 }, { min: 2, max: 3 }, { version: 3 }],
  ['disjoint: client too old', { min: 0, max: 0 }, server12, { next_step: 'upgrade_client', reason: 'client_too_old' }],
  ['disjoint: client too old by several', { min: 1, max: 2 }, { min: 3, max: 4 }, { next_step: 'upgrade_client', reason: 'client_too_old' }],
  ['disjoint: client too new', { min: 3, max: 4 }, server12, { next_step: 'downgrade_client', reason: 'client_too_new' }],
  ['disjoint: client too new (PraisonAI 2..3 vs 1..1)', { min: 2, max: 3 }, { min: 1, max: 1 }, { next_step: 'downgrade_client', reason: 'client_too_new' }],
  ['inverted range min > max', { min: 2, max: 1 }, server12, { next_step: 'do_not_retry', reason: 'invalid_range' }],
  ['inverted range that would overlap', { min: 1, max: 0 }, server12, { next_step: 'do_not_retry', reason: 'invalid_range' }],
  ['non-integer min', { min: 1.5, max: 2 }, server12, { next_step: 'do_not_retry', reason: 'invalid_range' }],
  ['non-integer max', { min: 1, max: 2.5 }, server12, { next_step: 'do_not_retry', reason: 'invalid_range' }],
  ['NaN', { min: Number.NaN, max: 2 }, server12, { next_step: 'do_not_retry', reason: 'invalid_range' }],
  ['negative min', { min: -1, max: 2 }, server12, { next_step: 'do_not_retry', reason: 'invalid_range' }],
  ['infinite max', { min: 1, max: Infinity }, server12, { next_step: 'do_not_retry', reason: 'invalid_range' }],
];

describe('negotiate(client, server)', () => {
  it.each(matrix)('%s', (_name, client, server, expected) => {
    const result = negotiate(client, server);
    if ('version' in expected) {
      expect(result).toEqual({ ok: true, version: expected.version });
      return;
    }
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe('protocol_unsupported');
    expect(result.next_step).toBe(expected.next_step);
    expect(result.reason).toBe(expected.reason);
    expect(result.message.length).toBeGreaterThan(10);
  });

  it('refusal messages name both ranges so a person can act on them', () => {
    const result = negotiate({ min: 3, max: 4 }, server12);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/3\.\.4.*2/);
  });
});

describe('isValidRange / parseRange', () => {
  it.each([
    ['1..2', { min: 1, max: 2 }],
    ['2', { min: 2, max: 2 }],
    [' 1 .. 3 ', { min: 1, max: 3 }],
    ['0..0', { min: 0, max: 0 }],
  ])('parses %j', (text, range) => {
    expect(parseRange(text)).toEqual(range);
  });

  it.each(['', '2..1', '1..', '..2', 'a..b', '1.5..2', '-1..2', '1...2'])('rejects %j', (text) => {
    expect(parseRange(text)).toBeUndefined();
  });

  it('a valid range needs integers with 0 <= min <= max', () => {
    expect(isValidRange({ min: 1, max: 1 })).toBe(true);
    expect(isValidRange({ min: 2, max: 1 })).toBe(false);
    expect(isValidRange({ min: 0.5, max: 1 })).toBe(false);
  });
});
