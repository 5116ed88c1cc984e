// The gateway's default ids (session ids and event ids): version 4 UUIDs from crypto-random bytes,
// drawn in blocks; none repeats across blocks, and every free bit varies.
import { describe, expect, it } from 'vitest';
import { randomId } from '../../src/server/random-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('randomId', () => {
  it('makes version 4 UUIDs that never repeat, across several blocks of random bytes', () => {
    const ids = Array.from({ length: 20_000 }, randomId);
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('varies every hex digit but the version, and the variant only in its free bits', () => {
    const seen = Array.from({ length: 36 }, () => new Set<string>());
    for (let n = 0; n < 5000; n++) [...randomId()].forEach((c, i) => seen[i]?.add(c));
    seen.forEach((chars, i) => {
      if ([8, 13, 18, 23].includes(i)) expect([...chars]).toEqual(['-']);
      else if (i === 14) expect([...chars]).toEqual(['4']);
      else if (i === 19) expect([...chars].sort()).toEqual(['8', '9', 'a', 'b']);
      else expect(chars.size).toBe(16);
    });
  });
});
