// How the Redis fleet's events read back: stream entries (`<seq>-0`, field `e` holding the event
// JSON) and fan-out messages (lines `<seq>:<epoch>:<event json>`, one per event of a burst, or
// `!end:<reason>` when a session was ended), both written by the scripts (scripts.ts) and the
// session feed (session-feed.ts).
import { rememberedPayloadJson, rememberPayloadJson } from '../../protocol/codec.js';
import type { StoredEvent } from '../event-log.js';
import type { LiveEvent } from '../fleet.js';

/**
 * The prefix of a control message on a session's fan-out channel (events start with their seq):
 * `!end:<reason>` says the session was ended (`expireSession`) on some node.
 */
export const END_NOTICE = '!end:';

/**
 * An event payload from the JSON the log holds; the text is remembered so the frames that carry
 * the event splice it in instead of serialising the payload again (once per connection).
 */
function parsePayload(json: string): StoredEvent['event'] {
  const event = JSON.parse(json) as StoredEvent['event'];
  if (typeof event === 'object' && event !== null) rememberPayloadJson(event, json);
  return event;
}

/** The JSON the log stores for a payload: the text made at publish when there is one. */
export function payloadJsonOf(event: StoredEvent['event']): string {
  return rememberedPayloadJson(event) ?? JSON.stringify(event);
}

/** One line `<seq>:<epoch>:<event json>` of a fan-out message, from `start` to `end`. */
function parseLine(message: string, start: number, end: number): LiveEvent | undefined {
  const first = message.indexOf(':', start);
  const second = first < 0 ? -1 : message.indexOf(':', first + 1);
  if (first <= start || second < 0 || second >= end) return undefined;
  try {
    return { seq: Number(message.slice(start, first)), epoch: message.slice(first + 1, second), event: parsePayload(message.slice(second + 1, end)) };
  } catch {
    return undefined;
  }
}

/**
 * Parse a fan-out message: one line `<seq>:<epoch>:<event json>` per event, joined by newlines
 * (the append script publishes a burst as one message; JSON text holds no raw newline). A line
 * that does not parse is skipped: the fan-out repairs the hole from the log.
 */
export function parseLiveEvents(message: string, onEvent: (event: LiveEvent) => void): void {
  for (let start = 0; start < message.length; ) {
    let end = message.indexOf('\n', start);
    if (end < 0) end = message.length;
    const event = parseLine(message, start, end);
    if (event) onEvent(event);
    start = end + 1;
  }
}

/** Stream entries as XRANGE returns them inside a script: `[id, ['e', json]]`. */
export function storedEvents(entries: unknown): StoredEvent[] {
  return (entries as Array<[string, string[]]>).map(([id, fields]) => ({
    seq: Number(id.slice(0, id.indexOf('-'))),
    event: parsePayload(String(fields[1])),
  }));
}
