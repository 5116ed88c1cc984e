// The client configurations the model traverses, shared by the model test and the vector export.
import type { Profile } from './paths.js';
import { TIMING } from './world.js';

const fast = {
  initialDelayMs: TIMING.initialDelayMs,
  maxDelayMs: TIMING.maxDelayMs,
  probeWindowMs: TIMING.probeWindowMs,
  minUptimeMs: TIMING.minUptimeMs,
  suspendAfterMs: TIMING.suspendAfterMs,
  suspendedMaxDelayMs: TIMING.suspendedMaxDelayMs,
} as const;
/**
 * `maxAttempts: 1` keeps the state space small and still reaches every "retries exhausted" branch.
 * The model world's gateway is reached over WebSocket only (its refusals and faults are WebSocket
 * ones), so the client keeps to it; the HTTP fallback has its own tests (test/client/http-*.test.ts).
 */
const transports = ['websocket'] as const;
export const MODEL_PROFILES: readonly Profile[] = [
  // A token function: every auth refusal first takes the one fresh-token retry, then stops.
  { name: 'retry', input: { reconnect: { ...fast, maxAttempts: 1 }, handshakeTimeoutMs: TIMING.handshakeTimeoutMs, random: () => TIMING.random, refreshableToken: true, transports } },
  { name: 'no-retry', input: { reconnect: false, handshakeTimeoutMs: TIMING.handshakeTimeoutMs, random: () => TIMING.random, transports } },
];
