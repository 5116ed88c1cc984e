// The PraisonAI dialect: rewrites the frames one connection sends into the shapes a PraisonAI
// client reads (test/fixtures/praisonai-gateway), so its app shows event content and its gap
// check sees numbers. Outbound only: PraisonAI clients already send Lifeline's client frames.
import { PRAISONAI_MARKER, type EventPayload, type HelloFrame, type ServerFrame } from '../../protocol/index.js';
import { assertNever } from '../../protocol/assert-never.js';
import { requestedCapabilities } from '../../protocol/codec.js';

type Json = Record<string, unknown>;

/**
 * The capability `dialect: 'auto'` switches on. PraisonAI's `GatewayClient` sends
 * `["streaming", "ack"]` by default (`DEFAULT_CAPABILITIES` in praisonai_bot/gateway/client.py).
 */
export const PRAISONAI_CAPABILITY = PRAISONAI_MARKER;

/**
 * The positive marker `dialect: 'auto'` switches on: a `hello` that lists `streaming`, whatever
 * else it lists (PROTOCOL.md section 8). PraisonAI's client lists `ack` beside it by default, a
 * name Lifeline uses too, so the other names decide nothing; Lifeline's clients refuse to send
 * `streaming`, so they never match.
 */
export function isPraisonAIHello(hello: HelloFrame): boolean {
  return requestedCapabilities(hello).includes(PRAISONAI_CAPABILITY);
}

/** Turns one Lifeline frame into the frames to send instead (none, one or several). */
export type FrameTranslator = (frame: ServerFrame) => readonly object[];

/**
 * Event types whose PraisonAI frame is flat: the event's data becomes the frame's own fields
 * (`{"type":"response","status":"final","content":…}`). Every other type keeps a nested `data`,
 * as PraisonAI's stream frames do.
 */
const FLAT_TYPES: ReadonlySet<string> = new Set(['response', 'error']);

/** Lifeline event types with a PraisonAI counterpart: the demo agent's, and common names. */
const RENAMED: Readonly<Record<string, string>> = { message: 'response', reply: 'response', token: 'token_stream' };

