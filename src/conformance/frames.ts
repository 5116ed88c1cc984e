// Reading gateway frames the way a tolerant client does: Lifeline `event`/`replay`/`batch`
// frames and PraisonAI's flat numbered frames and `event.sequence` replays all carry a number.
import { SERVER_FRAME_TYPES } from '../protocol/frames.js';
import type { Received } from './probe.js';

const contractTypes: ReadonlySet<string> = new Set(SERVER_FRAME_TYPES);

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function asSeq(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 ? value : undefined;
}

/** The seq of a replay/event frame: top-level `seq`, else PraisonAI's `event.sequence`. */
function seqOf(frame: Record<string, unknown>): number | undefined {
  return asSeq(frame['seq']) ?? asSeq(asRecord(frame['event'])?.['sequence']);
}

/**
 * The event numbers a frame carries, in order, with whether they were replayed. A `batch`
 * carries several; a flat PraisonAI frame (a type outside the contract) carries its `seq`.
 */
export function numbered(frame: Record<string, unknown>): Array<{ seq: number; replay: boolean }> {
  const type = frame['type'];
  if (type === 'batch') {
    const inner = Array.isArray(frame['frames']) ? frame['frames'] : [];
    return inner.flatMap((f) => {
      const record = asRecord(f);
      return record ? numbered(record) : [];
    });
  }
  if (type === 'event' || type === 'replay') {
    const seq = seqOf(frame);
    return seq === undefined ? [] : [{ seq, replay: type === 'replay' }];
  }
  if (typeof type === 'string' && !contractTypes.has(type)) {
    const seq = asSeq(frame['seq']);
    return seq === undefined ? [] : [{ seq, replay: false }];
  }
  return [];
}

/** True when a received frame carries at least one event number. */
export function isNumbered(frame: Received): boolean {
  return frame.json !== undefined && numbered(frame.json).length > 0;
}

/** All event numbers in a list of frames, in arrival order. */
export function seqsOf(frames: readonly Received[]): number[] {
  return frames.flatMap((f) => (f.json ? numbered(f.json).map((n) => n.seq) : []));
}

/** A short, single-line rendering of a frame for the report. */
export function describe(frame: Received | Record<string, unknown> | undefined, max = 160): string {
  if (frame === undefined) return 'nothing';
  const text = 'text' in frame && typeof frame.text === 'string' ? frame.text : JSON.stringify(frame);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** `a..b` for a run of consecutive numbers, else the list. */
export function describeSeqs(seqs: readonly number[]): string {
  if (seqs.length === 0) return 'no events';
  const first = seqs[0] ?? 0;
  const consecutive = seqs.every((s, i) => s === first + i);
  return consecutive && seqs.length > 2 ? `${first}..${first + seqs.length - 1}` : seqs.join(',');
}
