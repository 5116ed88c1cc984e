// The key of the local server this page came from. `agent-lifeline start`/`inspect` print the
// page's URL with `?key=…`; every request to its /control/ routes must carry it, or the server
// refuses it (so that no other web page can drive it).
import { CONTROL_KEY_HEADER, CONTROL_KEY_PARAM } from '../support/control-names.js';

/** The key in this page's URL, or '' when it was opened without one. */
export const controlKey: string = new URLSearchParams(location.search).get(CONTROL_KEY_PARAM) ?? '';

/** Headers that carry the key, for `fetch`. */
export function controlHeaders(): Record<string, string> {
  return { [CONTROL_KEY_HEADER]: controlKey };
}

/** `path` with the key in its query, for what cannot send headers (EventSource). */
export function withControlKey(path: string): string {
  return `${path}?${CONTROL_KEY_PARAM}=${encodeURIComponent(controlKey)}`;
}
