// lifeline/protocol: the wire contract shared by every Lifeline client and gateway.
// Pure: no Node, no ws, no I/O, so browsers and third-party clients can use it as is.
// What a third-party client or gateway needs: versions and negotiation, error and close codes with
// their reactions, every frame as a schema and a type, and the decoders that validate them. The
// reference implementations' own helpers (payload JSON reuse, batching, URL token rules, frame
// depth scans) are imported by path inside this repository and are not part of the contract.
export { MIN_PROTOCOL_VERSION, negotiate, PROTOCOL_VERSION, SUPPORTED_PROTOCOL, isValidRange, type Negotiation, type ProtocolRange } from './versions.js';
export {
  CLIENT_ERROR_CODES,
  defaultNextStep,
  ERROR_INFO,
  isKnownErrorCode,
  isRecoverable,
  isTerminal,
  RECOVERY_STEPS,
  WIRE_ERROR_CODES,
  type ClientErrorCode,
  type ConnectErrorData,
  type ErrorCode,
  type ErrorInfo,
  type ProtocolErrorShape,
  type RecoveryStep,
  type WireErrorCode,
} from './errors.js';
export { classifyClose, CLOSE_CODE_FOR_ERROR, CLOSE_CODE_TABLE, closeAsksToWait, closeEndsSession, closeMeansTooBig, CloseCode, type CloseAction } from './close-codes.js';
export {
  AckFrame,
  AgentId,
  BatchFrame,
  CaughtUpFrame,
  CLIENT_FRAME_TYPES,
  ClientFrame,
  Cursor,
  DrainingFrame,
  Epoch,
  ErrorFrame,
  EventFrame,
  EventPayload,
  EXTENSIONS,
  Features,
  ForeignFrame,
  Gap,
  Health,
  HelloErrorFrame,
  HelloFrame,
  HelloOkFrame,
  JoinedFrame,
  JoinFrame,
  LeaveFrame,
  MAX_SEQ,
  MessageFrame,
  MessageId,
  PingFrame,
  Policy,
  PongFrame,
  PRAISONAI_MARKER,
  PresenceEntry,
  ReplayFrame,
  ResyncFrame,
  Seq,
  SERVER_FRAME_TYPES,
  ServerFrame,
  SessionId,
  SnapshotFrame,
  type Extension,
} from './frames.js';
export { decodeClientFrame, decodeServerFrame, encodeClientFrame, type Decoded, type DecodedServerFrame, type FrameError } from './codec.js';
export { MAX_SERVER_FRAME_BYTES, MAX_SERVER_FRAME_DEPTH } from './frame-limits.js';
export { placeToken, redactTokens, type TokenPlacement } from './credentials.js';
