// Decode text frames once, at the edge, into typed values or a typed `bad_frame` error.
// Never throws: garbage in gives an error value out.
import * as v from 'valibot';
import {
  ClientFrame,
  ForeignFrame,
  MessageId,
  ServerFrame,
  SERVER_FRAME_TYPES,
  type HelloFrame,
  type JoinFrame,
} from './frames.js';
import type { ProtocolRange } from './versions.js';

/** Why a frame was refused. */
export interface FrameError {
  readonly code: 'bad_frame' | 'payload_too_large';
  readonly message: string;
  /** The refused `message` frame's `id`, when it had a valid one: the error then names it (section 5). */
  readonly id?: string;
}

/** A decoded frame, or why it was refused. */
export type Decoded<T> = { readonly ok: true; readonly frame: T } | { readonly ok: false; readonly error: FrameError };

/** A server frame is either part of the contract or a foreign (PraisonAI-style flat) frame. */
export type DecodedServerFrame =
  | { readonly ok: true; readonly kind: 'contract'; readonly frame: ServerFrame }
  | { readonly ok: true; readonly kind: 'foreign'; readonly frame: ForeignFrame }
  | { readonly ok: false; readonly error: FrameError };

const knownServerTypes: ReadonlySet<string> = new Set(SERVER_FRAME_TYPES);

function parseJsonObject(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; error: FrameError } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: { code: 'bad_frame', message: 'Frame is not valid JSON.' } };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: { code: 'bad_frame', message: 'Frame must be one JSON object.' } };
  }
  const record = value as Record<string, unknown>;
  if (typeof record['type'] !== 'string') {
    return { ok: false, error: { code: 'bad_frame', message: 'Frame has no string "type".' } };
  }
  return { ok: true, value: record };
}

/**
 * A readable reason that never quotes the offending value: valibot's own messages include it,
 * and the value may be a secret sent in the wrong field or type (a numeric token, say).
 */
function describeIssues(type: string, issues: readonly v.BaseIssue<unknown>[]): string {
  const first = issues[0];
  if (!first) return `Invalid "${type}" frame.`;
  const path = v.getDotPath(first);
  const where = path ? ` at "${path}"` : '';
  return first.expected === null ? `Invalid "${type}" frame${where}.` : `Invalid "${type}" frame${where}: expected ${first.expected}.`;
}

/** UTF-8 byte length without allocating (TextEncoder would copy the string). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * The `id` of an oversized `message` frame, so the refusal names the message and the client can
 * fail that one send (and never resend it). The text is at most twice `max_payload` (the socket
 * refuses more), so parsing it costs no more than a frame just under the limit.
 */
function oversizedMessageId(text: string): { id?: string } {
  const parsed = parseJsonObject(text);
  if (!parsed.ok || parsed.value['type'] !== 'message') return {};
  const id = v.safeParse(MessageId, parsed.value['id']);
  return id.success ? { id: id.output } : {};
}

/** Decode a frame sent by a client. `maxBytes` enforces `policy.max_payload` (UTF-8 bytes of the frame). */
export function decodeClientFrame(text: string, maxBytes = Infinity): Decoded<ClientFrame> {
  if (text.length > maxBytes || (text.length * 3 > maxBytes && utf8Length(text) > maxBytes)) {
    return { ok: false, error: { code: 'payload_too_large', message: `Frame exceeds max_payload (${maxBytes} bytes).`, ...oversizedMessageId(text) } };
  }
  const parsed = parseJsonObject(text);
  if (!parsed.ok) return parsed;
  const result = v.safeParse(ClientFrame, parsed.value);
  if (result.success) return { ok: true, frame: result.output };
  const type = String(parsed.value['type']);
  const known = ClientFrame.options.some((o) => o.entries.type.literal === type);
  return {
    ok: false,
    error: { code: 'bad_frame', message: known ? describeIssues(type, result.issues) : `Unknown frame type "${type.slice(0, 64)}".` },
  };
}

/** Decode a frame sent by a gateway: a contract frame, a foreign flat frame, or an error. */
export function decodeServerFrame(text: string): DecodedServerFrame {
  const parsed = parseJsonObject(text);
  if (!parsed.ok) return parsed;
  return decodeServerObject(parsed.value);
}

/** Like {@link decodeServerFrame}, for an already-parsed object. */
export function decodeServerObject(value: Record<string, unknown>): DecodedServerFrame {
  const type = value['type'];
  if (typeof type === 'string' && knownServerTypes.has(type)) {
    const result = v.safeParse(ServerFrame, value);
    if (result.success) return { ok: true, kind: 'contract', frame: result.output };
    return { ok: false, error: { code: 'bad_frame', message: describeIssues(type, result.issues) } };
  }
  const foreign = v.safeParse(ForeignFrame, value);
  if (foreign.success) return { ok: true, kind: 'foreign', frame: foreign.output };
  return { ok: false, error: { code: 'bad_frame', message: describeIssues(String(type), foreign.issues) } };
}

