// Reads each text frame from the gateway once and sends it where it belongs: events to the
// tracker (hot path), handshake outcomes and notices to the chart, acks to the outbox.
//
// Event frames skip the valibot decoder: a structural check of the fields we use costs ~0.05 µs
// where `decodeServerObject` costs ~1.8 µs an event (measured on a 150-byte event), which alone
// would break the 0.9x-of-raw-ws throughput budget. Anything that fails the check, and every
// other frame type, goes through `decodeServerObject` from src/protocol.
//
// Past 300 lines on purpose: every frame type's routing in one switch, beside the hot path it
// must not slow down (bench/README.md, throughput).
import { defaultNextStep, MAX_SEQ, MAX_SERVER_FRAME_BYTES, MAX_SERVER_FRAME_DEPTH, SUPPORTED_PROTOCOL, type ClientFrame, type HelloOkFrame, type JoinedFrame, type ProtocolRange, type ServerFrame } from '../protocol/index.js';
import { decodeServerObject } from '../protocol/codec.js';
import { nestingExceeds } from '../protocol/frame-limits.js';
import type { HandshakeMode } from '../../machines/actor-contracts.js';
import type { GatewayMachineEvent } from '../../machines/gateway-machine.js';
import { connectError, type GatewayConnectError } from './errors.js';
import type { EventFields, GapTracker, HandshakeAnswer } from './gap-tracker.js';
import type { SessionSnapshot } from './types.js';

/** What the router needs from the socket that owns it and from the client around it. */
export interface FrameRouterTarget {
  readonly tracker: GapTracker;
  /** Write a frame on this socket. */
  send(frame: ClientFrame): void;
  /** Report a lifecycle fact to the chart. */
  lifecycle(event: GatewayMachineEvent): void;
  /** The gateway refused `hello`; send the legacy `join` on this socket. */
  sendJoin(): void;
  /**
   * True once this socket was let go (e.g. a backpressure pause while a batch is being delivered):
   * the rest of the batch is then not delivered, and the cursor stays where delivery stopped, so
   * the rejoin replays it.
   */
  stopped(): boolean;
  accepted(frame: HelloOkFrame | JoinedFrame): void;
  ack(id: string, duplicate: boolean): void;
  /** An `error` frame about one message (`id`) that it must not be sent again, e.g. `payload_too_large`. */
  messageError(id: string, error: GatewayConnectError): void;
  /**
   * An `error` frame about one message (`id`) whose step is `wait_then_retry` (`message_in_flight`,
   * `unavailable`): it was not applied; send it again under the same id after `afterMs`.
   */
  messageRetry(id: string, afterMs: number): void;
  snapshot(snapshot: SessionSnapshot): void;
  error(error: GatewayConnectError): void;
}

type Json = Record<string, unknown>;

/**
 * Ceiling on every delay a server dictates (`retry_after_seconds`, `draining.reconnect_after_ms`,
 * `policy.heartbeat_ms`): 5 minutes. A larger hint is used as this. Timers take at most 2^31 − 1 ms
 * (Node fires longer ones after 1 ms), so an unclamped hint from a broken or hostile gateway
 * would turn the wait into a hot loop of reconnects.
 */
export const MAX_SERVER_HINT_MS = 300_000;

/** When a gateway asks for a message again without saying when (no `retry_after_seconds`). */
export const DEFAULT_MESSAGE_RETRY_MS = 1000;

/** A server-given delay in ms, clamped to `0..MAX_SERVER_HINT_MS`. */
export function clampServerHint(ms: number): number {
  return Math.min(MAX_SERVER_HINT_MS, Math.max(0, ms));
}

/** `retry_after_seconds` as the chart's `retryAfterMs`, clamped. */
function retryAfter(seconds: number | undefined): { retryAfterMs?: number } {
  return seconds === undefined ? {} : { retryAfterMs: clampServerHint(seconds * 1000) };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= MAX_SEQ;
}

