// The PraisonAI translator as a pure function: the frames the transcripts cannot reach (batches,
// app event shapes PraisonAI never recorded, refusals with hints) map as PROTOCOL.md section 8 says.
import { describe, expect, it } from 'vitest';
import type { EventPayload, ServerFrame } from '../../src/protocol/index.js';
import { createPraisonAITranslator, isPraisonAIHello, praisonAIEventFrame } from '../../src/server/dialects/praisonai.js';

const event = (type: string, data?: unknown): EventPayload => ({ type, data, event_id: 'e1', timestamp: 1.5, source: 'app' });

function joinedTranslator() {
  const translate = createPraisonAITranslator({ target: 'c9', agentId: 'demo' });
  translate({ type: 'hello_ok', protocol: 1, features: { methods: [], events: ['token', 'reply', 'custom'] }, policy: { max_payload: 10, heartbeat_ms: 5 }, session_id: 's1', resumed: false, cursor: 0 });
  return translate;
}

describe('PraisonAI translator', () => {
  it('marks every hello that lists streaming, whatever else it lists', () => {
    const hello = { type: 'hello', agent_id: 'a' } as const;
    expect(isPraisonAIHello({ ...hello, capabilities: ['streaming'] })).toBe(true);
    // PraisonAI's GatewayClient default (DEFAULT_CAPABILITIES): `ack` is a Lifeline name too.
    expect(isPraisonAIHello({ ...hello, capabilities: ['streaming', 'ack'] })).toBe(true);
    expect(isPraisonAIHello({ ...hello, caps: ['streaming', 'tools'] })).toBe(true);
    expect(isPraisonAIHello({ ...hello, capabilities: ['streaming', 'batch'] })).toBe(true);
    expect(isPraisonAIHello({ ...hello, capabilities: ['ack', 'batch', 'epoch'] })).toBe(false);
    expect(isPraisonAIHello({ ...hello, capabilities: [] })).toBe(false);
    expect(isPraisonAIHello(hello)).toBe(false);
  });

  it('maps app events onto the PraisonAI frames a client renders, with their content', () => {
    expect(praisonAIEventFrame(event('reply', { text: 'hi' }), 's', 't')).toEqual({ type: 'response', status: 'final', content: 'hi', outcome: { status: 'ok' }, session_id: 's' });
    expect(praisonAIEventFrame(event('message', 'plain'), 's', 't')).toEqual({ type: 'response', status: 'accepted', content: 'plain', session_id: 's' });
    expect(praisonAIEventFrame(event('token', { text: 'to' }), 's', 't')).toEqual({ type: 'token_stream', data: { session_id: 's', content: 'to' }, event_id: 'e1', timestamp: 1.5, source: 'app', target: 't' });
    expect(praisonAIEventFrame(event('error', { message: 'boom', code: 'x' }), 's', 't')).toEqual({ type: 'error', message: 'boom', code: 'x', session_id: 's' });
    expect(praisonAIEventFrame(event('custom', [1, 2]), 's', 't')).toMatchObject({ type: 'custom', data: { session_id: 's', content: [1, 2] } });
    expect(praisonAIEventFrame(event('stream_end'), 's', 't')).toMatchObject({ type: 'stream_end', data: { session_id: 's' } });
  });

  it('unwraps a batch into numbered flat frames and advertises event types under PraisonAI names', () => {
    const translate = createPraisonAITranslator({ target: 'c9' });
    const [helloOk] = translate({ type: 'hello_ok', protocol: 2, features: { methods: ['message'], events: ['message', 'token', 'reply'], extensions: ['batch'] }, policy: { max_payload: 10, heartbeat_ms: 5, replay_window: 3 }, session_id: 's1', resumed: true, cursor: 2, epoch: 'e' });
    // No `since` in the hello: `sequence` is the head, where live events continue.
    expect(helloOk).toEqual({ type: 'hello_ok', protocol: 2, features: { methods: ['message'], events: ['response', 'token_stream'] }, policy: { max_payload: 10, heartbeat_ms: 5 }, session_id: 's1', resumed: true, cursor: 2, sequence: 2, resync_required: false });
    const batch: ServerFrame = { type: 'batch', frames: [{ type: 'replay', seq: 1, event: event('token', 'a') }, { type: 'event', seq: 2, event: event('reply', 'ab') }] };
    expect(translate(batch)).toEqual([
      { type: 'replay', event: { type: 'token_stream', data: expect.objectContaining({ seq: 1, cursor: 1, data: { session_id: 's1', content: 'a' } }), event_id: 'e1', timestamp: 1.5, source: 'app', target: 'c9', sequence: 1 } },
      { type: 'response', status: 'final', content: 'ab', outcome: { status: 'ok' }, session_id: 's1', cursor: 2, seq: 2 },
    ]);
  });

  it("echoes the hello's since as hello_ok.sequence, so PraisonAI's replay check sees a refused resume as a gap", () => {
    const translate = createPraisonAITranslator({ target: 'c9', since: 20 });
    const [helloOk] = translate({ type: 'hello_ok', protocol: 1, features: { methods: [], events: [] }, policy: { max_payload: 10, heartbeat_ms: 5 }, session_id: 's1', resumed: true, cursor: 5, epoch: 'e2', resync_required: true, gap: { expected: 21, received: 1 } });
    expect(helloOk).toMatchObject({ cursor: 5, sequence: 20, resync_required: true });
    expect(helloOk).not.toHaveProperty('gap');
  });

  it('drops what PraisonAI has no frame for and adds its hints to refusals', () => {
    const translate = joinedTranslator();
    expect(translate({ type: 'caught_up', cursor: 3, epoch: 'e' })).toEqual([]);
    expect(translate({ type: 'ping', ts: 4 })).toEqual([{ type: 'ping' }]);
    expect(translate({ type: 'snapshot', state: null, cursor: 3 })).toEqual([{ type: 'snapshot', state: { session_id: 's1', agent_id: 'demo', state: {}, messages: [], event_cursor: 3 } }]);
    expect(translate({ type: 'hello_error', code: 'agent_not_found', message: 'm', next_step: 'do_not_retry' })).toEqual([{ type: 'hello_error', code: 'agent_not_found', message: 'm', next_step: 'do_not_retry', next: 'check_agent_id' }]);
    expect(translate({ type: 'hello_error', code: 'rate_limited', message: 'm', next_step: 'wait_then_retry', retry_after_seconds: 2 })).toEqual([{ type: 'hello_error', code: 'rate_limited', message: 'm', next_step: 'wait_then_retry', retry_after_seconds: 2, next: 'wait_then_retry' }]);
    expect(translate({ type: 'error', code: 'protocol_unsupported', message: 'm', next_step: 'upgrade_client' })).toEqual([{ type: 'error', code: 'version_unsupported', message: 'm', next_step: 'upgrade_client' }]);
    expect(translate({ type: 'error', code: 'session_expired', message: 'm' })).toEqual([{ type: 'error', code: 'session_expired', message: 'm' }]);
    expect(translate({ type: 'ack', id: 'm1' })).toEqual([{ type: 'ack', id: 'm1' }]);
  });
});
