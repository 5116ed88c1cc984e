// Bounded waits for tests. `waitFor` (a condition, or a client's state or signal) is the testing
// entry's; the helpers here are for the suite's own use. Never a bare sleep.
import type { ClientState, GapInfo, GatewayClient, GatewayEvent } from '../../src/client/index.js';
import { waitFor } from '../../src/testing/index.js';

export { waitFor };

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
  return waitFor(client, state, timeoutMs);
}

/** Resolve with the next gap the client reports. */
export function waitForGap(client: GatewayClient, timeoutMs = 2000): Promise<GapInfo> {
  return waitFor(client, 'gap', timeoutMs);
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
