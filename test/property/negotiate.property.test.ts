// negotiate() as properties over arbitrary ranges, checked against a brute-force reference: the
// highest version in both ranges, or a refusal whose next_step says which side must move.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidRange, negotiate, type HelloFrame, type ProtocolRange } from '../../src/protocol/index.js';
import { requestedRange } from '../../src/protocol/codec.js';

/** Reference: enumerate every version and keep the highest one both sides speak. */
function bruteForce(client: ProtocolRange, server: ProtocolRange): number | undefined {
  let best: number | undefined;
  for (let v = server.min; v <= server.max; v++) if (v >= client.min && v <= client.max) best = v;
  return best;
}

const small = fc.integer({ min: 0, max: 12 });
const rangeArb = fc.tuple(small, small).map(([a, b]): ProtocolRange => ({ min: Math.min(a, b), max: Math.max(a, b) }));
const serverArb = fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 })).map(([a, b]): ProtocolRange => ({ min: Math.min(a, b), max: Math.max(a, b) }));
/** Anything a peer might put in a range, including garbage a decoder might let through. */
const wildNumber = fc.oneof(
  small,
  fc.integer({ min: -5, max: -1 }),
  fc.double({ noNaN: false }),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, 0.5, -0),
);

describe('negotiate: properties', () => {
  it('agrees with the brute-force reference on every valid pair', () => {
    fc.assert(
      fc.property(rangeArb, serverArb, (client, server) => {
        const result = negotiate(client, server);
        const expected = bruteForce(client, server);
        if (expected === undefined) {
          expect(result.ok).toBe(false);
          if (result.ok) return;
          // The side that must move is the one entirely on the wrong side of the other.
          expect(result.next_step).toBe(client.max < server.min ? 'upgrade_client' : 'downgrade_client');
          expect(result.reason).toBe(client.max < server.min ? 'client_too_old' : 'client_too_new');
          expect(result.message).toContain(`${client.min}..${client.max}`);
        } else {
          expect(result).toEqual({ ok: true, version: expected });
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('widening the client range never loses an agreement nor lowers the version', () => {
    fc.assert(
      fc.property(rangeArb, serverArb, fc.nat(4), fc.nat(4), (client, server, down, up) => {
        const narrow = negotiate(client, server);
        const wide = negotiate({ min: Math.max(0, client.min - down), max: client.max + up }, server);
        if (narrow.ok) {
          expect(wide.ok).toBe(true);
          if (wide.ok) expect(wide.version).toBeGreaterThanOrEqual(narrow.version);
        }
      }),
    );
  });

  it('never throws, and refuses any malformed range with do_not_retry', () => {
    fc.assert(
      fc.property(wildNumber, wildNumber, serverArb, (min, max, server) => {
        const client = { min, max };
        const result = negotiate(client, server);
        if (!isValidRange(client)) {
          expect(result).toMatchObject({ ok: false, code: 'protocol_unsupported', reason: 'invalid_range', next_step: 'do_not_retry' });
        } else if (result.ok) {
          expect(Number.isInteger(result.version)).toBe(true);
          expect(result.version).toBeGreaterThanOrEqual(Math.max(client.min, server.min));
          expect(result.version).toBeLessThanOrEqual(Math.min(client.max, server.max));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('reads every spelling of a hello range the same way the gateway will negotiate it', () => {
    const opt = fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined });
    fc.assert(
      fc.property(opt, opt, fc.option(fc.record({ min: fc.integer({ min: 0, max: 6 }), max: fc.integer({ min: 0, max: 6 }) }), { nil: undefined }), serverArb, (pmin, pmax, legacy, server) => {
        const hello = {
          type: 'hello' as const,
          agent_id: 'demo',
          ...(pmin === undefined ? {} : { protocol_min: pmin }),
          ...(pmax === undefined ? {} : { protocol_max: pmax }),
          ...(legacy === undefined ? {} : { protocol: legacy }),
        } as HelloFrame;
        const range = requestedRange(hello);
        // The explicit fields win over the older spelling; no range at all means v1 only.
        const min = pmin ?? legacy?.min ?? pmax ?? legacy?.max ?? 1;
        expect(range).toEqual({ min, max: pmax ?? legacy?.max ?? min });
        const result = negotiate(range, server);
        if (result.ok) expect(bruteForce(range, server)).toBe(result.version);
      }),
    );
  });
});
