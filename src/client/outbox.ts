// The bounded outbox: every message stays here, under its id, until the gateway acknowledges it,
// so a reconnect resends it with the same id and the gateway applies it exactly once.
import { connectError, type GatewayConnectError } from './errors.js';
import type { SendResult } from './types.js';

/** One outgoing message. */
interface Entry {
  readonly id: string;
  readonly content: unknown;
  readonly resolve: (result: SendResult) => void;
  readonly reject: (error: GatewayConnectError) => void;
}

/** A bounded, ordered store of messages awaiting acknowledgement. */
export interface Outbox {
  /** Messages queued or awaiting their ack. */
  readonly size: number;
  /**
   * Add a message. Rejects at once with `outbox_full` when `maxMessages` are pending: dropping
   * silently would break exactly-once, and blocking would hide the backlog from the app.
   */
  add(content: unknown): { readonly id: string; readonly done: Promise<SendResult> };
  /**
   * Write every pending message, oldest first. With `acks` false (a gateway without the `ack`
   * extension) a message is done once written; otherwise it waits for {@link Outbox.ack}.
   * Stops at the first failed write; the rest stay for the next flush.
   */
  flush(write: (frame: { type: 'message'; id: string; content: unknown }) => boolean, acks: boolean): void;
  /** Write one message now (it was just added while joined). */
  writeOne(id: string, write: (frame: { type: 'message'; id: string; content: unknown }) => boolean, acks: boolean): void;
  ack(id: string, duplicate: boolean): void;
  fail(id: string, error: GatewayConnectError): void;
  /** Reject everything (user disconnect, terminal stop). */
  rejectAll(error: GatewayConnectError): void;
}

let fallbackCounter = 0;

/** A message id: a random UUID where available (browsers in secure contexts, Node), else a counter. */
export function newMessageId(): string {
  const uuid = globalThis.crypto?.randomUUID?.();
  return uuid ?? `m-${Date.now().toString(36)}-${(fallbackCounter++).toString(36)}`;
}

/** Create an outbox holding at most `maxMessages`. */
export function createOutbox(maxMessages: number, makeId: () => string = newMessageId): Outbox {
  // A Map keeps insertion order, so flush resends oldest first.
  const pending = new Map<string, Entry>();

  function settle(id: string, result: SendResult): void {
    const entry = pending.get(id);
    if (!entry) return;
    pending.delete(id);
    entry.resolve(result);
  }

  function writeEntry(entry: Entry, write: Parameters<Outbox['flush']>[0], acks: boolean): boolean {
    if (!write({ type: 'message', id: entry.id, content: entry.content })) return false;
    if (!acks) settle(entry.id, { id: entry.id, duplicate: false, acknowledged: false });
    return true;
  }

  return {
    get size() {
      return pending.size;
    },
    add(content) {
      if (pending.size >= maxMessages) {
        return {
          id: '',
          done: Promise.reject(connectError('outbox_full', `The outbox holds ${maxMessages} unacknowledged messages; wait for the connection or raise outbox.maxMessages.`)),
        };
      }
      const id = makeId();
      const done = new Promise<SendResult>((resolve, reject) => {
        pending.set(id, { id, content, resolve, reject });
      });
      return { id, done };
    },
    flush(write, acks) {
      for (const entry of [...pending.values()]) if (!writeEntry(entry, write, acks)) return;
    },
    writeOne(id, write, acks) {
      const entry = pending.get(id);
      if (entry) writeEntry(entry, write, acks);
    },
    ack(id, duplicate) {
      settle(id, { id, duplicate, acknowledged: true });
    },
    fail(id, error) {
      const entry = pending.get(id);
      if (!entry) return;
      pending.delete(id);
      entry.reject(error);
    },
    rejectAll(error) {
      const entries = [...pending.values()];
      pending.clear();
      for (const entry of entries) entry.reject(error);
    },
  };
}
