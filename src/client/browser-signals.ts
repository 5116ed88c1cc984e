// Browser hints the chart reacts to: `online`/`offline` and the page becoming visible again.
// Node has none of these globals, so every access is guarded and the watcher is then a no-op.
import type { CallbackLogicFunction, EventObject } from 'xstate';
import type { BrowserSignalsInput } from '../../machines/actor-contracts.js';
import type { GatewayMachineEvent } from '../../machines/gateway-machine.js';

interface BrowserGlobals {
  addEventListener?: (type: string, listener: () => void) => void;
  removeEventListener?: (type: string, listener: () => void) => void;
  navigator?: { onLine?: unknown };
  document?: {
    visibilityState?: string;
    addEventListener?: (type: string, listener: () => void) => void;
    removeEventListener?: (type: string, listener: () => void) => void;
  };
}

const browser = globalThis as BrowserGlobals;

/** `navigator.onLine` where it exists; true elsewhere (Node has no notion of it). */
export function isOnline(): boolean {
  const online = browser.navigator?.onLine;
  return typeof online === 'boolean' ? online : true;
}

/**
 * Whether this runtime has any of the signals (Node has none). Read when the client starts, so a
 * page's globals, or a test's shim, installed after this module loaded still count.
 */
export function hasBrowserSignals(): boolean {
  return typeof browser.addEventListener === 'function' || typeof browser.document?.addEventListener === 'function' || typeof browser.navigator?.onLine === 'boolean';
}

/** Forward browser signals as chart events. Returns the cleanup. */
export function watchBrowserSignals(send: (event: GatewayMachineEvent) => void): () => void {
  const cleanups: Array<() => void> = [];
  const { addEventListener, removeEventListener, document } = browser;
  if (typeof addEventListener === 'function' && typeof removeEventListener === 'function') {
    const online = () => send({ type: 'network.online' });
    const offline = () => send({ type: 'network.offline' });
    addEventListener.call(globalThis, 'online', online);
    addEventListener.call(globalThis, 'offline', offline);
    cleanups.push(() => {
      removeEventListener.call(globalThis, 'online', online);
      removeEventListener.call(globalThis, 'offline', offline);
    });
  }
  if (document && typeof document.addEventListener === 'function' && typeof document.removeEventListener === 'function') {
    const visibility = () => {
      if (document.visibilityState === 'visible') send({ type: 'page.visible' });
    };
    document.addEventListener('visibilitychange', visibility);
    const remove = document.removeEventListener.bind(document);
    cleanups.push(() => remove('visibilitychange', visibility));
  }
  return () => {
    for (const cleanup of cleanups) cleanup();
  };
}

type SignalsCallback = CallbackLogicFunction<EventObject, GatewayMachineEvent, BrowserSignalsInput>;

/**
 * The body of the chart's `browserSignals` actor (see `client-machine.ts`): it runs while the
 * client is not stopped. Signals were not watched meanwhile, so it first reports a change of
 * `navigator.onLine`: an offline start waits in `reconnecting.offline` instead of burning attempts.
 */
export function runBrowserSignals({ input, sendBack }: Parameters<SignalsCallback>[0]): ReturnType<SignalsCallback> {
  const online = isOnline();
  if (online !== input.online) sendBack({ type: online ? 'network.online' : 'network.offline' });
  return watchBrowserSignals(sendBack);
}