/** A base whose constructor returns the object it is given, so a subclass stamps its private fields onto that object. */
class Stamp {
  constructor(target: object) {
    return target;
  }
}

/**
 * JSON already made for an event payload (at publish, or as read from a shared log), so the
 * frames that carry it splice it in instead of serialising it again: on the fan-out path an
 * event is otherwise stringified once for its size check and again per frame and per batch.
 * Held in a private field of the payload object itself, which the log keeps unchanged once
 * stored: invisible to keys, JSON and spreads (a changed copy is stringified afresh), and far
 * cheaper than a WeakMap entry, whose upkeep cost a burst of publishes a third of its time in GC.
 */
class PayloadJson extends Stamp {
  #json: string;

  private constructor(payload: object, json: string) {
    super(payload);
    this.#json = json;
  }

  static remember(payload: object, json: string): void {
    if (#json in payload) {
      payload.#json = json;
      return;
    }
    try {
      new PayloadJson(payload, json);
    } catch {
      // An object that takes no new fields (where the runtime refuses them on frozen objects) is
      // simply stringified for each frame.
    }
  }

  static of(payload: object): string | undefined {
    return #json in payload ? payload.#json : undefined;
  }
}

/** Remember `json` as the encoding of `payload` (it must be exactly `JSON.stringify(payload)`). */
export function rememberPayloadJson(payload: object, json: string): void {
  PayloadJson.remember(payload, json);
}

/** The JSON remembered for `payload` by {@link rememberPayloadJson}, if any. */
export function rememberedPayloadJson(payload: object): string | undefined {
  return PayloadJson.of(payload);
}

/**
 * An `event`/`replay` frame with the payload's remembered JSON spliced in, keys in the frame's own
 * order as JSON.stringify would write them; undefined for any field it does not expect.
 */
function splicedEventFrame(frame: Readonly<Record<string, unknown>>, payload: string): string | undefined {
  let text = '';
  for (const key in frame) {
    const value = frame[key];
    if (value === undefined) continue;
    let part: string;
    if (key === 'event') part = payload;
    else if (key === 'seq' && Number.isSafeInteger(value)) part = String(value);
    else if ((key === 'type' || key === 'epoch') && typeof value === 'string') part = JSON.stringify(value);
    else return undefined;
    text += `${text === '' ? '{' : ','}"${key}":${part}`;
  }
  return `${text}}`;
}

/** Serialise a frame: one JSON object per text frame. */
export function encodeFrame(frame: object): string {
  const event = (frame as { readonly event?: unknown }).event;
  const payload = typeof event === 'object' && event !== null ? PayloadJson.of(event) : undefined;
  return (payload === undefined ? undefined : splicedEventFrame(frame as Readonly<Record<string, unknown>>, payload)) ?? JSON.stringify(frame);
}

/**
 * The text of the live frame `{ type: 'event', seq, event }`, as {@link encodeFrame} writes it,
 * written straight from the payload's remembered JSON when there is one (the fan-out's one
 * encoding per event, so no generic splice).
 */
export function encodeEventFrame(seq: number, event: object): string {
  const payload = PayloadJson.of(event);
  return payload !== undefined && Number.isSafeInteger(seq) ? `{"type":"event","seq":${seq},"event":${payload}}` : JSON.stringify({ type: 'event', seq, event });
}

/** A `batch` frame from its members' encodings (each made by {@link encodeFrame}). */
export function encodeBatch(memberTexts: readonly string[]): string {
  return `{"type":"batch","frames":[${memberTexts.join(',')}]}`;
}

/** Serialise a frame a client sends; typed, so every outbound field is checked against the schema's types. */
export function encodeClientFrame(frame: ClientFrame): string {
  return encodeFrame(frame);
}

/** The protocol range a `hello` asks for, accepting the older `protocol:{min,max}` spelling. No range means v1. */
export function requestedRange(hello: HelloFrame): ProtocolRange {
  const min = hello.protocol_min ?? hello.protocol?.min ?? hello.protocol_max ?? hello.protocol?.max ?? 1;
  const max = hello.protocol_max ?? hello.protocol?.max ?? min;
  return { min, max };
}

/** The protocol range a legacy `join` asks for. No range means v1. */
export function requestedJoinRange(join: JoinFrame): ProtocolRange {
  const min = join.min_version ?? join.max_version ?? 1;
  return { min, max: join.max_version ?? min };
}

/** Capabilities from `hello`, accepting the older `caps` spelling. */
export function requestedCapabilities(hello: HelloFrame): readonly string[] {
  return hello.capabilities ?? hello.caps ?? [];
}
