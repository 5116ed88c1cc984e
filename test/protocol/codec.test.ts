// The codec at the edge: garbage in gives a typed error value out, never a throw.
import { describe, expect, it } from 'vitest';
import {
  decodeClientFrame,
  decodeServerFrame,
  encodeFrame,
  requestedCapabilities,
  requestedJoinRange,
  requestedRange,
  utf8Length,
} from '../../src/protocol/codec.js';
import type { HelloFrame, JoinFrame } from '../../src/protocol/frames.js';

function clientError(text: string, maxBytes?: number): string {
  const decoded = decodeClientFrame(text, maxBytes);
  if (decoded.ok) throw new Error(`expected a refusal for ${text.slice(0, 80)}`);
  return `${decoded.error.code}: ${decoded.error.message}`;
}

function serverError(text: string): string {
  const decoded = decodeServerFrame(text);
  if (decoded.ok) throw new Error(`expected a refusal for ${text.slice(0, 80)}`);
  return `${decoded.error.code}: ${decoded.error.message}`;
}

describe('decodeClientFrame: refusals', () => {
  it.each([
    ['malformed JSON', '{"type":"hello"', /bad_frame: .*not valid JSON/],
    ['not JSON at all', 'this is not json', /bad_frame: .*not valid JSON/],
    ['empty text', '', /bad_frame: .*not valid JSON/],
    ['an array', '[{"type":"hello","agent_id":"a"}]', /bad_frame: .*one JSON object/],
    ['a string', '"hello"', /bad_frame: .*one JSON object/],
    ['null', 'null', /bad_frame: .*one JSON object/],
    ['a number', '42', /bad_frame: .*one JSON object/],
    ['missing type', '{"agent_id":"demo"}', /bad_frame: .*no string "type"/],
    ['non-string type', '{"type":7}', /bad_frame: .*no string "type"/],
    ['unknown type', '{"type":"frobnicate","x":1}', /bad_frame: Unknown frame type "frobnicate"/],
    ['hello without agent_id', '{"type":"hello"}', /bad_frame: Invalid "hello" frame at "agent_id"/],
    ['protocol_min as a string (PraisonAI hello_min_gt_max)', '{"type":"hello","agent_id":"a","protocol_min":"1"}', /bad_frame: Invalid "hello" frame at "protocol_min"/],
    ['since as a string (PraisonAI join_errors)', '{"type":"join","agent_id":"a","since":"abc"}', /bad_frame: Invalid "join" frame at "since"/],
    ['huge number 1e400 (parses as Infinity)', '{"type":"hello","agent_id":"a","since":1e400}', /bad_frame: Invalid "hello" frame at "since"/],
    ['unsafe integer', '{"type":"hello","agent_id":"a","since":9007199254740993}', /bad_frame: Invalid "hello" frame at "since"/],
    ['negative since', '{"type":"hello","agent_id":"a","since":-1}', /bad_frame: Invalid "hello" frame at "since"/],
    ['fractional since', '{"type":"hello","agent_id":"a","since":1.5}', /bad_frame: Invalid "hello" frame at "since"/],
    ['empty agent_id', '{"type":"hello","agent_id":""}', /bad_frame: Invalid "hello" frame at "agent_id"/],
    ['capabilities not an array', '{"type":"hello","agent_id":"a","capabilities":"ack"}', /bad_frame: Invalid "hello" frame at "capabilities"/],
    ['message id as a number', '{"type":"message","id":5,"content":"x"}', /bad_frame: Invalid "message" frame at "id"/],
  ])('%s', (_name, text, expected) => {
    expect(clientError(text)).toMatch(expected);
  });

  it('truncates an absurdly long unknown type in the message', () => {
    const message = clientError(JSON.stringify({ type: 'x'.repeat(10_000) }));
    expect(message.length).toBeLessThan(200);
  });

  it('refuses a frame over max_payload as payload_too_large, counting UTF-8 bytes', () => {
    const ascii = encodeFrame({ type: 'message', content: 'a'.repeat(2000) });
    expect(clientError(ascii, 1000)).toMatch(/^payload_too_large: .*1000 bytes/);
    // 600 two-byte characters: 600 UTF-16 units but 1200+ bytes on the wire.
    const wide = encodeFrame({ type: 'message', content: 'é'.repeat(600) });
    expect(wide.length).toBeLessThan(1000);
    expect(clientError(wide, 1000)).toMatch(/^payload_too_large/);
    expect(decodeClientFrame(ascii, 1_000_000).ok).toBe(true);
  });

  it('survives deep nesting without throwing', () => {
    const depth = 50_000;
    const deep = `{"type":"message","id":"m-1","content":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const decoded = decodeClientFrame(deep);
    expect(decoded.ok).toBe(true);
    const unbalanced = `{"type":"message","content":${'['.repeat(depth)}}`;
    expect(clientError(unbalanced)).toMatch(/^bad_frame/);
  });
});

describe('decodeClientFrame: accepted frames', () => {
  it('ignores unknown fields and keeps them (loose objects)', () => {
    const decoded = decodeClientFrame('{"type":"hello","agent_id":"a","future_field":{"x":1}}');
    expect(decoded.ok).toBe(true);
    if (decoded.ok) expect(decoded.frame).toMatchObject({ type: 'hello', agent_id: 'a', future_field: { x: 1 } });
  });

  it.each([
    ['minimal hello', { type: 'hello', agent_id: 'demo' }, { min: 1, max: 1 }],
    ['current spelling', { type: 'hello', agent_id: 'demo', protocol_min: 1, protocol_max: 2 }, { min: 1, max: 2 }],
    ['older protocol:{min,max} spelling', { type: 'hello', agent_id: 'demo', protocol: { min: 1, max: 3 } }, { min: 1, max: 3 }],
    ['only protocol_max', { type: 'hello', agent_id: 'demo', protocol_max: 2 }, { min: 2, max: 2 }],
    ['inverted range survives decoding, for negotiate to refuse', { type: 'hello', agent_id: 'demo', protocol_min: 2, protocol_max: 1 }, { min: 2, max: 1 }],
  ])('requestedRange: %s', (_name, frame, range) => {
    const decoded = decodeClientFrame(JSON.stringify(frame));
    expect(decoded.ok).toBe(true);
    if (decoded.ok && decoded.frame.type === 'hello') expect(requestedRange(decoded.frame)).toEqual(range);
  });

  it('reads the legacy join range and the older caps spelling', () => {
    const join: JoinFrame = { type: 'join', agent_id: 'a', min_version: 1, max_version: 2 };
    expect(requestedJoinRange(join)).toEqual({ min: 1, max: 2 });
    expect(requestedJoinRange({ type: 'join', agent_id: 'a' })).toEqual({ min: 1, max: 1 });
    const hello: HelloFrame = { type: 'hello', agent_id: 'a', caps: ['ack'] };
    expect(requestedCapabilities(hello)).toEqual(['ack']);
    expect(requestedCapabilities({ ...hello, capabilities: ['batch'] })).toEqual(['batch']);
    expect(requestedCapabilities({ type: 'hello', agent_id: 'a' })).toEqual([]);
  });
});

describe('decodeServerFrame', () => {
  it.each([
    ['negative seq', '{"type":"event","seq":-1,"event":{"type":"token"}}', /Invalid "event" frame at "seq"/],
    ['seq 0 (seqs start at 1)', '{"type":"event","seq":0,"event":{"type":"token"}}', /at "seq"/],
    ['fractional seq', '{"type":"event","seq":1.5,"event":{"type":"token"}}', /at "seq"/],
    ['seq 1e400', '{"type":"event","seq":1e400,"event":{"type":"token"}}', /at "seq"/],
    ['event without payload', '{"type":"event","seq":3}', /at "event"/],
    ['hello_ok without session_id', '{"type":"hello_ok","protocol":1,"features":{"methods":[],"events":[]},"policy":{"max_payload":1,"heartbeat_ms":1},"resumed":false,"cursor":0}', /at "session_id"/],
    ['batch holding a non-event', '{"type":"batch","frames":[{"type":"ack","id":"x"}]}', /Invalid "batch" frame/],
    ['foreign frame with a string seq', '{"type":"response","seq":"1"}', /Invalid "response" frame at "seq"/],
    ['foreign frame with an empty type', '{"type":"","seq":1}', /bad_frame/],
  ])('refuses %s', (_name, text, expected) => {
    expect(serverError(text)).toMatch(expected);
  });

  it('decodes PraisonAI flat live frames as foreign, keeping seq and cursor', () => {
    const decoded = decodeServerFrame(
      '{"type":"response","status":"final","content":"echo: hi","session_id":"s","cursor":2,"seq":2}',
    );
    expect(decoded).toMatchObject({ ok: true, kind: 'foreign', frame: { type: 'response', seq: 2, cursor: 2 } });
    expect(decodeServerFrame('{"type":"status","message":"Thinking..."}')).toMatchObject({ ok: true, kind: 'foreign' });
  });

  it('decodes a PraisonAI replay numbered by event.sequence as a contract replay', () => {
    const decoded = decodeServerFrame('{"type":"replay","event":{"type":"response","data":{"seq":3},"sequence":3}}');
    expect(decoded).toMatchObject({ ok: true, kind: 'contract', frame: { type: 'replay', event: { sequence: 3 } } });
    if (decoded.ok && decoded.kind === 'contract' && decoded.frame.type === 'replay') expect(decoded.frame.seq).toBeUndefined();
  });
});

describe('utf8Length', () => {
  it.each(['', 'abc', 'é', '€', '😀', 'a😀é€', '\u0000'])('matches Buffer.byteLength for %j', (text) => {
    expect(utf8Length(text)).toBe(Buffer.byteLength(text, 'utf8'));
  });
});

describe('error messages never quote the offending value', () => {
  it('names the field and the expected type, but not what was sent (it may be a secret)', () => {
    const decoded = decodeClientFrame(JSON.stringify({ type: 'hello', agent_id: 'demo', token: 98765432123 }));
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.error.message).toBe('Invalid "hello" frame at "token": expected string.');
    expect(decoded.error.message).not.toContain('98765432123');
  });
});
