// Generators of hostile wire input, for the gateway and for the client: malformed JSON, wrong
// field types, unknown types, huge and negative or fractional numbers, deep nesting, oversized and
// binary frames. Every generated frame is invalid by construction: it must earn a typed refusal.
import fc from 'fast-check';

/** A text frame plus what kind of breakage it carries (reported in the figures). */
export interface BadFrame {
  readonly kind: string;
  readonly text: string;
}

const JSON_NON_OBJECTS = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.constant(null), fc.boolean(), fc.array(fc.jsonValue(), { maxLength: 4 }));

/** Numbers no seq, cursor or version may be: negative, fractional, past 2^53, absurd. */
export const BAD_NUMBERS = fc.oneof(
  fc.integer({ min: -1_000_000, max: -1 }),
  fc.double({ min: 0.001, max: 1e6, noNaN: true }).filter((d) => !Number.isInteger(d)),
  fc.constantFrom(2 ** 53, 2 ** 53 + 2, 1e21, 1e308, -1e308, Number.MAX_VALUE),
);

/** Values of the wrong JSON type for a string field. */
const NOT_A_STRING = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }));

/** Values of the wrong JSON type for a number field. */
const NOT_A_NUMBER = fc.oneof(fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }));

/** Nested arrays `depth` deep, as text (building it as a value would itself recurse). */
export function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** Garbage text that is not one JSON object with a string `type`. */
export const malformedJson: fc.Arbitrary<BadFrame> = fc.oneof(
  fc.string({ maxLength: 80 }).filter((s) => {
    try {
      const v: unknown = JSON.parse(s);
      return typeof v !== 'object' || v === null || Array.isArray(v) || typeof (v as { type?: unknown }).type !== 'string';
    } catch {
      return true;
    }
  }).map((text) => ({ kind: 'malformed JSON', text })),
  fc.constantFrom('{"type":"hello"', '{"type":"message","content":}', '{"type":"ping"}garbage', "{'type':'ping'}", '{"type":"ping",}', '\u0000', '').map((text) => ({ kind: 'malformed JSON', text })),
  JSON_NON_OBJECTS.map((v) => ({ kind: 'JSON that is not an object', text: JSON.stringify(v) })),
  fc.oneof(fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.integer(), { maxLength: 2 })).map((type) => ({ kind: 'non-string type', text: JSON.stringify({ type }) })),
);

/** Client frames of a known type with one field of the wrong type or out of range. */
export const wrongClientFields: fc.Arbitrary<BadFrame> = fc.oneof(
  fc.record({ field: fc.constantFrom('protocol_min', 'protocol_max', 'since'), value: BAD_NUMBERS }).map(({ field, value }) => ({
    kind: `hello.${field} out of range`,
    text: JSON.stringify({ type: 'hello', agent_id: 'demo', protocol_min: 1, protocol_max: 2, [field]: value }),
  })),
  fc.record({ field: fc.constantFrom('agent_id', 'session_id', 'epoch', 'token'), value: NOT_A_STRING }).map(({ field, value }) => ({
    kind: `hello.${field} not a string`,
    text: JSON.stringify({ type: 'hello', agent_id: 'demo', protocol_min: 1, protocol_max: 2, [field]: value }),
  })),
  fc.constantFrom('agent_id', 'session_id', 'epoch').map((field) => ({ kind: `hello.${field} too long or empty`, text: JSON.stringify({ type: 'hello', agent_id: 'demo', [field]: field === 'agent_id' ? '' : 'x'.repeat(129) }) })),
  NOT_A_STRING.filter((v) => v !== null).map((id) => ({ kind: 'message.id not a string', text: JSON.stringify({ type: 'message', id, content: 'x' }) })),
  fc.record({ field: fc.constantFrom('min_version', 'max_version', 'since'), value: BAD_NUMBERS }).map(({ field, value }) => ({
    kind: `join.${field} out of range`,
    text: JSON.stringify({ type: 'join', agent_id: 'demo', [field]: value }),
  })),
  NOT_A_NUMBER.filter((v) => v !== null).map((ts) => ({ kind: 'ping.ts not a number', text: JSON.stringify({ type: 'ping', ts }) })),
);

const CLIENT_TYPES = new Set(['hello', 'join', 'message', 'resync', 'leave', 'ping', 'pong']);

/** A well-formed object whose type the gateway does not know. */
export const unknownClientType: fc.Arbitrary<BadFrame> = fc
  .string({ minLength: 1, maxLength: 40 })
  .filter((t) => !CLIENT_TYPES.has(t))
  .map((type) => ({ kind: 'unknown type', text: JSON.stringify({ type, seq: 1 }) }));

/** Deep nesting inside a field that must be a string, or as the whole frame. */
export const deepNesting: fc.Arbitrary<BadFrame> = fc.integer({ min: 50, max: 1500 }).chain((depth) =>
  fc.constantFrom(
    { kind: 'deep nesting (top level)', text: nested(depth) },
    { kind: 'deep nesting (in a field)', text: `{"type":"message","id":${nested(depth)},"content":1}` },
    { kind: 'deep nesting (in hello)', text: `{"type":"hello","agent_id":${nested(depth)}}` },
  ),
);

/** Everything above, for frames sent to a gateway. */
export const badClientFrame: fc.Arbitrary<BadFrame> = fc.oneof(
  { weight: 3, arbitrary: malformedJson },
  { weight: 4, arbitrary: wrongClientFields },
  { weight: 2, arbitrary: unknownClientType },
  { weight: 1, arbitrary: deepNesting },
);

/** Server frames of a known type with broken fields: what a buggy or hostile gateway sends. */
export const badServerFrame: fc.Arbitrary<BadFrame> = fc.oneof(
  malformedJson,
  BAD_NUMBERS.map((seq) => ({ kind: 'event.seq out of range', text: JSON.stringify({ type: 'event', seq, event: { type: 'tick', data: {} } }) })),
  NOT_A_NUMBER.map((seq) => ({ kind: 'event.seq wrong type', text: JSON.stringify({ type: 'event', seq, event: { type: 'tick' } }) })),
  fc.constantFrom(
    { kind: 'event without payload type', text: '{"type":"event","seq":1,"event":{"data":1}}' },
    { kind: 'event with empty epoch', text: '{"type":"event","seq":1,"event":{"type":"t"},"epoch":""}' },
    { kind: 'batch without frames', text: '{"type":"batch","frames":"nope"}' },
    { kind: 'batch of garbage', text: '{"type":"batch","frames":[1,2,3]}' },
    { kind: 'batch member with bad seq', text: '{"type":"batch","frames":[{"type":"event","seq":-4,"event":{"type":"t"}}]}' },
    { kind: 'ack without id', text: '{"type":"ack"}' },
    { kind: 'snapshot with negative cursor', text: '{"type":"snapshot","state":null,"cursor":-1}' },
    { kind: 'draining with a string hint', text: '{"type":"draining","reconnect_after_ms":"soon"}' },
    { kind: 'caught_up with fractional cursor', text: '{"type":"caught_up","cursor":1.5}' },
  ),
  deepNesting.map((f) => ({ kind: f.kind, text: f.text.replace('"message","id"', '"ack","id"').replace('"hello","agent_id"', '"ping","ts"') })),
);
