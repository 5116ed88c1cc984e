// The tracker and frame router on Lifeline frames: duplicates dropped, live jumps and epoch changes
// reported, v2 batches unwrapped in order, handshake gaps applied, garbage reported as errors.
import { describe, expect, it } from 'vitest';
import { type GapInfo, type GatewayEvent } from '../../src/client/index.js';
import type { GatewayMachineEvent } from '../../machines/gateway-machine.js';
import { createFrameRouter } from '../../src/client/frame-router.js';
import { createGapTracker, handshakeGap } from '../../src/client/gap-tracker.js';

function harness() {
  const events: GatewayEvent[] = [];
  const gaps: GapInfo[] = [];
  const lifecycle: GatewayMachineEvent[] = [];
  const errors: string[] = [];
  const tracker = createGapTracker({ event: (e) => events.push(e), gap: (g) => gaps.push(g) });
  const target = {
    tracker,
    send: () => undefined,
    lifecycle: (e: GatewayMachineEvent) => lifecycle.push(e),
    sendJoin: () => undefined,
    stopped: () => false,
    accepted: () => undefined,
    ack: () => undefined,
    messageError: () => undefined,
    messageRetry: () => undefined,
    snapshot: () => undefined,
      error: (e: { code: string }) => errors.push(e.code),
  };
  // One router per socket; the tracker outlives them, as in the client.
  let route = createFrameRouter(target, 'hello');
  const feed = (...frames: object[]) => frames.forEach((f) => route(JSON.stringify(f)));
  const newSocket = () => {
    route = createFrameRouter(target, 'hello');
  };
  return { events, gaps, lifecycle, errors, tracker, feed, newSocket, route: (text: string) => route(text), seqs: () => events.map((e) => e.seq) };
}

const helloOk = (fields: object = {}) => ({
  type: 'hello_ok', protocol: 2, session_id: 's1', resumed: false, cursor: 0, epoch: 'e1',
  features: { methods: ['message', 'resync'], events: [], extensions: ['caught_up', 'gap', 'epoch', 'batch', 'ack'] },
  policy: { max_payload: 1000, heartbeat_ms: 100 }, ...fields,
});
const ev = (seq: number, extra: object = {}) => ({ type: 'event', seq, event: { type: 'tick', data: { seq } }, ...extra });

describe('gap tracker', () => {
  it('drops duplicates, reports a live jump and keeps delivering', () => {
    const h = harness();
    h.feed(helloOk(), { type: 'caught_up', cursor: 0, epoch: 'e1' }, ev(1), ev(2), ev(2), ev(1), ev(5), ev(6));
    expect(h.lifecycle.map((e) => e.type)).toEqual(['hello.accepted', 'caught_up']);
    expect(h.seqs()).toEqual([1, 2, 5, 6]);
    expect(h.gaps).toEqual([{ expected: 3, received: 5, reason: 'live' }]);
    expect(h.events[0]).toMatchObject({ type: 'tick', data: { seq: 1 }, replayed: false, eventId: undefined });
  });

  it('unwraps v2 batches in order, replay and event alike', () => {
    const h = harness();
    h.feed(helloOk(), {
      type: 'batch',
      frames: [{ type: 'replay', seq: 1, event: { type: 'a' } }, { type: 'replay', seq: 2, event: { type: 'b' } }],
    }, { type: 'caught_up', cursor: 2 }, { type: 'batch', frames: [ev(3), ev(4)] });
    expect(h.seqs()).toEqual([1, 2, 3, 4]);
    expect(h.events.map((e) => e.replayed)).toEqual([true, true, false, false]);
  });

  it('treats an event from a new epoch as a gap, never as a duplicate', () => {
    const h = harness();
    h.feed(helloOk(), ev(1), ev(2), ev(3), ev(1, { epoch: 'e2' }), ev(2, { epoch: 'e2' }));
    expect(h.gaps).toEqual([{ expected: 4, received: 1, reason: 'epoch' }]);
    expect(h.seqs()).toEqual([1, 2, 3, 1, 2]);
    expect(h.tracker.epoch).toBe('e2');
  });

  it('applies the handshake gap: cursor = gap.received - 1', () => {
    const h = harness();
    h.feed(helloOk(), ev(1), ev(2));
    expect(h.tracker.resumeRequest()).toEqual({ session_id: 's1', since: 2, epoch: 'e1' });
    h.newSocket();
    h.feed(helloOk({ resumed: true, cursor: 20, oldest_cursor: 11, resync_required: true, gap: { expected: 3, received: 11 } }));
    expect(h.gaps).toEqual([{ expected: 3, received: 11, reason: 'window' }]);
    expect(h.tracker.cursor).toBe(10);
    expect(h.tracker.resume).toEqual({ mode: 'partial', from: 11, to: 20 });
  });

  it('derives gaps from handshake answers that do not report one', () => {
    const base = { sessionId: 's', resumed: true, head: 10, epoch: 'e1', oldest: 1, gap: undefined, resyncRequired: false };
    expect(handshakeGap(base, 5, 'e1')).toBeUndefined();
    expect(handshakeGap({ ...base, epoch: 'e2' }, 5, 'e1')).toEqual({ expected: 6, received: 1, reason: 'epoch' });
    expect(handshakeGap({ ...base, head: 3 }, 5, 'e1')).toEqual({ expected: 6, received: 4, reason: 'epoch' });
    expect(handshakeGap({ ...base, oldest: 8, resyncRequired: true }, 5, 'e1')).toEqual({ expected: 6, received: 8, reason: 'window' });
  });

  it('reports garbage as bad_server_frame and keeps going', () => {
    const h = harness();
    h.feed(helloOk());
    h.route('not json');
    h.route('[1,2]');
    h.feed({ type: 'event', seq: -1, event: { type: 'x' } }, ev(1));
    expect(h.errors).toEqual(['bad_server_frame', 'bad_server_frame', 'bad_server_frame']);
    expect(h.seqs()).toEqual([1]);
  });

  it('falls back to join when hello is answered with error, and reads draining hints', () => {
    const h = harness();
    h.feed({ type: 'error', message: 'unknown type' });
    expect(h.lifecycle).toEqual([{ type: 'hello.unsupported' }]);
    h.feed({ type: 'joined', session_id: 's9', cursor: 0 }, { type: 'draining', reconnect_after_ms: 250 });
    expect(h.lifecycle.slice(1)).toEqual([
      { type: 'hello.accepted', protocol: 0, heartbeatMs: 0 },
      { type: 'caught_up' },
      { type: 'draining', reconnectAfterMs: 250 },
    ]);
  });
});
