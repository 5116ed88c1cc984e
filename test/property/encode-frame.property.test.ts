// encodeFrame splices a payload's remembered JSON into the frames that carry it: the text must be
// exactly what JSON.stringify gives for the whole frame, whatever the payload and the frame's
// other fields, or a client would read a different event than the one stored.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBatch, encodeEventFrame, encodeFrame, rememberPayloadJson } from '../../src/protocol/codec.js';
import type { LiveEvent } from '../../src/server/fleet.js';
import { parseLiveEvents } from '../../src/server/redis/stream-codec.js';

const payload = fc.record(
  { type: fc.string({ minLength: 1 }), data: fc.jsonValue(), event_id: fc.uuid(), timestamp: fc.double({ noNaN: true, noDefaultInfinity: true }), source: fc.string() },
  { requiredKeys: ['type', 'event_id'] },
);
const frame = fc.record(
  { type: fc.constantFrom('event', 'replay'), seq: fc.integer({ min: 1, max: 2 ** 53 - 2 }), epoch: fc.option(fc.string(), { nil: undefined }), extra: fc.option(fc.jsonValue(), { nil: undefined }) },
  { requiredKeys: ['type', 'seq'] },
);

describe('encodeFrame with a remembered payload', () => {
  it('writes exactly what JSON.stringify writes, for any payload and frame', () => {
    fc.assert(
      fc.property(payload, frame, fc.boolean(), (event, fields, remember) => {
        if (remember) rememberPayloadJson(event, JSON.stringify(event));
        const whole = { ...fields, event };
        expect(encodeFrame(whole)).toBe(JSON.stringify(whole));
        expect(encodeBatch([encodeFrame(whole), encodeFrame(whole)])).toBe(JSON.stringify({ type: 'batch', frames: [whole, whole] }));
        // The live event frame, written straight from the remembered JSON.
        expect(encodeEventFrame(fields.seq, event)).toBe(JSON.stringify({ type: 'event', seq: fields.seq, event }));
        // A changed copy of a remembered payload is its own JSON, never the original's.
        const changed = { ...fields, event: { ...event, type: `${event.type}!` } };
        expect(encodeFrame(changed)).toBe(JSON.stringify(changed));
      }),
      { numRuns: 300 },
    );
  });

  it('reuses the JSON a fan-out message carried, one line per event of a burst', () => {
    fc.assert(
      fc.property(fc.array(payload, { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 1e9 }), (events, first) => {
        const lines = events.map((event, i) => `${first + i}:e-1:${JSON.stringify(event)}`);
        const live: LiveEvent[] = [];
        parseLiveEvents(lines.join('\n'), (event) => live.push(event));
        expect(live.map((e) => [e.seq, e.epoch])).toEqual(events.map((_, i) => [first + i, 'e-1']));
        live.forEach((e, i) => {
          expect(JSON.stringify(e.event)).toBe(JSON.stringify(events[i]));
          const out = { type: 'event', seq: e.seq, event: e.event };
          expect(encodeFrame(out)).toBe(JSON.stringify(out));
        });
      }),
      { numRuns: 200 },
    );
  });
});
