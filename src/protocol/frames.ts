// Every wire frame as a valibot schema; the TypeScript types are inferred from them.
// Objects are loose: a peer ignores fields it does not know, so either side can add fields
// without breaking the other (the PraisonAI gateway relies on this too).
import * as v from 'valibot';

// ---------------------------------------------------------------------------------------------
// Building blocks

const SafeInt = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
/**
 * The largest seq, and so the largest cursor: 2^53 − 2. Every seq and cursor is a safe integer
 * with room for `+ 1`, so the next seq after any cursor (a gap's `expected`) is still exact in
 * every language that parses JSON numbers as doubles. Anything larger is a bad frame on both sides.
 */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER - 1;
const Position = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_SEQ));
/** A position in a session's event history: the seq of the last event seen (0 = none yet), at most `MAX_SEQ`. */
export const Cursor = v.pipe(Position, v.description('Seq of the last event seen; 0 before the first event; at most 2^53 - 2.'));
/** A per-session event number, monotonic from 1 and never reused within an epoch, at most `MAX_SEQ`. */
export const Seq = v.pipe(Position, v.minValue(1), v.description('Per-session event number, from 1 to 2^53 - 2.'));
/** The seq after a cursor (`cursor + 1`): 1 to `MAX_SEQ + 1` (2^53 − 1). */
const NextSeq = v.pipe(SafeInt, v.minValue(1), v.description('A cursor + 1: from 1 to 2^53 - 1.'));
/** Identity of a session's event history; changes whenever that history is lost. */
export const Epoch = v.pipe(v.string(), v.minLength(1), v.maxLength(128));
/** A session's id, chosen by the gateway (or offered by a resuming client): 1 to 128 characters. */
export const SessionId = v.pipe(v.string(), v.minLength(1), v.maxLength(128));
/** The agent a client talks to, as the gateway names it: 1 to 128 characters. */
export const AgentId = v.pipe(v.string(), v.minLength(1), v.maxLength(128));
/** A client-chosen message id, used for acknowledgement and de-duplication. */
export const MessageId = v.pipe(v.string(), v.minLength(1), v.maxLength(128));
const Version = SafeInt;

/** An event as stored in the log and delivered to clients. */
export const EventPayload = v.looseObject({
  type: v.pipe(v.string(), v.minLength(1)),
  data: v.optional(v.unknown()),
  event_id: v.optional(v.string()),
  timestamp: v.optional(v.number()),
  source: v.optional(v.string()),
  /** PraisonAI numbers its replayed events here instead of a top-level `seq`. */
  sequence: v.optional(Seq),
});
export type EventPayload = v.InferOutput<typeof EventPayload>;

/** Missing range signalled at the handshake: events `expected..received-1` cannot be replayed. */
export const Gap = v.looseObject({
  /** The seq the client expected next (`since + 1`), so up to `MAX_SEQ + 1`. */
  expected: NextSeq,
  /** The first seq the gateway can deliver instead (its head + 1 when it holds nothing newer). */
  received: NextSeq,
});
export type Gap = v.InferOutput<typeof Gap>;

/** Who else is connected to an agent, in `hello_ok.presence`: one entry per session. */
export const PresenceEntry = v.looseObject({
  session_id: v.string(),
  agent_id: v.string(),
  /** Open connections joined to this session. */
  connections: SafeInt,
});
export type PresenceEntry = v.InferOutput<typeof PresenceEntry>;

/** The gateway's health, in `hello_ok.health` (and on `GET /health`): `ok`, `draining` or `degraded`, and its counts. */
export const Health = v.looseObject({
  status: v.string(),
  uptime_s: v.optional(v.number()),
  connections: v.optional(SafeInt),
  sessions: v.optional(SafeInt),
  protocol: v.optional(v.looseObject({ min: Version, max: Version })),
  draining: v.optional(v.boolean()),
});
export type Health = v.InferOutput<typeof Health>;

/** The limits a gateway announces in `hello_ok.policy`: the largest frame, the heartbeat, the replay window. */
export const Policy = v.looseObject({
  /** Largest frame, in bytes, the gateway accepts. */
  max_payload: SafeInt,
  /** The gateway pings this often; silence for twice this closes the connection. */
  heartbeat_ms: SafeInt,
  max_buffered_bytes: v.optional(SafeInt),
  max_queued_frames: v.optional(SafeInt),
  /** Events kept per session for replay. */
  replay_window: v.optional(SafeInt),
});
export type Policy = v.InferOutput<typeof Policy>;

/** What a gateway offers, in `hello_ok.features`: its methods, its event types and the Lifeline extensions. */
export const Features = v.looseObject({
  methods: v.array(v.string()),
  events: v.array(v.string()),
  /** Lifeline extensions this gateway offers (see `EXTENSIONS`). Absent on PraisonAI. */
  extensions: v.optional(v.array(v.string())),
});
export type Features = v.InferOutput<typeof Features>;

