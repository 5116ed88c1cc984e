// Validation of `createGatewayClient` options: a typed `invalid_options` error up front beats a
// confusing failure deep inside a reconnect loop.
import { gatewayUrlProblem } from './gateway-urls.js';
import { isValidRange, PRAISONAI_MARKER, SUPPORTED_PROTOCOL, type ProtocolRange } from '../protocol/index.js';
import { TRANSPORT_NAMES } from '../../machines/transport-fallback.js';
import { connectError } from './errors.js';
import type { ClientClock, GatewayClientOptions } from './types.js';

/** Capabilities announced by default: the Lifeline extensions this client uses. */
export const DEFAULT_CAPABILITIES: readonly string[] = Object.freeze(['ack', 'batch', 'epoch']);
/** Messages the outbox holds while offline or unacknowledged before `send()` rejects with `outbox_full`. @default 1000 */
export const DEFAULT_OUTBOX_MAX_MESSAGES = 1000;

/** The global timers, monotonic `performance.now()` and wall-clock `Date.now()`: the default `clock`. */
export const systemClock: ClientClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
  now: () => performance.now(),
  wallNow: () => Date.now(),
};

/** The longest delay `setTimeout` honours (2^31-1 ms); longer ones fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

function fail(message: string): never {
  throw connectError('invalid_options', message);
}

function checkNumber(name: string, value: unknown, min: number, max = Number.POSITIVE_INFINITY): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    fail(`${name} must be a number in ${min}..${max}; got ${String(value)}.`);
  }
}

function checkFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') fail(`${name} must be a function.`);
}

/** Names people reach for that mean one of ours. */
const TRANSPORT_ALIASES: Readonly<Record<string, string>> = {
  ws: 'websocket',
  wss: 'websocket',
  websockets: 'websocket',
  'web-socket': 'websocket',
  https: 'http',
  sse: 'http',
  eventsource: 'http',
  'http-streaming': 'http',
  polling: 'http',
  'long-polling': 'http',
};

/** `transports`: a non-empty list of known names, each once. */
function checkTransports(transports: unknown): void {
  if (transports === undefined) return;
  const known = `${TRANSPORT_NAMES.map((name) => `'${name}'`).join(' or ')}`;
  if (!Array.isArray(transports) || transports.length === 0) fail(`transports must be a non-empty array of ${known}; got ${JSON.stringify(transports)}.`);
  const seen = new Set<unknown>();
  for (const [i, name] of transports.entries()) {
    if (!(TRANSPORT_NAMES as readonly unknown[]).includes(name)) {
      const guess = typeof name === 'string' ? (TRANSPORT_ALIASES[name.toLowerCase()] ?? TRANSPORT_NAMES.find((n) => n === name.toLowerCase())) : undefined;
      fail(`transports[${i}] must be ${known}; got ${JSON.stringify(name)}${guess === undefined ? '' : `: did you mean '${guess}'?`}`);
    }
    if (seen.has(name)) fail(`transports lists '${String(name)}' twice; name each transport once, in order of preference.`);
    seen.add(name);
  }
}

/** A `resume` value must be what `checkpoint()` returned: a session id, a safe cursor, an epoch or null. */
function checkResume(resume: unknown): void {
  if (resume === undefined) return;
  if (typeof resume !== 'object' || resume === null) fail('resume must be the object checkpoint() returned.');
  const { sessionId, cursor, epoch } = resume as Record<string, unknown>;
  if (typeof sessionId !== 'string' || sessionId === '') fail('resume.sessionId must be a non-empty string.');
  if (typeof cursor !== 'number' || !Number.isSafeInteger(cursor) || cursor < 0) fail(`resume.cursor must be a safe integer >= 0; got ${String(cursor)}.`);
  if (epoch !== null && epoch !== undefined && typeof epoch !== 'string') fail('resume.epoch must be a string or null.');
}

