// Node has no `online`/`offline`/`visibilitychange`. This installs the few globals the client's
// browser-signals module looks for, so the model fires real DOM-style events at the real client
// (through its own listeners) instead of sending chart events behind its back.
type Listener = () => void;

export interface BrowserShim {
  /**
   * Fire `online`, `offline`, or `visibilitychange` with the page visible. Like a browser,
   * `navigator.onLine` changes with the online/offline events.
   */
  fire(signal: 'online' | 'offline' | 'visible'): void;
  /** Change `navigator.onLine` without an event (the network changed while nobody listened). */
  setOnline(online: boolean): void;
  /** Listeners the client registered (0 when it is not watching). */
  readonly listeners: number;
  uninstall(): void;
}

interface ShimGlobals {
  addEventListener?: unknown;
  removeEventListener?: unknown;
  document?: unknown;
  navigator?: unknown;
}

/** Install the shim on `globalThis`. Call `uninstall` when done. */
export function installBrowserShim(): BrowserShim {
  const target = new Map<string, Set<Listener>>();
  const add = (type: string, listener: Listener): void => {
    const set = target.get(type) ?? new Set<Listener>();
    set.add(listener);
    target.set(type, set);
  };
  const remove = (type: string, listener: Listener): void => void target.get(type)?.delete(listener);
  const g = globalThis as ShimGlobals;
  const saved = { addEventListener: g.addEventListener, removeEventListener: g.removeEventListener, document: g.document };
  // Node 21+ defines a read-only navigator; redefine it rather than assign.
  const savedNavigator = Object.getOwnPropertyDescriptor(g, 'navigator');
  const network = { onLine: true };
  Object.defineProperty(g, 'navigator', { value: network, configurable: true, writable: true });
  g.addEventListener = add;
  g.removeEventListener = remove;
  g.document = { visibilityState: 'visible', addEventListener: add, removeEventListener: remove };
  const emit = (type: string): void => {
    for (const listener of [...(target.get(type) ?? [])]) listener();
  };
  return {
    fire(signal) {
      if (signal !== 'visible') network.onLine = signal === 'online';
      emit(signal === 'visible' ? 'visibilitychange' : signal);
    },
    setOnline(online) {
      network.onLine = online;
    },
    get listeners() {
      let n = 0;
      for (const set of target.values()) n += set.size;
      return n;
    },
    uninstall() {
      g.addEventListener = saved.addEventListener;
      g.removeEventListener = saved.removeEventListener;
      g.document = saved.document;
      if (savedNavigator) Object.defineProperty(g, 'navigator', savedNavigator);
      else delete g.navigator;
    },
  };
}