/** `next`, PraisonAI's second hint on `hello_error`, for the refusals its clients know. */
function nextHint(code: string, nextStep: string): string {
  if (code === 'agent_not_found') return 'check_agent_id';
  if (code === 'protocol_unsupported' && nextStep === 'downgrade_client') return 'use_older_client';
  return nextStep;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The text of an event: a string, or `data.text` / `data.content` when they are strings. */
function textOf(data: unknown): string {
  if (typeof data === 'string') return data;
  if (isObject(data)) {
    if (typeof data['text'] === 'string') return data['text'];
    if (typeof data['content'] === 'string') return data['content'];
  }
  return JSON.stringify(data) ?? '';
}

/** The PraisonAI type an event goes out as. */
export function praisonAIType(eventType: string): string {
  return RENAMED[eventType] ?? eventType;
}

/**
 * One stored event as PraisonAI's flat frame, before `cursor`/`seq` are added.
 * - `reply` → `response` `final` with `content` and `outcome`; `message` → `response` `accepted`
 *   (the demo agent's echo of what it received); `token` → `token_stream` with `data.content`.
 * - `response` / `error` events are flattened: their data's fields become the frame's.
 * - Anything else keeps its type and a `data` object, with `event_id`, `timestamp`, `source`
 *   and `target` beside it, like PraisonAI's `*_stream` frames.
 */
export function praisonAIEventFrame(event: EventPayload, sessionId: string, target: string): Json {
  const { type, data } = event;
  if (type === 'reply') return { type: 'response', status: 'final', content: textOf(data), outcome: { status: 'ok' }, session_id: sessionId };
  if (type === 'message') return { type: 'response', status: 'accepted', content: textOf(data), session_id: sessionId };
  if (FLAT_TYPES.has(type)) return { ...(isObject(data) ? data : { content: textOf(data) }), type, session_id: sessionId };
  const body = type === 'token' ? { content: textOf(data) } : isObject(data) ? data : data === undefined ? {} : { content: data };
  return {
    type: praisonAIType(type),
    data: { session_id: sessionId, ...body },
    event_id: event.event_id,
    timestamp: event.timestamp,
    source: event.source ?? 'gateway',
    target,
  };
}

/** Options for {@link createPraisonAITranslator}. */
export interface PraisonAITranslatorOptions {
  /** This connection's id, sent as `target` (PraisonAI names the client an event is for). */
  readonly target: string;
  /** The agent the client asked for, reported in snapshots. @default '' (before the handshake) */
  readonly agentId?: string;
  /** The `since` of the client's `hello`, echoed as `hello_ok.sequence`. @default none: the head */
  readonly since?: number;
}

/**
 * A stateful translator for one connection. It learns the session (and whether the handshake
 * was `hello` or the legacy `join`) from the accept frame it translates, so it needs no hook into
 * the join path: it sits where the connection writes.
 */
export function createPraisonAITranslator(options: PraisonAITranslatorOptions): FrameTranslator {
  const { target } = options;
  let sessionId = '';
  let agentId = options.agentId ?? '';
  let legacyJoin = false;

  const numbered = (event: EventPayload, seq: number): Json => ({ ...praisonAIEventFrame(event, sessionId, target), cursor: seq, seq });

  const translate = (frame: ServerFrame): readonly object[] => {
    switch (frame.type) {
      case 'hello_ok': {
        sessionId = frame.session_id;
        const { max_payload, max_buffered_bytes, heartbeat_ms } = frame.policy;
        const events = [...new Set(frame.features.events.map(praisonAIType))];
        return [{
          type: 'hello_ok',
          protocol: frame.protocol,
          features: { methods: frame.features.methods, events },
          policy: { max_payload, ...(max_buffered_bytes === undefined ? {} : { max_buffered_bytes }), heartbeat_ms },
          session_id: frame.session_id,
          resumed: frame.resumed,
          cursor: frame.cursor,
          // PraisonAI's client checks the first replayed `event.sequence` against `sequence + 1`
          // (0 when absent): the client's own `since` makes that check see a gap exactly when
          // the replay does not continue from it, an epoch change included.
          sequence: options.since ?? frame.cursor,
          resync_required: frame.resync_required ?? false,
        }];
      }
      case 'joined': {
        sessionId = frame.session_id;
        agentId = frame.agent_id ?? '';
        legacyJoin = true;
        const { epoch: _epoch, gap: _gap, policy: _policy, ...rest } = frame;
        return [rest];
      }
      case 'hello_error': {
        const { server_min: _min, server_max: _max, ...rest } = frame;
        return [{ ...rest, next: nextHint(frame.code, frame.next_step) }];
      }
      case 'error':
        // PraisonAI's join names a version mismatch `version_unsupported` and a bad range `invalid_protocol_hello`.
        if (frame.code === 'protocol_unsupported') return [{ ...frame, code: frame.next_step === 'do_not_retry' ? 'invalid_protocol_hello' : 'version_unsupported' }];
        return [frame];
      case 'event':
        return [numbered(frame.event, frame.seq)];
      case 'replay': {
        const seq = frame.seq ?? frame.event.sequence;
        if (seq === undefined) return [];
        const original = numbered(frame.event, seq);
        const event = { type: original['type'], data: original, event_id: frame.event.event_id, timestamp: frame.event.timestamp, source: frame.event.source ?? 'gateway', target, sequence: seq };
        // After `hello` PraisonAI numbers replays only by event.sequence; after `join` also by seq.
        return [legacyJoin ? { type: 'replay', event, seq } : { type: 'replay', event }];
      }
      case 'batch':
        return frame.frames.flatMap(translate);
      case 'caught_up':
        // PraisonAI has no end-of-replay marker; its clients go live at hello_ok.
        return [];
      case 'snapshot':
        return [{ type: 'snapshot', state: { session_id: sessionId, agent_id: agentId, state: frame.state ?? {}, messages: [], event_cursor: frame.cursor ?? 0 } }];
      case 'ping':
        return [{ type: 'ping' }];
      case 'pong':
        return [{ type: 'pong' }];
      case 'ack':
      case 'draining':
        // No PraisonAI counterpart; its clients skip unknown types, and the close that follows a drain says the rest.
        return [frame];
      default:
        return assertNever(frame);
    }
  };
  return translate;
}
