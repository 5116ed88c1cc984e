// What a client reads from a gateway at most: a frame's size and how deeply its JSON nests. Both
// clients (TypeScript and Python, which reads these values from the exported protocol vectors)
// refuse a frame past either with `bad_server_frame`, and the reference gateway never sends one.

/**
 * Largest frame a client accepts from a gateway, in bytes: 16 MiB. Not `policy.max_payload`,
 * which limits frames *to* the gateway: a legal `batch` or `snapshot` may be larger than that. The
 * reference gateway stays far below it (`maxEventBytes` is at most half of it, and batches are cut
 * at a quarter). Node's `ws` refuses a bigger frame at its header, before reading it, and the
 * connection closes; a browser cannot refuse it, so the client drops it unread.
 */
export const MAX_SERVER_FRAME_BYTES = 16 * 1024 * 1024;

/**
 * Deepest nesting of arrays and objects a client accepts in a gateway frame: 2048 (`{}` is depth
 * 1; a `batch` holds its events' payloads at depth 4). A deeper frame is refused as
 * `bad_server_frame` and skipped, so a hostile frame cannot exhaust a parser's stack, and both
 * clients deliver the same events. The gateway refuses to publish an event that would be deeper.
 */
export const MAX_SERVER_FRAME_DEPTH = 2048;

/** Depth at which a frame carries an event payload at most (`batch` > `frames` > frame > payload). */
export const EVENT_PAYLOAD_FRAME_DEPTH = 4;

/**
 * Whether the JSON `text` nests arrays and objects deeper than `maxDepth`. Cheap for nearly every
 * frame: such nesting needs more than `maxDepth` opening brackets, so a shorter text, or one with
 * fewer `{` and `[` (counted with `indexOf`, a few percent of `JSON.parse`'s time), is never
 * scanned. Brackets inside strings do not count. Invalid JSON may answer either way; the parser
 * refuses it next.
 */
export function nestingExceeds(text: string, maxDepth: number = MAX_SERVER_FRAME_DEPTH): boolean {
  if (text.length <= 2 * maxDepth) return false;
  let openers = 0;
  for (let i = text.indexOf('{'); i !== -1 && openers <= maxDepth; i = text.indexOf('{', i + 1)) openers++;
  for (let i = text.indexOf('['); i !== -1 && openers <= maxDepth; i = text.indexOf('[', i + 1)) openers++;
  if (openers <= maxDepth) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
