// PraisonAI dialect: the `recv` frames of real transcripts recorded from the PraisonAI gateway
// (test/fixtures/praisonai-gateway, see its README) are fed to the client's frame router and
// tracker, connection by connection, and the events, cursors and gaps must come out exactly.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { GapInfo, GatewayEvent } from '../../src/client/index.js';
import type { GatewayMachineEvent } from '../../machines/gateway-machine.js';
import { createFrameRouter } from '../../src/client/frame-router.js';
import { createGapTracker } from '../../src/client/gap-tracker.js';

interface Entry {
  readonly dir: 'open' | 'send' | 'recv' | 'close' | 'note';
  readonly conn?: string;
  readonly frame?: Record<string, unknown>;
}

function transcript(name: string): Entry[] {
  const url = new URL(`../fixtures/praisonai-gateway/${name}.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { transcript: Entry[] }).transcript;
}

/**
 * Replay one connection of a transcript through a fresh router. The tracker starts where the
 * recorded client claimed to be: the `session_id` and `since` of its handshake frame.
 */
function replay(name: string, conn: string) {
  const entries = transcript(name).filter((e) => e.conn === conn);
  const handshake = entries.find((e) => e.dir === 'send' && (e.frame?.['type'] === 'hello' || e.frame?.['type'] === 'join'))?.frame;
  const events: GatewayEvent[] = [];
  const gaps: GapInfo[] = [];
  const lifecycle: GatewayMachineEvent[] = [];
  const sent: object[] = [];
  const errors: string[] = [];
  const snapshots: number[] = [];
  const sessionId = typeof handshake?.['session_id'] === 'string' ? handshake['session_id'] : undefined;
  const since = typeof handshake?.['since'] === 'number' ? handshake['since'] : 0;
  const tracker = createGapTracker({ event: (e) => events.push(e), gap: (g) => gaps.push(g) }, sessionId, { cursor: since });
  tracker.resumeRequest();
  const route = createFrameRouter(
    {
      tracker,
      send: (frame) => sent.push(frame),
      lifecycle: (event) => lifecycle.push(event),
      sendJoin: () => sent.push({ type: 'join' }),
      stopped: () => false,
      accepted: () => undefined,
      ack: () => undefined,
      messageError: () => undefined,
      messageRetry: () => undefined,
      snapshot: (s) => snapshots.push(s.cursor),
      error: (e) => errors.push(e.code),
    },
    handshake?.['type'] === 'join' ? 'join' : 'hello',
  );
  for (const entry of entries) if (entry.dir === 'recv' && entry.frame) route(JSON.stringify(entry.frame));
  return { events, gaps, lifecycle, sent, errors, snapshots, tracker, seqs: events.map((e) => e.seq) };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('PraisonAI dialect (recorded transcripts)', () => {
  it('hello_ok without caught_up goes live at once; flat frames are events numbered by top-level seq', () => {
    const r = replay('resume_hello', 'first');
    expect(r.lifecycle.map((e) => e.type)).toEqual(['hello.accepted', 'caught_up']);
    expect(r.lifecycle[0]).toEqual({ type: 'hello.accepted', protocol: 1, heartbeatMs: 30000 });
    expect(r.seqs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.events[1]).toMatchObject({ type: 'response', replayed: false, data: { status: 'final', content: 'echo: m0' } });
    expect(r.tracker.cursor).toBe(6);
    expect(r.gaps).toEqual([]);
    expect(r.tracker.resume).toEqual({ mode: 'none', from: 1, to: 0 });
  });

  it('resume_hello since=2: replays 3..6 from event.sequence, then live 7..8, no gap', () => {
    const r = replay('resume_hello', 'resume-since-2');
    expect(r.seqs).toEqual([3, 4, 5, 6, 7, 8]);
    expect(r.events.map((e) => e.replayed)).toEqual([true, true, true, true, false, false]);
    // A replay's data is the original flat frame, as the live frame's own fields would be.
    expect(r.events[0]?.data).toMatchObject({ type: 'response', status: 'accepted', seq: 3 });
    expect(r.events[0]?.eventId).toBeTypeOf('string');
    expect(r.tracker.cursor).toBe(8);
    expect(r.gaps).toEqual([]);
    expect(r.tracker.resume).toEqual({ mode: 'full', from: 3, to: 6 });
  });

  it('resume_hello since=0 replays everything; since=head replays nothing', () => {
    expect(replay('resume_hello', 'resume-since-0').seqs).toEqual(range(1, 8));
    const none = replay('resume_hello', 'resume-no-since');
    expect(none.seqs).toEqual([]);
    expect(none.gaps).toEqual([]);
  });

  it('resume_hello since=999 (a cursor from another history): gap, cursor set back to the head', () => {
    const r = replay('resume_hello', 'resume-since-future');
    expect(r.gaps).toEqual([{ expected: 1000, received: 9, reason: 'epoch' }]);
    expect(r.tracker.cursor).toBe(8);
  });

  it('join_resync_snapshot hello since=1: the client itself notices the first replay is 11, not 2', () => {
    const r = replay('join_resync_snapshot', 'hello-resume-since-1');
    expect(r.gaps).toEqual([{ expected: 2, received: 11, reason: 'window' }]);
    expect(r.seqs).toEqual(range(11, 110));
    expect(r.events.every((e) => e.replayed)).toBe(true);
    expect(r.tracker.cursor).toBe(110);
    expect(r.tracker.resume).toEqual({ mode: 'partial', from: 11, to: 110 });
  });

  it('join_resync_snapshot join since=1: resync_required gives the gap, the snapshot its cursor', () => {
    const r = replay('join_resync_snapshot', 'join-resume-since-1');
    expect(r.lifecycle[0]).toEqual({ type: 'hello.accepted', protocol: 0, heartbeatMs: 0 });
    expect(r.gaps).toEqual([{ expected: 2, received: 11, reason: 'window' }]);
    expect(r.snapshots).toEqual([110]);
    expect(r.tracker.cursor).toBe(110);
  });

  it('resume against a gateway restarted without its store: head 0 < since is a new history', () => {
    const r = replay('resume_hello_no_persist', 'resume-since-2');
    expect(r.gaps).toEqual([{ expected: 3, received: 1, reason: 'epoch' }]);
    // Numbering restarted: 1 and 2 are new events, not duplicates.
    expect(r.seqs).toEqual([1, 2]);
    expect(r.events[1]?.data).toMatchObject({ content: 'echo: after resume' });
    expect(r.tracker.cursor).toBe(2);
  });

  it('join_legacy: replays after join carry a top-level seq; resume since=1 yields 2..4', () => {
    expect(replay('join_legacy', 'join').seqs).toEqual([1, 2, 3, 4]);
    const r = replay('join_legacy', 'join-resume-since-1');
    expect(r.seqs).toEqual([2, 3, 4]);
    expect(r.gaps).toEqual([]);
    const zero = replay('join_legacy', 'join-resume-since-0');
    expect(zero.gaps).toEqual([]);
    expect(zero.snapshots).toEqual([4]);
  });

  it('stream_agent: streaming frames keep their own type and data', () => {
    const r = replay('stream_agent', 'a');
    expect(r.events.map((e) => e.type)).toEqual([
      'response', 'reasoning_stream', 'token_stream', 'token_stream', 'token_stream', 'token_stream', 'stream_end', 'response',
    ]);
    expect(r.events.filter((e) => e.type === 'token_stream').map((e) => (e.data as { content: string }).content).join('')).toBe('streamed reply to: hi');
    expect(r.events[2]).toMatchObject({ source: 'stream', replayed: false });
    expect(r.tracker.cursor).toBe(8);
  });

  it('unnumbered notices (status) are delivered with seq null and leave the cursor alone', () => {
    const r = replay('message_queued_while_busy', 'a');
    expect(r.seqs).toEqual([1, null, 2, 3, 4]);
    expect(r.events[1]).toMatchObject({ type: 'status', seq: null });
    expect(r.tracker.cursor).toBe(4);
    expect(r.gaps).toEqual([]);
  });

  it('answers the gateway ping with pong', () => {
    const r = replay('liveness_server_ping', 'responsive');
    expect(r.sent).toEqual([{ type: 'pong' }, { type: 'pong' }, { type: 'pong' }, { type: 'pong' }]);
  });

  it('turns refusals into hello.rejected facts the chart judges terminal', () => {
    expect(replay('hello_protocol_too_new', 'a').lifecycle).toEqual([
      { type: 'hello.rejected', code: 'protocol_unsupported', message: 'Protocol version 2 is too new, server supports up to 1', nextStep: 'downgrade_client' },
    ]);
    expect(replay('auth_missing_token', 'no-token').lifecycle).toEqual([
      { type: 'hello.rejected', code: 'auth_required', message: 'Authentication required', nextStep: 'reauthenticate' },
    ]);
    expect(replay('hello_agent_not_found', 'a').lifecycle[0]).toMatchObject({ code: 'agent_not_found', nextStep: 'do_not_retry' });
  });

  it('a legacy join refusal without a code stops rather than loops', () => {
    const r = replay('join_errors', 'a');
    expect(r.lifecycle[0]).toEqual({ type: 'hello.rejected', code: 'bad_frame', message: 'Agent not found: nope', nextStep: 'do_not_retry' });
    expect(r.lifecycle[1]).toMatchObject({ type: 'hello.rejected', code: 'protocol_unsupported' });
  });

  it('a second socket on a live session replays 1..2 then follows live', () => {
    const r = replay('resume_hello_live_session', 'second-while-first-open');
    expect(r.seqs).toEqual([1, 2, 4]);
    expect(r.gaps).toEqual([{ expected: 3, received: 4, reason: 'live' }]);
  });

  it('disconnect_mid_turn: a resumed join with nothing new delivers only the status notice', () => {
    const r = replay('disconnect_mid_turn', 'resume-join-since-1');
    expect(r.seqs).toEqual([null]);
    expect(r.tracker.cursor).toBe(1);
  });
});
