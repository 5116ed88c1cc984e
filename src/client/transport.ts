// The client's transport seam: how the socket actor reaches a gateway. A transport opens one
// connection per attempt and reports what happens to it; the token, the URL, the handshake, frame
// routing and the chart's events are the socket actor's, the same over every transport. WebSocket
// is the default (websocket-transport.ts); HTTP, with Server-Sent Events down and POST up
// (http-transport.ts), implements the same few members with the same meaning, and the chart does
// not change. The handshake is part of the request because HTTP sends it with the stream's GET.
// A connection that never opened says whether it reached a server, so that a gateway that is down
// (a refused connect) is not taken for a path that blocks the transport.

/** What happens to one connection, as its transport reports it. Nothing is reported after `closed`. */
export interface TransportEvents {
  /** The connection is open: frames may be sent. */
  opened(): void;
  /** One frame from the gateway: a string for a text frame; anything else is not part of the protocol. */
  message(data: unknown): void;
  /**
   * The connection failed, with whatever cause the runtime gives (browsers give none); `closed`
   * follows. `reachedServer` is false when the cause shows that no server was reached (a TCP
   * connect refused or that could not get through, a name that does not resolve: the gateway or
   * the network is down, which says nothing about the transport), else true, also when the runtime
   * hides the cause: only a failure that reached a server counts toward moving to another transport.
   */
  error(cause: unknown, reachedServer: boolean): void;
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

/** What one connection is opened with. */
export interface TransportRequest {
  /** The gateway URL as the client uses it (`ws:` or `wss:`), with `?token=` where the token rule put it. */
  readonly url: string;
  /**
   * The handshake frame (`hello`, or the legacy `join`), encoded: the connection's first frame,
   * delivered by the transport before it reports `opened` (a WebSocket writes it on open; HTTP
   * sends it as the stream request's `hello` query parameter). `null` opens the connection and
   * sends nothing: the transport probe, which closes it as soon as it opens.
   */
  readonly handshake: string | null;
  /** The token, where the token rule (`placeToken`) puts it in an `Authorization: Bearer` header; else undefined. */
  readonly bearer: string | undefined;
}

/** A way to reach a gateway. */
export interface ClientTransport {
  /** Open a connection and report on it to `events`; throws at once for a URL it cannot use. */
  connect(request: TransportRequest, events: TransportEvents): TransportConnection;
}
