// Bounded waits for tests: resolve when a client reaches a state, delivers events or reports a
// gap, or when a condition holds; reject with a clear message after `timeoutMs`. Never a bare sleep.
import type { ClientState, GapInfo, GatewayClient, GatewayEvent } from '../../src/client/index.js';

/** Resolve with the value `subscribe` hands to `accept` once it returns true; reject after `timeoutMs`. */
function until<T>(
  label: string,
  timeoutMs: number,
  subscribe: (listener: (value: T) => void) => () => void,
  accept: (value: T) => boolean,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let unsubscribe: () => void = () => undefined;
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${label}`));
    }, timeoutMs);
    unsubscribe = subscribe((value) => {
      if (!accept(value)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    });
  });
}

/** Resolve once `check()` returns something other than `undefined`/`false`, polling every 5 ms. */
export async function waitFor<T>(check: () => T | undefined | false, timeoutMs = 2000, label = 'a condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolve once the async `check()` holds, polling every `everyMs`; reject after `timeoutMs`. */
export async function waitForAsync(check: () => Promise<boolean>, timeoutMs: number, label: string, everyMs = 10): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Resolve when the client is (or next becomes) `state`. */
export function waitForState(client: GatewayClient, state: ClientState, timeoutMs = 2000): Promise<ClientState> {
  if (client.state === state) return Promise.resolve(state);
  return until(`state "${state}" (now "${client.state}")`, timeoutMs, (l) => client.onState(l), (s) => s === state);
}

/** Resolve with the next gap the client reports. */
export function waitForGap(client: GatewayClient, timeoutMs = 2000): Promise<GapInfo> {
  return until('a gap', timeoutMs, (l) => client.onGap(l), () => true);
}

/** Collect every event delivered from now on into an array (returns it and an unsubscribe). */
export function recordEvents(client: GatewayClient): { events: GatewayEvent[]; stop: () => void } {
  const events: GatewayEvent[] = [];
  const stop = client.onEvent((event) => events.push(event));
  return { events, stop };
}

/** Resolve once `events` holds at least `count` entries. */
export function waitForCount<T>(items: readonly T[], count: number, timeoutMs = 2000): Promise<readonly T[]> {
  return waitFor(() => items.length >= count && items, timeoutMs, `${count} items (have ${items.length})`);
}

/** `promise`, or a clear error after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
