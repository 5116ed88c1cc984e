// Node has no `online`/`offline`/`visibilitychange`. This installs the few globals the client's
// browser-signals module looks for, so the model fires real DOM-style events at the real client
// (through its own listeners) instead of sending chart events behind its back.
type Listener = () => void;

export interface BrowserShim {
  /** Fire `online`, `offline`, or `visibilitychange` with the page visible. */
  fire(signal: 'online' | 'offline' | 'visible'): void;
  /** Listeners the client registered (0 when it is not watching). */
  readonly listeners: number;
  uninstall(): void;
}

interface ShimGlobals {
  addEventListener?: unknown;
  removeEventListener?: unknown;
  document?: unknown;
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
  g.addEventListener = add;
  g.removeEventListener = remove;
  g.document = { visibilityState: 'visible', addEventListener: add, removeEventListener: remove };
  const emit = (type: string): void => {
    for (const listener of [...(target.get(type) ?? [])]) listener();
  };
  return {
    fire(signal) {
      emit(signal === 'visible' ? 'visibilitychange' : signal);
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
    },
  };
}
