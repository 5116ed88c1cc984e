// Bounded waits for tests: until a client reaches a state or reports an event, or until a
// condition holds. Each rejects with a WaitTimeoutError that says what it waited for and what it
// saw instead, so a failing test reads as a sentence rather than as a hung run. Never a bare sleep.
import type { ClientState, GapInfo, GatewayClient, GatewayConnectError, GatewayEvent, SessionSnapshot } from '../client/index.js';

/** What a client reports, by the name {@link waitFor} takes, and the value it resolves with. */
export interface ClientSignals {
  /** The next event delivered (`onEvent`). */
  readonly event: GatewayEvent;
  /** The next gap reported (`onGap`). */
  readonly gap: GapInfo;
  /** The next error or notice (`onError`), such as a failed attempt. */
  readonly error: GatewayConnectError;
  /** The next snapshot (`onSnapshot`). */
  readonly snapshot: SessionSnapshot;
}

/** A client state, or the name of a signal in {@link ClientSignals}. */
export type WaitTarget = ClientState | keyof ClientSignals;

/** The wait's default budget. @default 2000 ms */
export const DEFAULT_WAIT_MS = 2000;

/** A bounded wait ran out: `code` is `wait_timeout`, `message` names the target and what was seen instead. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
  readonly code = 'wait_timeout';
  readonly nextStep = 'Check that the fault or event the test waits for happens, or give the wait a larger budget.';

  constructor(
    message: string,
    /** What was awaited: a state, a signal name, or a condition's label. */
    readonly target: string,
    readonly timeoutMs: number,
  ) {
    super(message);
  }
}

const SIGNALS: { readonly [K in keyof ClientSignals]: (client: GatewayClient, listener: (value: ClientSignals[K]) => void) => () => void } = {
  event: (client, listener) => client.onEvent(listener),
  gap: (client, listener) => client.onGap(listener),
  error: (client, listener) => client.onError(listener),
  snapshot: (client, listener) => client.onSnapshot(listener),
};

function isSignal(target: WaitTarget): target is keyof ClientSignals {
  return Object.hasOwn(SIGNALS, target);
}

/** Resolve with the first value `subscribe` hands over that `accept` takes; reject after `timeoutMs`. */
function until<T>(target: string, timeoutMs: number, describe: () => string, subscribe: (listener: (value: T) => void) => () => void, accept: (value: T) => boolean): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let unsubscribe: () => void = () => undefined;
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new WaitTimeoutError(`Timed out after ${timeoutMs} ms waiting for ${describe()}`, target, timeoutMs));
    }, timeoutMs);
    unsubscribe = subscribe((value) => {
      if (!accept(value)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    });
  });
}

/**
 * Resolve when `client` is in `state`: at once if it is there now, else when it next gets there.
 * @param timeoutMs budget, after which it rejects with {@link WaitTimeoutError}. @default 2000
 * @example await waitFor(client, 'reconnecting', 1000);
 */
export function waitFor<S extends ClientState>(client: GatewayClient, state: S, timeoutMs?: number): Promise<S>;
/**
 * Resolve with the next `event`, `gap`, `error` or `snapshot` the client reports from now on.
 * @param timeoutMs budget, after which it rejects with {@link WaitTimeoutError}. @default 2000
 * @example const gap = await waitFor(client, 'gap', 3000);
 */
export function waitFor<K extends keyof ClientSignals>(client: GatewayClient, signal: K, timeoutMs?: number): Promise<ClientSignals[K]>;
/**
 * Resolve with what `check()` returns once it is neither `undefined`, `null` nor `false`, checking
 * now and then every 5 ms (for conditions no listener announces, such as an app's own state).
 * @param timeoutMs budget, after which it rejects with {@link WaitTimeoutError}. @default 2000
 * @param label what the condition means, for the timeout's message. @default 'a condition'
 * @example await waitFor(() => app.messages.length === 3, 2000, 'three messages on screen');
 */
export function waitFor<T>(check: () => T | undefined | null | false, timeoutMs?: number, label?: string): Promise<T>;
export function waitFor(
  subject: GatewayClient | (() => unknown),
  targetOrTimeout?: WaitTarget | number,
  timeoutOrLabel?: number | string,
): Promise<unknown> {
  if (typeof subject === 'function') {
    const timeoutMs = typeof targetOrTimeout === 'number' ? targetOrTimeout : DEFAULT_WAIT_MS;
    return poll(subject, timeoutMs, typeof timeoutOrLabel === 'string' ? timeoutOrLabel : 'a condition');
  }
  if (typeof targetOrTimeout !== 'string') return Promise.reject(new TypeError('waitFor(client, target, timeoutMs): name a client state or one of event, gap, error, snapshot.'));
  const target = targetOrTimeout;
  const timeoutMs = typeof timeoutOrLabel === 'number' ? timeoutOrLabel : DEFAULT_WAIT_MS;
  const client = subject;
  if (isSignal(target)) {
    const subscribe = SIGNALS[target] as (client: GatewayClient, listener: (value: unknown) => void) => () => void;
    return until(target, timeoutMs, () => `the client's next ${target} (state "${client.state}")`, (listener) => subscribe(client, listener), () => true);
  }
  if (client.state === target) return Promise.resolve(target);
  return until(target, timeoutMs, () => `state "${target}" (now "${client.state}")`, (listener) => client.onState(listener), (state) => state === target);
}

/** Check `check()` now and every 5 ms until it yields a value; reject after `timeoutMs` (monotonic). */
async function poll(check: () => unknown, timeoutMs: number, label: string): Promise<unknown> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (performance.now() > deadline) throw new WaitTimeoutError(`Timed out after ${timeoutMs} ms waiting for ${label}`, label, timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