function isEventPayload(value: unknown): value is EventFields & Json {
  return isObject(value) && typeof value['type'] === 'string' && value['type'] !== '';
}

function epochOf(frame: Json): string | undefined | false {
  const epoch = frame['epoch'];
  if (epoch === undefined) return undefined;
  return typeof epoch === 'string' && epoch !== '' ? epoch : false;
}

/** The seq of a `replay`: top-level `seq`, else PraisonAI's `event.sequence`. */
function replaySeq(frame: Json, event: Json): number | undefined {
  const seq = frame['seq'] ?? event['sequence'];
  return isSeq(seq) ? seq : undefined;
}

/** PraisonAI flat frame: its own type is the event type; `data`, or the whole frame (as its replays carry it). */
function flatFields(frame: Json & { type: string }): EventFields {
  return 'data' in frame ? frame : { type: frame.type, data: frame, event_id: frame['event_id'], timestamp: frame['timestamp'], source: frame['source'] };
}

/**
 * The hot-path shape check of an `event`/`replay` frame: its seq when the frame can be delivered
 * as is, undefined when it needs the full decoder. Returns a number, not an object, so the
 * per-event path allocates nothing.
 */
function eventFrameSeq(frame: Json): number | undefined {
  const type = frame['type'];
  if (type !== 'event' && type !== 'replay') return undefined;
  const event = frame['event'];
  if (!isEventPayload(event) || epochOf(frame) === false) return undefined;
  const seq = type === 'replay' ? replaySeq(frame, event) : frame['seq'];
  return isSeq(seq) ? seq : undefined;
}

/** The seq of a frame that passed {@link eventFrameSeq}, without checking it again. */
function checkedSeq(frame: Json): number {
  return (frame['seq'] ?? (frame['event'] as Json)['sequence']) as number;
}

/** Deliver a frame that passed {@link eventFrameSeq}. */
function deliverEventFrame(tracker: FrameRouterTarget['tracker'], frame: Json, seq: number): void {
  tracker.accept(seq, frame['event'] as EventFields & Json, frame['type'] === 'replay', epochOf(frame) || undefined, frame);
}

const CONTRACT_TYPES: ReadonlySet<string> = new Set([
  'hello_ok', 'hello_error', 'joined', 'event', 'replay', 'caught_up', 'batch', 'snapshot', 'ack', 'error', 'draining', 'ping', 'pong',
]);

/** Frames that answer the handshake: one of these that fails to decode fails the attempt. */
const HANDSHAKE_ANSWERS: ReadonlySet<string> = new Set(['hello_ok', 'hello_error', 'joined']);

// A class, not a closure per method: one per connection (bench/README.md, memory).
class Router {
  private readonly tracker: GapTracker;
  private joined = false;

  constructor(
    private readonly target: FrameRouterTarget,
    private mode: HandshakeMode,
    private readonly offered: ProtocolRange,
  ) {
    this.tracker = target.tracker;
  }

  route(text: string): void {
    // Node's ws refuses a bigger frame before reading it; a browser's socket cannot, so drop it unread.
    if (text.length > MAX_SERVER_FRAME_BYTES) return this.badFrame(`Frame is over ${MAX_SERVER_FRAME_BYTES} bytes (MAX_SERVER_FRAME_BYTES); skipped.`);
    // Parsers differ in how deep they go (Python's stops near 1000): past the limit, no client reads it.
    if (nestingExceeds(text)) return this.badFrame(`Frame nests deeper than ${MAX_SERVER_FRAME_DEPTH} levels (MAX_SERVER_FRAME_DEPTH); skipped.`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.badFrame('Frame is not valid JSON.');
    }
    if (!isObject(value) || typeof value['type'] !== 'string') return this.badFrame('Frame must be one JSON object with a string "type".');
    const type = value['type'];
    if ((type === 'event' || type === 'replay') && this.acceptEventFrame(value)) return;
    if (type === 'batch' && this.acceptBatch(value)) return;
    // PraisonAI flat events, including numbered `error` events, carry a top-level seq.
    if ((!CONTRACT_TYPES.has(type) || type === 'error') && isSeq(value['seq'])) {
      this.tracker.accept(value['seq'], flatFields(value as Json & { type: string }), false, undefined, value);
      return;
    }
    const decoded = decodeServerObject(value);
    if (!decoded.ok) {
      // A handshake answer we cannot use would otherwise leave the attempt waiting out the whole
      // handshake timeout: fail it now, retried with backoff like an answer outside the offer.
      if (!this.joined && HANDSHAKE_ANSWERS.has(type)) {
        return this.target.lifecycle({ type: 'hello.rejected', code: 'bad_server_frame', message: `The gateway's "${type}" does not follow the protocol: ${decoded.error.message}`, nextStep: 'wait_then_retry' });
      }
      return this.badFrame(decoded.error.message);
    }
    if (decoded.kind === 'foreign') return this.tracker.notice(flatFields(decoded.frame), decoded.frame);
    this.onContract(decoded.frame);
  }

