// lifeline: the reconnecting gateway client. One statechart (machines/gateway-machine.ts) and a thin
// facade (`createGatewayClient`) over it; see PROTOCOL.md for the wire contract it speaks. Only what
// apps use is exported here: the client, its options and shapes, its error, the outbox stores and
// the defaults. The chart is seen through `client.chart` (read-only) and schema/client-chart.json;
// the parts (chart, tracker, router, backoff policy) are reached by module path inside the repo.
export { createGatewayClient } from './create-gateway-client.js';
export { GatewayConnectError, type ConnectErrorData } from './errors.js';
export { DEFAULT_RECONNECT, type ReconnectOptions } from '../../machines/backoff.js';
export { memoryOutboxStore, localStorageOutboxStore, type OutboxStore, type StoredMessage, type StorageLike, type LocalStorageOutboxOptions } from './outbox-store.js';
export type { GatewayUrl, GatewayUrlContext } from './gateway-urls.js';
export { DEFAULT_CAPABILITIES, DEFAULT_OUTBOX_MAX_MESSAGES } from './options.js';
export { DEFAULT_MAX_BUFFERED_EVENTS } from './event-stream.js';
export { DEFAULT_CONNECT_TIMEOUT_MS } from './connect-waiters.js';
export type { OutagePhase } from '../../machines/gateway-machine.js';
export type { TransportName } from '../../machines/transport-fallback.js';
export type {
  BackpressureInfo,
  ChartInspector,
  ChartSnapshot,
  Checkpoint,
  ClientChart,
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
  WebSocketHandler,
  WebSocketOptions,
  WebSocketLike,
} from './types.js';