/** Optional extensions a gateway may advertise in `features.extensions`. */
export const EXTENSIONS = ['epoch', 'gap', 'caught_up', 'batch', 'snapshot', 'ack', 'presence', 'health', 'drain'] as const;
/** One of {@link EXTENSIONS}. */
export type Extension = (typeof EXTENSIONS)[number];

/**
 * The capability that marks a PraisonAI client in `hello` (PROTOCOL.md sections 2 and 8): its
 * `GatewayClient` sends `["streaming", "ack"]` by default. Lifeline's clients refuse to list it,
 * so a gateway in `auto` dialect can tell the two apart by this one name.
 */
export const PRAISONAI_MARKER = 'streaming';

// ---------------------------------------------------------------------------------------------
// Client -> gateway

/** The first frame a client sends: the agent, the versions and capabilities it speaks, and where to resume. */
export const HelloFrame = v.looseObject({
  type: v.literal('hello'),
  agent_id: AgentId,
  protocol_min: v.optional(Version),
  protocol_max: v.optional(Version),
  /** Older spelling of protocol_min/protocol_max. */
  protocol: v.optional(v.looseObject({ min: Version, max: Version })),
  capabilities: v.optional(v.array(v.string())),
  /** Older spelling of capabilities. */
  caps: v.optional(v.array(v.string())),
  session_id: v.optional(SessionId),
  since: v.optional(Cursor),
  epoch: v.optional(Epoch),
  /** Credentials; may also come as `?token=` on the URL. Never logged. */
  token: v.optional(v.string()),
});
export type HelloFrame = v.InferOutput<typeof HelloFrame>;

/** The legacy handshake, kept so old clients keep working. */
export const JoinFrame = v.looseObject({
  type: v.literal('join'),
  agent_id: AgentId,
  min_version: v.optional(Version),
  max_version: v.optional(Version),
  session_id: v.optional(SessionId),
  since: v.optional(Cursor),
  epoch: v.optional(Epoch),
  token: v.optional(v.string()),
});
export type JoinFrame = v.InferOutput<typeof JoinFrame>;

/** A client's message to the agent; with an `id`, the gateway acks it and applies it once. */
export const MessageFrame = v.looseObject({
  type: v.literal('message'),
  /** Client-chosen id; the gateway acks it and applies a resend with the same id once. */
  id: v.optional(MessageId),
  content: v.unknown(),
});
export type MessageFrame = v.InferOutput<typeof MessageFrame>;

/** Ask for a snapshot of the session state (answered with `snapshot`). */
export const ResyncFrame = v.looseObject({ type: v.literal('resync') });
export type ResyncFrame = v.InferOutput<typeof ResyncFrame>;

/** The client leaves: the gateway closes the connection, and the session stays resumable. */
export const LeaveFrame = v.looseObject({ type: v.literal('leave') });
export type LeaveFrame = v.InferOutput<typeof LeaveFrame>;

/** A liveness probe, either way; answered with `pong` carrying the same `ts`. */
export const PingFrame = v.looseObject({ type: v.literal('ping'), ts: v.optional(v.number()) });
export type PingFrame = v.InferOutput<typeof PingFrame>;

/** The answer to `ping`, with its `ts`. */
export const PongFrame = v.looseObject({ type: v.literal('pong'), ts: v.optional(v.number()) });
export type PongFrame = v.InferOutput<typeof PongFrame>;

/** Every frame a client may send. */
export const ClientFrame = v.variant('type', [HelloFrame, JoinFrame, MessageFrame, ResyncFrame, LeaveFrame, PingFrame, PongFrame]);
export type ClientFrame = v.InferOutput<typeof ClientFrame>;

// ---------------------------------------------------------------------------------------------
// Gateway -> client

/** The gateway accepts `hello`: the version, the session and cursor, its policy and features, and the resume's outcome. */
export const HelloOkFrame = v.looseObject({
  type: v.literal('hello_ok'),
  /** The negotiated version. */
  protocol: Version,
  features: Features,
  policy: Policy,
  session_id: SessionId,
  resumed: v.boolean(),
  /** The head of the session's log (seq of the newest event). */
  cursor: Cursor,
  epoch: v.optional(Epoch),
  oldest_cursor: v.optional(Cursor),
  resync_required: v.optional(v.boolean()),
  gap: v.optional(Gap),
  presence: v.optional(v.array(PresenceEntry)),
  health: v.optional(Health),
  server_min: v.optional(Version),
  server_max: v.optional(Version),
});
export type HelloOkFrame = v.InferOutput<typeof HelloOkFrame>;

/** The gateway refuses `hello`: a code, a message, the next step and the versions it speaks; the socket then closes. */
export const HelloErrorFrame = v.looseObject({
  type: v.literal('hello_error'),
  code: v.string(),
  message: v.string(),
  next_step: v.string(),
  retry_after_seconds: v.optional(v.pipe(v.number(), v.minValue(0))),
  server_min: v.optional(Version),
  server_max: v.optional(Version),
});
export type HelloErrorFrame = v.InferOutput<typeof HelloErrorFrame>;

