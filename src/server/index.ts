// lifeline/server: the reference gateway. Imports the protocol, never the client.
// What apps and gateway authors use: the gateway and its options, the log and the fleet it runs
// on (memory and local, or Redis) and the seams they plug into (EventLog, Fleet and its services,
// SessionCaps, GatewayTransport, GatewayClock), the demo agent, and the typed errors. The parts
// the gateway is built from (resume planning, dialect detection, Redis scripts and keys) are
// imported by path inside this repository.
export { createGateway, type Gateway, type GatewayStats, type PublishEvent } from './gateway.js';
export { GatewayError, type GatewayErrorCode } from './errors.js';
export type { GatewayOptions, TokenVerifier, TokenVerdict, VerifyContext } from './options.js';
export type { GatewayCounters, GatewaySession, MessageHandler } from './context.js';
export type { SessionSummary } from './session-registry.js';
export type { FanoutStats } from './fanout.js';
export type { RateLimit } from './rate-limiter.js';
export type { GatewayDialect } from './dialects/choose.js';
export type { GatewayClock, TimerHandle } from './clock.js';
export type { GatewaySocket, GatewayTransport, SocketData, UpgradeInfo } from './transport.js';
export { attachDemoAgent, DEMO_EVENT_TYPES, type DemoAgentOptions } from './demo-agent.js';
export { createMemoryLog, type MemoryLogOptions } from './memory-log.js';
export { createLocalFleet } from './local-fleet.js';
export { createRedisFleet, type RedisFleet } from './redis/redis-fleet.js';
export type { RedisLog } from './redis/redis-log.js';
export type { Durability, RedisFleetOptions } from './redis/options.js';
export {
  LogError,
  type AppendEntry,
  type AppendResult,
  type ClaimHolder,
  type EventLog,
  type LogErrorCode,
  type LogPosition,
  type LogRead,
  type MessageClaim,
  type NewEvent,
  type SessionExpiry,
  type SessionRecord,
  type StoredEvent,
  type StoredState,
} from './event-log.js';
export type {
  ConnectionRelay,
  DeliveryOutcome,
  Fleet,
  FleetView,
  ForwardOutcome,
  LiveEvent,
  LiveFeed,
  NodeRegistry,
  NodeReport,
  PresenceGroup,
  PresenceQuery,
  PresenceStore,
  RelayedFrames,
  StoreHealth,
  Unsubscribe,
  WriteDurability,
} from './fleet.js';
export { createMemorySessionCaps, type HeldSession, type SessionCapName, type SessionCaps, type SessionCapVerdict, type SessionClaim, type SessionLimits } from './session-caps.js';
