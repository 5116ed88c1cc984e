// How a control request carries the local server's key, shared by the servers (Node) and the
// inspector page (browser), so this module imports nothing.

/** The header curl, scripts and the page send the key in (`Authorization: Bearer KEY` works too). */
export const CONTROL_KEY_HEADER = 'X-Lifeline-Control';

/** The query parameter that carries the key in a printed URL, and for EventSource (which cannot send headers). */
export const CONTROL_KEY_PARAM = 'key';