/** Answer to the legacy `join`. */
export const JoinedFrame = v.looseObject({
  type: v.literal('joined'),
  session_id: SessionId,
  agent_id: v.optional(v.string()),
  resumed: v.optional(v.boolean()),
  cursor: Cursor,
  oldest_cursor: v.optional(Cursor),
  resync_required: v.optional(v.boolean()),
  /** The position replay starts after (PraisonAI's name). */
  sequence: v.optional(Cursor),
  protocol_version: v.optional(Version),
  server_min_version: v.optional(Version),
  server_max_version: v.optional(Version),
  presence: v.optional(v.array(v.unknown())),
  health: v.optional(v.unknown()),
  epoch: v.optional(Epoch),
  gap: v.optional(Gap),
  policy: v.optional(Policy),
});
export type JoinedFrame = v.InferOutput<typeof JoinedFrame>;

/** A live event. */
export const EventFrame = v.looseObject({
  type: v.literal('event'),
  seq: Seq,
  event: EventPayload,
  /** Present when the epoch changed while connected. */
  epoch: v.optional(Epoch),
});
export type EventFrame = v.InferOutput<typeof EventFrame>;

/** A replayed event; `seq` may be missing on PraisonAI, which numbers `event.sequence` instead. */
export const ReplayFrame = v.looseObject({
  type: v.literal('replay'),
  seq: v.optional(Seq),
  event: EventPayload,
  epoch: v.optional(Epoch),
});
export type ReplayFrame = v.InferOutput<typeof ReplayFrame>;

/** Ends the replay: everything up to `cursor` has been sent. */
export const CaughtUpFrame = v.looseObject({ type: v.literal('caught_up'), cursor: Cursor, epoch: v.optional(Epoch) });
export type CaughtUpFrame = v.InferOutput<typeof CaughtUpFrame>;

/** v2 only: several event or replay frames in one. */
export const BatchFrame = v.looseObject({
  type: v.literal('batch'),
  frames: v.array(v.variant('type', [EventFrame, ReplayFrame])),
});
export type BatchFrame = v.InferOutput<typeof BatchFrame>;

/** Answer to `resync` (or after a legacy `join` with resync_required): state as of `cursor`. */
export const SnapshotFrame = v.looseObject({
  type: v.literal('snapshot'),
  state: v.unknown(),
  cursor: v.optional(Cursor),
  epoch: v.optional(Epoch),
});
export type SnapshotFrame = v.InferOutput<typeof SnapshotFrame>;

/** Acknowledges a client `message` by id. `duplicate` is true when the id was already applied. */
export const AckFrame = v.looseObject({ type: v.literal('ack'), id: MessageId, duplicate: v.optional(v.boolean()) });
export type AckFrame = v.InferOutput<typeof AckFrame>;

/** A typed error that does not end the connection (unless a close follows). */
export const ErrorFrame = v.looseObject({
  type: v.literal('error'),
  code: v.optional(v.string()),
  message: v.string(),
  next_step: v.optional(v.string()),
  retry_after_seconds: v.optional(v.pipe(v.number(), v.minValue(0))),
  /** The message id the error refers to, when there is one. */
  id: v.optional(v.string()),
});
export type ErrorFrame = v.InferOutput<typeof ErrorFrame>;

/** The gateway is about to close for a deploy; reconnect after the hint. */
export const DrainingFrame = v.looseObject({ type: v.literal('draining'), reconnect_after_ms: SafeInt });
export type DrainingFrame = v.InferOutput<typeof DrainingFrame>;

/** Every frame a gateway may send. */
export const ServerFrame = v.variant('type', [
  HelloOkFrame,
  HelloErrorFrame,
  JoinedFrame,
  EventFrame,
  ReplayFrame,
  CaughtUpFrame,
  BatchFrame,
  SnapshotFrame,
  AckFrame,
  ErrorFrame,
  DrainingFrame,
  PingFrame,
  PongFrame,
]);
export type ServerFrame = v.InferOutput<typeof ServerFrame>;

/**
 * A frame of a type outside the contract. The PraisonAI gateway sends its live events flat this
 * way (`{"type":"token_stream",...,"seq":3,"cursor":3}`); status notices carry no number.
 */
export const ForeignFrame = v.looseObject({
  type: v.pipe(v.string(), v.minLength(1)),
  seq: v.optional(Seq),
  cursor: v.optional(Cursor),
});
export type ForeignFrame = v.InferOutput<typeof ForeignFrame>;

/** Frame types a client may send. */
export const CLIENT_FRAME_TYPES = ClientFrame.options.map((o) => o.entries.type.literal);
/** Frame types a gateway may send. */
export const SERVER_FRAME_TYPES = ServerFrame.options.map((o) => o.entries.type.literal);
