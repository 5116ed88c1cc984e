// The limits on what a client reads from a gateway: nesting depth counted as a parser would, with
// brackets inside strings ignored, exactly at the bound and one past it.
import { describe, expect, it } from 'vitest';
import { MAX_SERVER_FRAME_DEPTH } from '../../src/protocol/index.js';
import { nestingExceeds } from '../../src/protocol/frame-limits.js';
import { nestingCases } from '../vectors/frame-limit-vectors.js';

describe('nestingExceeds', () => {
  it.each(nestingCases())('$name', ({ text, maxDepth, exceeds }) => {
    expect(nestingExceeds(text, maxDepth)).toBe(exceeds);
  });

  it('uses MAX_SERVER_FRAME_DEPTH by default', () => {
    const at = `${'['.repeat(MAX_SERVER_FRAME_DEPTH)}${']'.repeat(MAX_SERVER_FRAME_DEPTH)}`;
    expect(nestingExceeds(at)).toBe(false);
    expect(nestingExceeds(`[${at}]`)).toBe(true);
  });

  it('agrees with JSON.parse on the depth of random documents', () => {
    let seed = 7;
    const next = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const build = (depth: number): unknown => {
      if (depth === 0) return next(2) === 0 ? 'a[{"\\\\' : 1;
      const child = build(depth - 1);
      return next(2) === 0 ? [child, '}]'] : { k: child, '[': '{' };
    };
    const depthOf = (value: unknown): number =>
      typeof value === 'object' && value !== null ? 1 + Math.max(0, ...Object.values(value).map(depthOf)) : 0;
    for (let i = 0; i < 50; i++) {
      const value = build(next(40));
      const text = JSON.stringify(value);
      const depth = depthOf(value);
      expect(nestingExceeds(text, depth)).toBe(false);
      if (depth > 0) expect(nestingExceeds(text, depth - 1)).toBe(true);
    }
  });
});
