// Addresses on the command line: every command that takes a gateway or a Redis accepts a full URL
// or a bare `host:port`, which means the plain scheme (ws://, redis://), as redis-cli and curl
// assume plain unless told otherwise. TLS is always spelled out (wss://, rediss://).

/** A scheme followed by `//`: the text is already a URL. */
const HAS_SCHEME = /^[a-z][a-z\d+.-]*:\/\//i;
/** `host:port`, `[v6]:port` or `host:port/path?query`, without a scheme. */
const HOST_PORT = /^(\[[\da-f:.]+\]|[^\s/:?#[\]@]+):\d+([/?#].*)?$/i;

/**
 * `text` with `scheme://` in front when it is a bare `host:port`; anything else unchanged, for the
 * caller's own check to refuse with its message. (`new URL('localhost:8787')` would read
 * `localhost:` as the scheme, which is why the form is recognised here and not by URL.)
 */
export function withDefaultScheme(text: string, scheme: 'ws' | 'redis'): string {
  return !HAS_SCHEME.test(text) && HOST_PORT.test(text) ? `${scheme}://${text}` : text;
}
