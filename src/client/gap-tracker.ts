// Replay and gap tracking: follows (epoch, cursor), drops duplicates, reports gaps, and reports how
// a resume went. Plain functions on plain state: this is the per-event hot path, so it never
// touches the chart and allocates only the delivered event.
import type { GapInfo, GatewayEvent, ResumeInfo } from './types.js';

/** Where delivered events and gaps go (the facade's subscribers). */
export interface TrackerSink {
  event(event: GatewayEvent): void;
  gap(gap: GapInfo): void;
}

/** A handshake answer (`hello_ok` or legacy `joined`), reduced to what resume needs. */
export interface HandshakeAnswer {
  readonly sessionId: string;
  readonly resumed: boolean;
  /** The head of the session's log (`cursor` in the frame). */
  readonly head: number;
  readonly epoch: string | undefined;
  readonly oldest: number | undefined;
  readonly gap: { readonly expected: number; readonly received: number } | undefined;
  readonly resyncRequired: boolean;
}

/** The resume fields of the next `hello`/`join`. */
export interface ResumeRequest {
  readonly session_id?: string;
  readonly since?: number;
  readonly epoch?: string;
}

/** The event fields a frame carries (Lifeline `event` payload, or a PraisonAI flat frame). */
export interface EventFields {
  readonly type: string;
  readonly data?: unknown;
  readonly event_id?: unknown;
  readonly timestamp?: unknown;
  readonly source?: unknown;
}

/** A replay/gap tracker. Create one per client; it outlives sockets. */
export interface GapTracker {
  readonly sessionId: string | null;
  readonly cursor: number;
  readonly epoch: string | null;
  readonly resume: ResumeInfo | null;
  /** Build the resume fields and remember `since` for the handshake check. */
  resumeRequest(): ResumeRequest;
  /** Apply the handshake answer: adopt the session and epoch, report a handshake gap. */
  handshake(answer: HandshakeAnswer): void;
  /** One numbered event. Drops `seq <= cursor`, reports jumps and epoch changes, delivers the rest. */
  accept(seq: number, fields: EventFields, replayed: boolean, epoch: string | undefined, raw: unknown): void;
  /** An unnumbered notice (PraisonAI `status`, `aborted`, …): delivered, cursor unchanged. */
  notice(fields: EventFields, raw: unknown): void;
  /** `caught_up`: replay is over. */
  caughtUp(epoch: string | undefined): void;
  /** A snapshot: continue from its cursor (in its epoch). */
  snapshot(cursor: number | undefined, epoch: string | undefined): void;
  /** Drop the session (it expired, or the gateway refused it): the next handshake starts fresh. */
  forgetSession(): void;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A position to resume from, e.g. restored from storage. */
export interface TrackerPosition {
  readonly cursor: number;
  readonly epoch?: string;
}

// A class, not a closure per method: one per client, on the per-event path (bench/README.md, memory).
class Tracker implements GapTracker {
  // The `since` sent in the last handshake; null when it started a new session.
  private sentSince: number | null = null;
  // The cursor of a session the gateway dropped (4040): the next session reports it as a gap.
  private lostCursor = 0;
  resume: ResumeInfo | null = null;

  constructor(
    private readonly sink: TrackerSink,
    public sessionId: string | null,
    public cursor: number,
    public epoch: string | null,
  ) {}

  resumeRequest(): ResumeRequest {
    if (this.sessionId === null) {
      this.sentSince = null;
      return {};
    }
    this.sentSince = this.cursor;
    return { session_id: this.sessionId, since: this.cursor, ...(this.epoch === null ? {} : { epoch: this.epoch }) };
  }

  handshake(answer: HandshakeAnswer): void {
    const since = answer.sessionId === this.sessionId ? this.sentSince : null;
    this.sessionId = answer.sessionId;
    if (since === null) {
      // A new session (first connect, or the gateway gave us another one): a new history.
      const lost = Math.max(this.lostCursor, this.cursor);
      this.cursor = 0;
      this.lostCursor = 0;
      this.epoch = answer.epoch ?? null;
      this.resume = { mode: 'none', from: 1, to: answer.head };
      if (lost > 0) this.sink.gap({ expected: lost + 1, received: 1, reason: 'epoch' });
      return;
    }
    const gap = handshakeGap(answer, since, this.epoch);
    this.epoch = answer.epoch ?? this.epoch;
    if (gap === undefined) {
      this.cursor = since;
      this.resume = { mode: 'full', from: since + 1, to: answer.head };
      return;
    }
    this.cursor = gap.received - 1;
    this.resume = { mode: answer.head >= gap.received ? 'partial' : 'none', from: gap.received, to: answer.head };
    this.sink.gap(gap);
  }

