// The recorded PraisonAI transcripts (test/fixtures/praisonai-gateway), client side replayed
// against a Lifeline gateway in the PraisonAI dialect that serves the transcripts' agents
// (test/support/praisonai-agents.ts). Every frame the PraisonAI gateway sent must come back from
// ours with the same shape, in the same order.
//
// "Same shape": the same `type` (and the same value for every nested `type`), the same keys, and
// the same JSON kind (string, number, boolean, null, array, object) for each value, recursively.
// Values are not compared (ids, timestamps, texts and numbers differ run to run). Exceptions, each
// a deliberate difference documented in PROTOCOL.md section 8:
// - `health` is opaque: each gateway reports its own health fields (the recordings elide some);
// - a snapshot's `state.state` is the app's state, opaque;
// - `error` frames may add `code`, `next_step`, `server_min_version`/`server_max_version`,
//   `retry_after_seconds` and `id`: fields PraisonAI itself sends on some of its errors;
// - `hello_ok.policy` has no `max_queued_frames`: Lifeline bounds a connection by bytes
//   (`max_buffered_bytes`), not by a frame count;
// - `hello_ok` adds `sequence` and `resync_required`, as PraisonAI's own `joined` carries them:
//   PraisonAI's client checks replays against `sequence`, so it sees a gap after an epoch change.
// Recorded frames the test does not require, and why:
// - `status` notices (PraisonAI's agent reporting on its own turn queue, unnumbered);
// - a `snapshot` after a `joined` for which ours did not need one (`resync_required: false`).
// Our gateway may send more than PraisonAI did, but only numbered events (live or replayed:
// events PraisonAI lost, which Lifeline keeps) and heartbeat pings.
// Where the transcript goes on using a socket that Lifeline closed after a refusal (PROTOCOL.md
// section 6; PraisonAI leaves it open), the next frame goes on a fresh socket. Where PraisonAI
// refused a token at the upgrade, Lifeline refuses at `hello`, so the test sends one first.
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayDialect } from '../../src/server/index.js';
import { attachTranscriptAgents } from '../support/praisonai-agents.js';
import { connect, startGateway } from '../support/gateway-kit.js';
import type { Frame, RawClient } from '../support/raw-client.js';

interface Entry {
  readonly dir: 'open' | 'send' | 'recv' | 'close' | 'note';
  readonly conn?: string;
  readonly url?: string;
  readonly frame?: Record<string, unknown>;
  readonly code?: number;
  readonly by?: 'client' | 'server';
  readonly note?: string;
}

const FIXTURES = new URL('../fixtures/praisonai-gateway/', import.meta.url);
const TOKEN = 'transcript-token';
const WAIT_MS = 2000;
const CASES = readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));

