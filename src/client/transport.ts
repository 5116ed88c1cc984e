// The client's transport seam: how the socket actor reaches a gateway. A transport opens one
// connection per attempt and reports what happens to it; the token, the URL, the handshake, frame
// routing and the chart's events are the socket actor's, the same over every transport. WebSocket
// is the default (websocket-transport.ts); another transport (HTTP with SSE down and POST up, say)
// implements these few members with the same meaning, and the chart does not change.

/** What happens to one connection, as its transport reports it. Nothing is reported after `closed`. */
export interface TransportEvents {
  /** The connection is open: frames may be sent. */
  opened(): void;
  /** One frame from the gateway: a string for a text frame; anything else is not part of the protocol. */
  message(data: unknown): void;
  /** The connection failed, with whatever cause the runtime gives (browsers give none); `closed` follows. */
  error(cause: unknown): void;
  /** A frame from the gateway was over `MAX_SERVER_FRAME_BYTES` and refused before it was read; `closed` follows. */
  frameTooLarge(): void;
  /** The connection is gone: its close code and reason (`CloseCode.Abnormal`, 1006, when no close frame came). */
  closed(code: number, reason: string): void;
}

/** One connection, open or opening. */
export interface TransportConnection {
  /** Send one text frame; false, and nothing sent, when the connection is not open. */
  send(text: string): boolean;
  /** Close with the closing handshake (`CloseCode.Normal`). Never throws. */
  close(): void;
  /** Drop the connection without a closing handshake, where the transport can (the peer presumably cannot answer). Never throws. */
  terminate(): void;
}

/** A way to reach a gateway. */
export interface ClientTransport {
  /** Open a connection to `url` and report on it to `events`; throws at once for a URL it cannot use. */
  connect(url: string, events: TransportEvents): TransportConnection;
}