  accept(seq: number, fields: EventFields, replayed: boolean, frameEpoch: string | undefined, raw: unknown): void {
    if (frameEpoch !== undefined && frameEpoch !== this.epoch) {
      if (this.epoch !== null) {
        // A new history: numbering may restart, so this is a gap, never a duplicate.
        this.reportGap(this.cursor + 1, seq, 'epoch', replayed);
        this.cursor = seq - 1;
      }
      this.epoch = frameEpoch;
    }
    const cursor = this.cursor;
    if (seq <= cursor) return;
    if (seq > cursor + 1) this.reportGap(cursor + 1, seq, replayed ? 'window' : 'live', replayed);
    this.cursor = seq;
    this.deliver(seq, fields, replayed, raw);
  }

  notice(fields: EventFields, raw: unknown): void {
    this.deliver(null, fields, false, raw);
  }

  caughtUp(frameEpoch: string | undefined): void {
    if (frameEpoch !== undefined && this.epoch === null) this.epoch = frameEpoch;
  }

  snapshot(snapCursor: number | undefined, snapEpoch: string | undefined): void {
    const newHistory = snapEpoch !== undefined && snapEpoch !== this.epoch;
    if (snapEpoch !== undefined) this.epoch = snapEpoch;
    if (snapCursor !== undefined) this.cursor = newHistory ? snapCursor : Math.max(this.cursor, snapCursor);
  }

  forgetSession(): void {
    this.lostCursor = Math.max(this.lostCursor, this.cursor);
    this.sessionId = null;
    this.cursor = 0;
    this.epoch = null;
    this.sentSince = null;
  }

  private reportGap(expected: number, received: number, reason: GapInfo['reason'], replayed: boolean): void {
    const resume = this.resume;
    if (replayed && resume !== null && resume.mode === 'full') {
      // PraisonAI never reports a gap on resume: the first replayed number tells us instead.
      this.resume = { mode: 'partial', from: received, to: resume.to };
    }
    this.sink.gap({ expected, received, reason });
  }

  private deliver(seq: number | null, fields: EventFields, replayed: boolean, raw: unknown): void {
    this.sink.event({
      seq,
      type: fields.type,
      data: fields.data,
      eventId: optionalString(fields.event_id),
      timestamp: typeof fields.timestamp === 'number' ? fields.timestamp : undefined,
      source: optionalString(fields.source),
      replayed,
      raw,
    });
  }
}

/** Create a tracker. `sessionId` resumes an existing session, from its start unless `position` says otherwise. */
export function createGapTracker(sink: TrackerSink, sessionId?: string, position?: TrackerPosition): GapTracker {
  return new Tracker(sink, sessionId ?? null, position?.cursor ?? 0, position?.epoch ?? null);
}

/**
 * The gap a handshake answer implies for a client that sent `since` in `epoch` (section 4):
 * the gateway's own `gap`; else an epoch change; else a head behind `since` or a session that
 * was not resumed (history lost, as on a PraisonAI gateway restarted without its store); else a
 * legacy `resync_required` past the window. PraisonAI `hello` gaps surface later, at the first replay.
 */
export function handshakeGap(answer: HandshakeAnswer, since: number, epoch: string | null): GapInfo | undefined {
  if (answer.gap !== undefined) {
    const epochChanged = epoch !== null && answer.epoch !== undefined && answer.epoch !== epoch;
    return { expected: answer.gap.expected, received: answer.gap.received, reason: epochChanged || answer.gap.received <= since ? 'epoch' : 'window' };
  }
  const firstHeld = answer.oldest !== undefined && answer.oldest > 0 ? answer.oldest : answer.head + 1;
  if (epoch !== null && answer.epoch !== undefined && answer.epoch !== epoch) {
    return { expected: since + 1, received: firstHeld, reason: 'epoch' };
  }
  if (answer.head < since || (!answer.resumed && since > 0)) {
    return { expected: since + 1, received: answer.head < since ? answer.head + 1 : firstHeld, reason: 'epoch' };
  }
  if (answer.resyncRequired && answer.oldest !== undefined && answer.oldest > since + 1) {
    return { expected: since + 1, received: answer.oldest, reason: 'window' };
  }
  return undefined;
}