function load(name: string): Entry[] {
  return (JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')) as { transcript: Entry[] }).transcript;
}

// ---------------------------------------------------------------------------------------------
// Shape

const OPAQUE = new Set(['health', 'state.state']);
const MAY_ADD: Readonly<Record<string, ReadonlySet<string>>> = {
  error: new Set(['code', 'next_step', 'server_min_version', 'server_max_version', 'retry_after_seconds', 'id']),
  hello_ok: new Set(['sequence', 'resync_required']),
};
const MAY_OMIT = new Set(['hello_ok:policy.max_queued_frames']);

function kind(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

/** The ways `ours` differs in shape from `recorded`; empty when they have the same shape. */
function shapeDiff(recorded: unknown, ours: unknown, frameType: string, path = ''): string[] {
  if (OPAQUE.has(path) || recorded === '<elided>') return [];
  if (kind(recorded) !== kind(ours)) return [`${path || 'frame'}: ${kind(recorded)} recorded, ${kind(ours)} ours`];
  if (kind(recorded) !== 'object') return [];
  const r = recorded as Record<string, unknown>;
  const o = ours as Record<string, unknown>;
  const diffs: string[] = [];
  for (const key of new Set([...Object.keys(r), ...Object.keys(o)])) {
    const at = path ? `${path}.${key}` : key;
    if (!(key in o)) {
      if (!MAY_OMIT.has(`${frameType}:${at}`)) diffs.push(`${at}: missing`);
    } else if (!(key in r)) {
      if (!(path === '' && MAY_ADD[frameType]?.has(key))) diffs.push(`${at}: not in the recording`);
    } else if (key === 'type' && r[key] !== o[key]) {
      diffs.push(`${at}: ${String(r[key])} recorded, ${String(o[key])} ours`);
    } else {
      diffs.push(...shapeDiff(r[key], o[key], frameType, at));
    }
  }
  return diffs;
}

/** Frames ours may send beyond the recording: numbered events and heartbeat pings. */
const isExtra = (frame: Frame): boolean => frame.type === 'ping' || frame.type === 'replay' || typeof frame['seq'] === 'number';

const seqOf = (frame: Record<string, unknown>): number => {
  const event = frame['event'] as { sequence?: unknown } | undefined;
  const n = frame['seq'] ?? event?.sequence;
  return typeof n === 'number' ? n : 0;
};

/**
 * Client frames the two gateways answer in different kinds, on purpose. A frame that fails
 * validation before any handshake gets `hello_error` `bad_frame` and close 4000 from Lifeline
 * (PROTOCOL.md section 5), whatever its type; PraisonAI's join path answers `error`.
 */
const DIFFERENT_ANSWERS: Readonly<Record<string, Record<string, unknown>>> = {
  'join_errors:{"type":"join","agent_id":"echo","min_version":"x"}': { type: 'hello_error', code: 'bad_frame' },
  'join_errors:{"type":"join","agent_id":"echo","since":"abc"}': { type: 'hello_error', code: 'bad_frame' },
};

// ---------------------------------------------------------------------------------------------
// Replay

interface Conn {
  client: RawClient;
  readonly url: string;
  /** Frames of `client.frames` already matched or skipped. */
  read: number;
  accept: Frame | undefined;
  refused: boolean;
  /** Highest number the recording showed on this connection. */
  recordedSeq: number;
  /** The last client frame sent, as recorded. */
  lastSent: string | undefined;
}

const detachers: (() => void)[] = [];
afterEach(() => {
  for (const detach of detachers.splice(0)) detach();
});

/** Replay one transcript; resolves with every difference found (empty when it matches). */
async function replay(name: string, dialect: GatewayDialect): Promise<string[]> {
  const entries = load(name);
  const recordedBeat = entries.map((e) => (e.frame?.['policy'] as { heartbeat_ms?: number } | undefined)?.heartbeat_ms).find((n) => n !== undefined);
  // The 1000 ms recordings show pings and liveness closes; 150 ms shows the same, faster.
  const gateway = await startGateway({ dialect, protocol: { min: 1, max: 1 }, agents: ['echo', 'stream'], verifyToken: (t) => t === TOKEN, heartbeatMs: recordedBeat === 1000 ? 150 : 30_000, replayWindow: 100, rateLimit: false });
  detachers.push(attachTranscriptAgents(gateway));
  const standardHello = entries.find((e) => e.dir === 'send' && e.frame?.['type'] === 'hello')?.frame ?? { type: 'hello', agent_id: 'echo', protocol_min: 1, protocol_max: 1, capabilities: ['streaming', 'ack'] };
  const conns = new Map<string, Conn>();
  const ids = new Map<string, string>();
  const problems: string[] = [];
  const where = (conn: string, i: number) => `${name}#${i} [${conn}]`;

  const open = async (url: string): Promise<Conn> => {
    const client = await connect(url);
    return { client, url, read: 0, accept: undefined, refused: false, recordedSeq: 0, lastSent: undefined };
  };
  const send = (c: Conn, frame: Record<string, unknown>): void => {
    const sessionId = frame['session_id'];
    const ours = typeof sessionId === 'string' && ids.has(sessionId) ? { ...frame, session_id: ids.get(sessionId) } : frame;
    c.lastSent = JSON.stringify(frame);
    c.client.send(ours);
  };
  /** The next frame of ours that is not an allowed extra, or a description of why there is none. */
  const nextFrame = async (c: Conn, accept: (frame: Frame) => boolean): Promise<Frame | string> => {
    for (;;) {
      try {
        await c.client.until((frames) => frames.length > c.read, WAIT_MS, 'a frame');
      } catch {
        const closed = c.client.ws.readyState === c.client.ws.CLOSED;
        return closed ? 'the socket closed' : `nothing within ${WAIT_MS} ms`;
      }
      const frame = c.client.frames[c.read++] as Frame;
      if (accept(frame) || !isExtra(frame)) return frame;
    }
  };
  /** After a refusal Lifeline closes (PROTOCOL.md section 6): wait for it and open a fresh socket. */
  const reopenAfterRefusal = async (c: Conn, at: string): Promise<Conn> => {
    const closed = await c.client.closed(WAIT_MS).catch(() => undefined);
    if (!closed || closed.code < 4000) problems.push(`${at}: expected a 4xxx close after the refusal, saw ${closed ? closed.code : 'none'}`);
    return open(c.url);
  };

  for (const [i, entry] of entries.entries()) {
    const name_ = entry.conn ?? '';
    const at = where(name_, i);
    if (entry.dir === 'open') {
      const url = entry.url?.includes('token=') ? `${gateway.url}/ws?token=${TOKEN}` : `${gateway.url}/ws`;
      conns.set(name_, await open(url));
      continue;
    }
    if (entry.dir === 'note') {
      // join_resync_snapshot elides its filler: "… (55 messages) …" between n0 and n54.
      const count = /\((\d+) messages\)/.exec(entry.note ?? '')?.[1];
      const filling = [...conns.values()].at(-1);
      if (count && filling) for (let n = 1; n < Number(count) - 1; n++) send(filling, { type: 'message', content: `n${n}` });
      continue;
    }
    let c = conns.get(name_);
    if (!c) throw new Error(`${at}: no open connection`);
    if (entry.dir === 'send' && entry.frame) {
      if (c.refused) {
        c = await reopenAfterRefusal(c, at);
        conns.set(name_, c);
      }
      send(c, entry.frame);
    } else if (entry.dir === 'recv' && entry.frame) {
      const recorded = entry.frame;
      const type = String(recorded['type']);
      if (c.lastSent === undefined) send(c, standardHello);
      c.recordedSeq = Math.max(c.recordedSeq, seqOf(recorded));
      if (type === 'status') continue;
      if (type === 'snapshot' && c.accept?.['resync_required'] !== true) continue;
      const different = DIFFERENT_ANSWERS[`${name}:${c.lastSent}`];
      const ours = await nextFrame(c, (frame) => (different ? frame.type === different['type'] : shapeDiff(recorded, frame, type).length === 0));
      if (typeof ours === 'string') {
        problems.push(`${at}: expected ${type}, ${ours}`);
        continue;
      }
      const diffs = different ? (Object.entries(different).every(([k, v]) => ours[k] === v) ? [] : [`expected ${JSON.stringify(different)}`]) : shapeDiff(recorded, ours, type);
      if (diffs.length > 0) problems.push(`${at}: ${type}: ${diffs.join('; ')} (ours: ${JSON.stringify(ours).slice(0, 300)})`);
      if (ours.type === 'hello_ok' || ours.type === 'joined') {
        c.accept = ours;
        ids.set(String(recorded['session_id']), String(ours['session_id']));
      }
      if (ours.type === 'hello_error' || (ours.type === 'error' && c.accept === undefined)) c.refused = true;
    } else if (entry.dir === 'close' && entry.by === 'client') {
      // Let ours catch up with what PraisonAI had sent by then, so the next connection resumes the same history.
      const conn = c;
      if (conn.recordedSeq > 0) await conn.client.until((frames) => frames.some((f) => seqOf(f) >= conn.recordedSeq), WAIT_MS, `seq ${conn.recordedSeq}`).catch(() => problems.push(`${at}: never reached seq ${conn.recordedSeq}`));
      conn.client.close();
      await conn.client.closed(WAIT_MS);
    } else if (entry.dir === 'close') {
      const closed = await c.client.closed(WAIT_MS).catch(() => undefined);
      const unexpected = c.client.frames.slice(c.read).filter((f) => !isExtra(f));
      if (closed?.code !== entry.code) problems.push(`${at}: expected close ${String(entry.code)}, saw ${closed ? closed.code : 'none'}`);
      if (unexpected.length > 0) problems.push(`${at}: unexpected before the close: ${unexpected.map((f) => f.type).join(', ')}`);
    }
  }
  return problems;
}

describe('PraisonAI transcripts replayed against a Lifeline gateway', () => {
  it.each(CASES)('dialect praisonai: %s', async (name) => {
    expect(await replay(name, 'praisonai')).toEqual([]);
  });

  // `auto` has no marker on a legacy `join`, so only the hello-based recordings apply.
  const helloOnly = CASES.filter((name) => !load(name).some((e) => e.dir === 'send' && e.frame?.['type'] === 'join'));
  it.each(helloOnly)('dialect auto: %s', async (name) => {
    expect(await replay(name, 'auto')).toEqual([]);
  });

  it('covers every recording, and the replay can fail: Lifeline frames do not pass for PraisonAI', async () => {
    const asLifeline = await replay('hello_agent_not_found', 'lifeline');
    expect(asLifeline).toEqual([expect.stringMatching(/hello_error: next: missing/)]);
    expect(CASES.length).toBeGreaterThanOrEqual(13);
    expect(helloOnly.length).toBeGreaterThanOrEqual(8);
    const recorded = { type: 'response', status: 'final', content: 'x', outcome: { status: 'ok' }, session_id: 's', cursor: 2, seq: 2 };
    expect(shapeDiff(recorded, { ...recorded, content: 'other', seq: 9 }, 'response')).toEqual([]);
    expect(shapeDiff(recorded, { type: 'event', seq: 2, event: {} }, 'response')).toContain('type: response recorded, event ours');
    expect(shapeDiff(recorded, { ...recorded, outcome: 'ok' }, 'response')).toEqual(['outcome: object recorded, string ours']);
    const { content: _content, ...withoutContent } = recorded;
    expect(shapeDiff(recorded, withoutContent, 'response')).toEqual(['content: missing']);
    expect(shapeDiff({ type: 'error', message: 'm' }, { type: 'error', message: 'm', code: 'c', epoch: 'e' }, 'error')).toEqual(['epoch: not in the recording']);
  });
});
