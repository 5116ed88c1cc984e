// lifeline: the reconnecting gateway client. One statechart (`gatewayMachine`) and a thin facade
// (`createGatewayClient`) over it; see PROTOCOL.md for the wire contract it speaks. Only what apps
// use is exported here; the parts (tracker, router, backoff policy) are reached by module path.
export { createGatewayClient } from './create-gateway-client.js';
export { GatewayConnectError, type ConnectErrorData } from './errors.js';
export { DEFAULT_RECONNECT, type ReconnectOptions } from '../../machines/backoff.js';
export { memoryOutboxStore, localStorageOutboxStore, type OutboxStore, type StoredMessage, type StorageLike, type LocalStorageOutboxOptions } from './outbox-store.js';
export type { GatewayUrl, GatewayUrlContext } from './gateway-urls.js';
export { DEFAULT_CAPABILITIES, DEFAULT_OUTBOX_MAX_MESSAGES } from './options.js';
export { DEFAULT_MAX_BUFFERED_EVENTS } from './event-stream.js';
export { DEFAULT_CONNECT_TIMEOUT_MS } from './connect-waiters.js';
export {
  gatewayMachine,
  type GatewayMachine,
  type GatewayMachineInput,
  type GatewayMachineEvent,
  type OutagePhase,
} from '../../machines/gateway-machine.js';
export type {
  BackpressureInfo,
  Checkpoint,
  ClientState,
  ClientClock,
  ConnectOptions,
  GapInfo,
  GatewayClient,
  GatewayClientOptions,
  GatewayEvent,
  GatewayInfo,
  ResumeInfo,
  SendResult,
  SessionSnapshot,
  TokenSource,
  WebSocketClass,
  WebSocketOptions,
  WebSocketLike,
} from './types.js';