  /** Hot path for `event`/`replay` frames; false when the frame needs the full decoder. */
  private acceptEventFrame(frame: Json): boolean {
    const seq = eventFrameSeq(frame);
    if (seq === undefined) return false;
    deliverEventFrame(this.tracker, frame, seq);
    return true;
  }

  private acceptBatch(frame: Json): boolean {
    const frames = frame['frames'];
    if (!Array.isArray(frames)) return false;
    // Check every member before delivering any, so a bad batch is refused whole, never half-delivered.
    for (const member of frames) {
      if (!isObject(member) || eventFrameSeq(member) === undefined) return false;
    }
    for (const member of frames as Json[]) {
      if (this.target.stopped()) break;
      deliverEventFrame(this.tracker, member, checkedSeq(member));
    }
    return true;
  }

  /** Version 0 means the legacy `join`; a `hello_ok` must pick from the offered range. */
  private withinOffer(protocol: number): boolean {
    return protocol >= 1 && protocol >= this.offered.min && protocol <= this.offered.max;
  }

  private badFrame(message: string): void {
    this.target.error(connectError('bad_server_frame', message));
  }

  private onHandshakeError(code: string | undefined, message: string, nextStep: string | undefined, retryAfterSeconds: number | undefined): void {
    if (this.mode === 'hello') {
      // A gateway that does not know `hello` answers `error`: retry with the legacy `join`.
      this.mode = 'join';
      this.target.sendJoin();
      this.target.lifecycle({ type: 'hello.unsupported' });
      return;
    }
    // PraisonAI's join answers a mismatch with `version_unsupported`, other refusals with no code.
    const wire = code === 'version_unsupported' ? 'protocol_unsupported' : (code ?? 'bad_frame');
    this.target.lifecycle({
      type: 'hello.rejected',
      code: wire,
      message,
      nextStep: nextStep ?? (code === undefined ? 'do_not_retry' : 'upgrade_client'),
      ...retryAfter(retryAfterSeconds),
    });
  }

