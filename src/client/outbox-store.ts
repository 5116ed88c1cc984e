// Where unacknowledged sends outlive the process or the page: an interface the outbox writes
// through, with an in-memory and a `localStorage` implementation. Synchronous on purpose, so a
// message is stored before `send()` returns and a crash right after it loses nothing.

/** One unacknowledged message, as stored. `content` must survive `JSON.stringify` for `localStorage`. */
export interface StoredMessage {
  readonly id: string;
  readonly content: unknown;
}

/**
 * Keeps the outbox's unacknowledged messages across a restart. The client calls `put` when a
 * message is added, `delete` when it is acknowledged, refused or rejected, and `load` once at
 * creation: what it returns is resent (same ids, so the gateway applies each once) on the next join.
 */
export interface OutboxStore {
  /** Messages an earlier run left unacknowledged, oldest first. */
  load(): readonly StoredMessage[];
  /** Keep one message; may throw (quota, unserialisable content): that `send()` then rejects. */
  put(message: StoredMessage): void;
  delete(id: string): void;
}

/** An in-memory store: survives a client being recreated in the same process, not a restart. */
export function memoryOutboxStore(): OutboxStore {
  const messages = new Map<string, StoredMessage>();
  return {
    load: () => [...messages.values()],
    put: (message) => void messages.set(message.id, message),
    delete: (id) => void messages.delete(id),
  };
}

/** The part of the Web Storage API the store uses; `window.localStorage` fits. */
export interface StorageLike {
  readonly length: number;
  key(index: number): string | null;
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Options of {@link localStorageOutboxStore}. */
export interface LocalStorageOutboxOptions {
  /** Prefix of the keys, one per message; use one per client (e.g. per agent). @default 'lifeline.outbox:' */
  readonly prefix?: string;
  /** The storage. @default globalThis.localStorage */
  readonly storage?: StorageLike;
}

/**
 * A store in `localStorage` (or any {@link StorageLike}): one key per message, so an ack is one
 * `removeItem`, never a rewrite of the whole outbox. Throws at creation where no storage exists.
 */
export function localStorageOutboxStore(options: LocalStorageOutboxOptions = {}): OutboxStore {
  const prefix = options.prefix ?? 'lifeline.outbox:';
  const storage = options.storage ?? (globalThis as { localStorage?: StorageLike }).localStorage;
  if (storage === undefined) throw new TypeError('localStorageOutboxStore: no localStorage here; pass options.storage.');
  // Keys are unordered: each entry carries its position, and new ones go after the last loaded.
  let next = 0;
  return {
    load() {
      const found: Array<{ order: number; message: StoredMessage }> = [];
      for (let i = 0; i < storage.length; i++) {
        const key = storage.key(i);
        if (key === null || !key.startsWith(prefix)) continue;
        const parsed = parseEntry(storage.getItem(key));
        if (parsed === null) storage.removeItem(key);
        else found.push({ order: parsed.order, message: { id: key.slice(prefix.length), content: parsed.content } });
      }
      found.sort((a, b) => a.order - b.order);
      next = found.reduce((max, entry) => Math.max(max, entry.order + 1), next);
      return found.map((entry) => entry.message);
    },
    put(message) {
      storage.setItem(prefix + message.id, JSON.stringify({ order: next, content: message.content }));
      next++;
    },
    delete(id) {
      storage.removeItem(prefix + id);
    },
  };
}

/** A stored entry, or null for anything unreadable (another app's key, a truncated write). */
function parseEntry(text: string | null): { order: number; content: unknown } | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || !('order' in value) || typeof value.order !== 'number') return null;
    return { order: value.order, content: 'content' in value ? value.content : undefined };
  } catch {
    return null;
  }
}
