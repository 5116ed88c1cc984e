// The HTTP binding's stream format: the SSE reader against the HTML standard's rules, the
// `<epoch>:<seq>` ids, the close event, and the gateway's id for each frame it writes.
import { describe, expect, it } from 'vitest';
import { encodeBatch, encodeFrame, rememberPayloadJson } from '../../src/protocol/codec.js';
import { createSseParser, formatEventId, parseEventId, parseSseClose, sseCloseMessage, sseMessage, type SseMessage } from '../../src/protocol/sse.js';
import { createEventIds } from '../../src/server/http/event-ids.js';

function read(chunks: readonly string[], maxChars?: number): { messages: SseMessage[]; retries: number[]; overflow: number[] } {
  const messages: SseMessage[] = [];
  const retries: number[] = [];
  const overflow: number[] = [];
  const parser = createSseParser({ message: (m) => messages.push(m), retry: (ms) => retries.push(ms), overflow: (n) => overflow.push(n) }, maxChars);
  for (const chunk of chunks) parser.push(chunk);
  return { messages, retries, overflow };
}

describe('the SSE reader', () => {
  it('reads what the gateway writes, split anywhere', () => {
    const text = `retry: 1000\n\n${sseMessage('{"type":"ping"}', undefined)}${sseMessage('{"type":"event","seq":1}', 'e-1:1')}${sseCloseMessage({ code: 1001, reason: 'draining' })}`;
    const whole = read([text]);
    for (let size = 1; size < 9; size++) {
      const chunks = text.match(new RegExp(`[^]{1,${size}}`, 'g')) ?? [];
      expect(read(chunks), `chunks of ${size}`).toEqual(whole);
    }
    expect(whole.retries).toEqual([1000]);
    expect(whole.messages).toEqual([
      { event: 'message', data: '{"type":"ping"}', lastEventId: '', hasId: false },
      { event: 'message', data: '{"type":"event","seq":1}', lastEventId: 'e-1:1', hasId: true },
      { event: 'close', data: '{"code":1001,"reason":"draining"}', lastEventId: 'e-1:1', hasId: false },
    ]);
  });

  it('follows the standard: CRLF and CR line ends (a CRLF split across chunks), joined data lines, comments, fields without a space or a value', () => {
    const { messages } = read([': hello\r\ndata:a\r', '\ndata: b\rid\r\n', 'event:x\ndata\n\n', 'id: 7\0x\ndata: c\n\n']);
    expect(messages).toEqual([
      { event: 'x', data: 'a\nb\n', lastEventId: '', hasId: true },
      // An id holding NUL is ignored: the last one stays.
      { event: 'message', data: 'c', lastEventId: '', hasId: false },
    ]);
    // A block without data dispatches nothing, and forgets its event name and id line.
    expect(read(['event: close\nid: 3\n\n', 'data: d\n\n']).messages).toEqual([{ event: 'message', data: 'd', lastEventId: '3', hasId: false }]);
  });

  it('stops at a message or line past its bound, and says so once', () => {
    const { messages, overflow } = read(['data: 12345\n\n', 'data: 1234567890', '123\n\ndata: late\n\n'], 10);
    expect(messages).toEqual([{ event: 'message', data: '12345', lastEventId: '', hasId: false }]);
    expect(overflow).toHaveLength(1);
  });
});

describe('event ids and the close event', () => {
  it('puts the seq last, so an epoch may hold a colon; refuses what the gateway never writes', () => {
    expect(formatEventId('e:1', 42)).toBe('e:1:42');
    expect(parseEventId('e:1:42')).toEqual({ epoch: 'e:1', seq: 42 });
    expect(formatEventId('bad\nepoch', 1)).toBeUndefined();
    for (const bad of ['', '42', ':42', 'e:', 'e:-1', 'e:1.5', 'e:9007199254740991', 'e:12345678901234567']) expect(parseEventId(bad), bad).toBeUndefined();
    expect(parseEventId('e:9007199254740990')).toEqual({ epoch: 'e', seq: 9007199254740990 });
  });

  it('reads a close event back', () => {
    expect(parseSseClose('{"code":4013,"reason":"slow_consumer"}')).toEqual({ code: 4013, reason: 'slow_consumer' });
    expect(parseSseClose('{"code":1000}')).toEqual({ code: 1000, reason: '' });
    for (const bad of ['', 'null', '{"code":"x"}', '{"code":1.5}']) expect(parseSseClose(bad)).toBeUndefined();
  });
});

describe("the gateway's id for each frame", () => {
  it('names the epoch from hello_ok and the seq of events, replays, a batch (its last) and a snapshot (its cursor); nothing else gets one', () => {
    const ids = createEventIds();
    const event = { type: 'event', seq: 5, event: { type: 'tick', data: { epoch: 'not-this', seq: 99 } } };
    expect(ids.idFor(encodeFrame(event))).toBeUndefined();
    expect(ids.idFor(encodeFrame({ type: 'hello_ok', epoch: 'e-1', cursor: 4 }))).toBeUndefined();
    expect(ids.idFor(encodeFrame(event))).toBe('e-1:5');
    const payload = { type: 'tick', data: 'x' };
    rememberPayloadJson(payload, JSON.stringify(payload));
    expect(ids.idFor(encodeFrame({ type: 'replay', seq: 6, event: payload }))).toBe('e-1:6');
    const members = [7, 8].map((seq) => encodeFrame({ type: 'event', seq, event: payload }));
    expect(ids.idFor(encodeBatch(members))).toBe('e-1:8');
    expect(ids.idFor(encodeFrame({ type: 'snapshot', state: { seq: 1 }, cursor: 8, epoch: 'e-1' }))).toBe('e-1:8');
    for (const frame of [{ type: 'caught_up', cursor: 8 }, { type: 'ping', ts: 1 }, { type: 'ack', id: 'm' }, { type: 'error', message: '"seq":3' }]) {
      expect(ids.idFor(encodeFrame(frame)), frame.type).toBeUndefined();
    }
    // An epoch carried by a frame is adopted for it and for what follows.
    expect(ids.idFor(encodeFrame({ type: 'event', seq: 1, event: payload, epoch: 'e-2' }))).toBe('e-2:1');
    expect(ids.idFor(encodeFrame({ type: 'event', seq: 2, event: payload }))).toBe('e-2:2');
  });

  it('gives no id on a connection whose dialect has no epoch (PraisonAI)', () => {
    const ids = createEventIds();
    expect(ids.idFor(JSON.stringify({ type: 'hello_ok', protocol: 1, cursor: 0 }))).toBeUndefined();
    expect(ids.idFor(JSON.stringify({ type: 'response', seq: 1, cursor: 1 }))).toBeUndefined();
    expect(ids.idFor(JSON.stringify({ type: 'event', seq: 1, event: {} }))).toBeUndefined();
  });
});
