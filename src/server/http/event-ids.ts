// The SSE id of each frame a stream writes: `<epoch>:<seq>` on frames that carry events (`event`
// and `replay`: their seq; `batch`: its last; `snapshot`: its cursor), none on the rest, so a
// browser's Last-Event-ID is always the last event it received. The epoch comes from `hello_ok`
// (or `joined`) and from any frame that carries one.
//
// The outbox hands the transport encoded text, so the id is read back from it. A live or replayed
// event, the frame that comes by the thousand, is read from its fixed prefix
// (`{"type":"event","seq":N,"event":…}`, as the gateway encodes it) without parsing the payload;
// other frames that may carry an id or an epoch are parsed, and the rest (ping, ack, error…)
// only have their type read.
import { formatEventId } from '../../protocol/sse.js';

/** Reads the id of each frame of one stream, in order. */
export interface EventIds {
  /** The SSE id for this frame's text, or undefined when it carries no event (or no epoch is known yet). */
  idFor(text: string): string | undefined;
}

const EVENT_PREFIX = /^\{"type":"(?:event|replay)","seq":(\d{1,16}),"event":\{/;
const TYPE_PREFIX = /^\{"type":"([a-z_]{1,32})"/;
// Types that may carry an epoch or a seq; everything else has neither.
const PARSED_TYPES: ReadonlySet<string> = new Set(['hello_ok', 'joined', 'event', 'replay', 'batch', 'snapshot', 'caught_up']);

type Numbered = { readonly seq?: unknown; readonly cursor?: unknown; readonly epoch?: unknown; readonly frames?: unknown };

function parse(text: string): Numbered | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Numbered) : undefined;
  } catch {
    return undefined;
  }
}

const safeSeq = (value: unknown): number | undefined => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined);

/** Start reading ids for a new stream. */
export function createEventIds(): EventIds {
  let epoch: string | undefined;
  const idOf = (seq: number | undefined): string | undefined => (seq === undefined || epoch === undefined ? undefined : formatEventId(epoch, seq));

  /** A frame's seq (or a snapshot's cursor), after adopting any epoch it carries. */
  const numberOf = (frame: Numbered, type: string): number | undefined => {
    if (typeof frame.epoch === 'string' && frame.epoch !== '') epoch = frame.epoch;
    switch (type) {
      case 'event':
      case 'replay':
        return safeSeq(frame.seq);
      case 'snapshot':
        return safeSeq(frame.cursor);
      case 'batch': {
        if (!Array.isArray(frame.frames)) return undefined;
        let last: number | undefined;
        for (const member of frame.frames as unknown[]) {
          if (typeof member !== 'object' || member === null) continue;
          last = numberOf(member as Numbered, 'event') ?? last;
        }
        return last;
      }
      default:
        return undefined;
    }
  };

  return {
    idFor(text) {
      // The common case: a frame as the gateway encodes events, whose last key is the payload
      // (no epoch after it: such a frame ends in `}}`).
      const event = EVENT_PREFIX.exec(text);
      if (event && text.endsWith('}}')) return idOf(Number(event[1]));
      const type = TYPE_PREFIX.exec(text)?.[1];
      if (type === undefined || !PARSED_TYPES.has(type)) return undefined;
      const frame = parse(text);
      return frame === undefined ? undefined : idOf(numberOf(frame, type));
    },
  };
}