/** Throw `invalid_options` (a `GatewayConnectError`) unless the options are usable. Returns the protocol range to offer. */
export function validateOptions(options: GatewayClientOptions): ProtocolRange {
  if (typeof options !== 'object' || options === null) fail('Options must be an object.');
  const urlProblemText = gatewayUrlProblem(options.url);
  if (urlProblemText !== null) fail(urlProblemText);
  if (typeof options.agentId !== 'string' || options.agentId === '') fail('agentId must be a non-empty string.');
  if (options.sessionId !== undefined && (typeof options.sessionId !== 'string' || options.sessionId === '')) fail('sessionId must be a non-empty string.');
  if (options.token !== undefined && typeof options.token !== 'string' && typeof options.token !== 'function') fail('token must be a string or a function returning one.');
  checkResume(options.resume);
  const protocol = options.protocol ?? SUPPORTED_PROTOCOL;
  if (!isValidRange(protocol)) fail(`protocol must be integers with 0 <= min <= max; got ${JSON.stringify(protocol)}.`);
  if (options.capabilities !== undefined && (!Array.isArray(options.capabilities) || options.capabilities.some((c) => typeof c !== 'string'))) {
    fail('capabilities must be an array of strings.');
  }
  // A gateway in `auto` dialect would answer it in PraisonAI's frames, which this client is not asking for.
  if (options.capabilities?.includes(PRAISONAI_MARKER) === true) {
    fail(`capabilities must not list "${PRAISONAI_MARKER}": it marks a PraisonAI client, and a Lifeline gateway would answer in PraisonAI's frames (PROTOCOL.md section 8). Leave it out; this client reads those frames from a PraisonAI gateway without it.`);
  }
  const reconnect = options.reconnect;
  if (reconnect !== undefined && reconnect !== false) {
    if (typeof reconnect !== 'object' || reconnect === null) fail('reconnect must be an object or false.');
    checkNumber('reconnect.initialDelayMs', reconnect.initialDelayMs, 0, MAX_TIMER_MS);
    checkNumber('reconnect.maxDelayMs', reconnect.maxDelayMs, 0, MAX_TIMER_MS);
    checkNumber('reconnect.probeWindowMs', reconnect.probeWindowMs, 0, MAX_TIMER_MS);
    // Timers overflow past 2^31-1 ms and would fire at once.
    checkNumber('reconnect.suspendAfterMs', reconnect.suspendAfterMs, 0, MAX_TIMER_MS);
    checkNumber('reconnect.suspendedMaxDelayMs', reconnect.suspendedMaxDelayMs, 0, MAX_TIMER_MS);
    checkNumber('reconnect.multiplier', reconnect.multiplier, 1);
    checkNumber('reconnect.jitter', reconnect.jitter, 0, 1);
    checkNumber('reconnect.maxAttempts', reconnect.maxAttempts, 0);
    checkNumber('reconnect.minUptimeMs', reconnect.minUptimeMs, 0, MAX_TIMER_MS);
  }
  checkNumber('handshakeTimeoutMs', options.handshakeTimeoutMs, 1, MAX_TIMER_MS);
  const connectTimeout = options.connectTimeoutMs;
  if (connectTimeout !== Number.POSITIVE_INFINITY) checkNumber('connectTimeoutMs', connectTimeout, 1, MAX_TIMER_MS);
  const maxBuffered = options.maxBufferedEvents;
  if (maxBuffered !== undefined && (!Number.isSafeInteger(maxBuffered) || maxBuffered < 1)) fail('maxBufferedEvents must be an integer >= 1.');
  if (options.outbox !== undefined) {
    const max = options.outbox.maxMessages;
    if (max !== undefined && (!Number.isInteger(max) || max < 1)) fail('outbox.maxMessages must be an integer >= 1.');
    const store: unknown = options.outbox.store;
    if (store !== undefined && !(typeof store === 'object' && store !== null && ['load', 'put', 'delete'].every((m) => typeof (store as Record<string, unknown>)[m] === 'function'))) {
      fail('outbox.store must have load, put and delete (see localStorageOutboxStore).');
    }
  }
  checkTransports(options.transports);
  checkFunction('WebSocket', options.WebSocket);
  // XState takes a function or an observer object (`@statelyai/inspect` hands out the latter).
  const inspect: unknown = options.inspect;
  if (inspect !== undefined && typeof inspect !== 'function' && !(typeof inspect === 'object' && inspect !== null && 'next' in inspect && typeof inspect.next === 'function')) {
    fail('inspect must be a function or an observer with next().');
  }
  checkFunction('random', options.random);
  const clock = options.clock;
  if (clock !== undefined && (typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function' || typeof clock.now !== 'function')) {
    fail('clock must have setTimeout, clearTimeout and now.');
  }
  if (clock?.wallNow !== undefined && typeof clock.wallNow !== 'function') fail('clock.wallNow must be a function.');
  return protocol;
}