  private onContract(frame: ServerFrame): void {
    const { target, tracker } = this;
    switch (frame.type) {
      case 'hello_ok':
      case 'joined': {
        if (this.joined) return;
        if (frame.type === 'hello_ok' && !this.withinOffer(frame.protocol)) {
          // Never speak a version we did not offer: a failed attempt, retried with backoff.
          return target.lifecycle({
            type: 'hello.rejected',
            code: 'bad_server_frame',
            message: `The gateway chose protocol ${frame.protocol}, outside the offered ${this.offered.min}..${this.offered.max}.`,
            nextStep: 'wait_then_retry',
          });
        }
        this.joined = true;
        tracker.handshake(answerOf(frame));
        target.accepted(frame);
        const protocol = frame.type === 'hello_ok' ? frame.protocol : 0;
        target.lifecycle({ type: 'hello.accepted', protocol, heartbeatMs: clampServerHint(frame.policy?.heartbeat_ms ?? 0) });
        // Without the `caught_up` extension (PraisonAI, legacy join) nothing will end the replay.
        const extensions = frame.type === 'hello_ok' ? (frame.features.extensions ?? []) : [];
        if (!extensions.includes('caught_up')) {
          tracker.caughtUp(undefined);
          target.lifecycle({ type: 'caught_up' });
        }
        return;
      }
      case 'hello_error':
        if (frame.code === 'session_expired') tracker.forgetSession();
        target.lifecycle({
          type: 'hello.rejected',
          code: frame.code,
          message: frame.message,
          nextStep: frame.next_step,
          ...retryAfter(frame.retry_after_seconds),
        });
        return;
      case 'error':
        if (!this.joined) return this.onHandshakeError(frame.code, frame.message, frame.next_step, frame.retry_after_seconds);
        if (frame.id !== undefined) {
          // Not applied and not lost (PROTOCOL.md section 5, "Message errors"): keep it, send it again.
          if ((frame.next_step ?? defaultNextStep(frame.code ?? 'bad_frame')) === 'wait_then_retry') {
            return target.messageRetry(frame.id, frame.retry_after_seconds === undefined ? DEFAULT_MESSAGE_RETRY_MS : clampServerHint(frame.retry_after_seconds * 1000));
          }
          return target.messageError(frame.id, connectError(frame.code ?? 'bad_frame', frame.message, frame.next_step === undefined ? {} : { nextStep: frame.next_step }));
        }
        return target.error(connectError(frame.code ?? 'internal_error', frame.message, frame.next_step === undefined ? {} : { nextStep: frame.next_step }));
      case 'caught_up':
        tracker.caughtUp(frame.epoch);
        return target.lifecycle({ type: 'caught_up' });
      case 'snapshot': {
        const cursor = frame.cursor ?? praisonSnapshotCursor(frame.state);
        tracker.snapshot(cursor, frame.epoch);
        return target.snapshot({ state: frame.state, cursor: tracker.cursor, epoch: tracker.epoch });
      }
      case 'ack':
        return target.ack(frame.id, frame.duplicate === true);
      case 'draining':
        return target.lifecycle({ type: 'draining', reconnectAfterMs: clampServerHint(frame.reconnect_after_ms) });
      case 'ping':
        return target.send(frame.ts === undefined ? { type: 'pong' } : { type: 'pong', ts: frame.ts });
      case 'pong':
        return;
      case 'event':
      case 'replay':
      case 'batch':
        // Valid by the schema but refused by the fast path: cannot happen for well-formed frames.
        return this.badFrame(`Unusable "${frame.type}" frame.`);
    }
  }
}

/**
 * Create the router of one socket: a function to call with each text frame. It starts in the
 * handshake phase. `offered` is the protocol range the handshake offered: a `hello_ok` outside it
 * is refused as `bad_server_frame`.
 */
export function createFrameRouter(target: FrameRouterTarget, handshake: HandshakeMode, offered: ProtocolRange = SUPPORTED_PROTOCOL): (text: string) => void {
  const router = new Router(target, handshake, offered);
  return (text) => router.route(text);
}

/** PraisonAI snapshots have no top-level cursor; their state carries `event_cursor`. */
function praisonSnapshotCursor(state: unknown): number | undefined {
  if (!isObject(state)) return undefined;
  const cursor = state['event_cursor'];
  return typeof cursor === 'number' && Number.isSafeInteger(cursor) && cursor >= 0 && cursor <= MAX_SEQ ? cursor : undefined;
}

/** Reduce `hello_ok` or legacy `joined` to what the tracker needs. */
export function answerOf(frame: HelloOkFrame | JoinedFrame): HandshakeAnswer {
  return {
    sessionId: frame.session_id,
    resumed: frame.resumed ?? false,
    head: frame.cursor,
    epoch: frame.epoch,
    oldest: frame.oldest_cursor,
    gap: frame.gap,
    resyncRequired: frame.resync_required ?? false,
  };
}
