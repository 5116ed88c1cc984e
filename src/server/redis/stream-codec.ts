// How the Redis fleet's events read back: stream entries (`<seq>-0`, field `e` holding the event
// JSON) and fan-out messages (`<seq>:<epoch>:<event json>`, or `!end:<reason>` when a session was
// ended), both written by the scripts (scripts.ts) and the session feed (session-feed.ts).
import { rememberPayloadJson } from '../../protocol/codec.js';
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

/** Parse a fan-out message `<seq>:<epoch>:<event json>` (written by the append script). */
export function parseLiveEvent(message: string): LiveEvent | undefined {
  const first = message.indexOf(':');
  const second = message.indexOf(':', first + 1);
  if (first < 1 || second < 0) return undefined;
  try {
    return { seq: Number(message.slice(0, first)), epoch: message.slice(first + 1, second), event: parsePayload(message.slice(second + 1)) };
  } catch {
    return undefined;
  }
}

/** Stream entries as XRANGE returns them inside a script: `[id, ['e', json]]`. */
export function storedEvents(entries: unknown): StoredEvent[] {
  return (entries as Array<[string, string[]]>).map(([id, fields]) => ({
    seq: Number(id.slice(0, id.indexOf('-'))),
    event: parsePayload(String(fields[1])),
  }));
}
