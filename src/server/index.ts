// lifeline/server: the reference gateway. Imports the protocol, never the client.
export { createGateway, type Gateway, type GatewayStats, type PublishEvent } from './gateway.js';
export type { FanoutStats } from './fanout.js';
export { systemClock, type GatewayClock, type TimerHandle } from './clock.js';
export { createMemoryLog, newEpoch, type MemoryLogOptions } from './memory-log.js';
export { attachDemoAgent, DEMO_EVENT_TYPES, DEMO_TICK_TYPE, type DemoAgentOptions } from './demo-agent.js';
export type { AppendOptions, AppendResult, Awaitable, EventLog, LogErrorCode, LogPosition, NewEvent, SessionRecord, StoredEvent, StoredState } from './event-log.js';
export { LogError } from './event-log.js';
export { createRedisLog, type DataClient, type Durability, type RedisLog, type RedisLogOptions } from './redis/redis-log.js';
export { createRedisSessionCaps, sessionCapKeys, SESSION_CAP_SCRIPTS, type RedisCall, type RedisSessionCaps, type RedisSessionCapsOptions, type SessionCapsClient } from './redis/session-caps.js';
export { GatewayError, type GatewayErrorCode, type GatewayOptions, type TokenVerifier, type TokenVerdict, type VerifyContext } from './options.js';
export type { GatewayCounters, GatewaySession, MessageHandler } from './context.js';
export type { SessionSummary } from './session-registry.js';
export { createMemorySessionCaps, type HeldSession, type SessionCapName, type SessionCaps, type SessionCapVerdict, type SessionClaim, type SessionLimits } from './session-caps.js';
export type { RateLimit } from './rate-limiter.js';
export { SOCKET_OPEN, type GatewaySocket, type GatewayTransport, type SocketData, type UpgradeInfo } from './transport.js';
export { GATEWAY_DIALECTS, type GatewayDialect } from './dialects/choose.js';
export { isPraisonAIHello, praisonAIEventFrame, PRAISONAI_CAPABILITY } from './dialects/praisonai.js';
export { planResume, type ResumePlan, type ResumeRequest } from './resume-plan.js';
