// The bounded outbox: every message stays here, under its id, until the gateway acknowledges it,
// so a reconnect resends it with the same id and the gateway applies it exactly once. A message is
// encoded once, when sent, and measured in UTF-8 bytes of its whole frame against the gateway's
// `policy.max_payload`: one the gateway could never take is refused at once, never queued, so it
// cannot block or loop the messages behind it.
import { encodeClientFrame } from '../protocol/index.js';
import { utf8Length } from '../protocol/codec.js';
import { connectError, type GatewayConnectError } from './errors.js';
import type { OutboxStore } from './outbox-store.js';
import type { SendResult } from './types.js';

/** One encoded `message` frame, ready for the socket. */
export interface OutboundMessage {
  readonly id: string;
  /** The frame as sent: `{"type":"message","id":…,"content":…}`. */
  readonly text: string;
}

/** One outgoing message. */
interface Entry extends OutboundMessage {
  /** UTF-8 bytes of `text`. */
  readonly bytes: number;
  /** The flush (connection) it was last written in; 0 before its first write. */
  written: number;
  readonly resolve: (result: SendResult) => void;
  readonly reject: (error: GatewayConnectError) => void;
}

type Write = (message: OutboundMessage) => boolean;

/** A bounded, ordered store of messages awaiting acknowledgement. */
export interface Outbox {
  /** Messages queued or awaiting their ack. */
  readonly size: number;
  /** Stored messages beyond `maxMessages` found at creation: dropped from the store, never sent. */
  readonly droppedOnLoad: number;
  /**
   * Add a message. Rejects at once (id `''`, nothing queued) with `outbox_full` when `maxMessages`
   * are pending (dropping silently would break exactly-once, blocking would hide the backlog), with
   * `invalid_message` when the content cannot be encoded as JSON, and with `payload_too_large` when
   * its frame is over `maxBytes` (the negotiated `policy.max_payload`, when known).
   */
  add(content: unknown, maxBytes?: number): { readonly id: string; readonly done: Promise<SendResult> };
  /**
   * Write every pending message, oldest first. With `acks` false (a gateway without the `ack`
   * extension) a message is done once written; otherwise it waits for {@link Outbox.ack}. A
   * message over `maxBytes` (queued before the limit was known) is refused with
   * `payload_too_large` and removed. Stops at the first failed write; the rest stay for the next flush.
   */
  flush(write: Write, acks: boolean, maxBytes?: number): void;
  /** Write one message now (it was just added while joined). */
  writeOne(id: string, write: Write, acks: boolean): void;
  ack(id: string, duplicate: boolean): void;
  /** The gateway refused this message (e.g. `payload_too_large`): reject it and never resend it. */
  fail(id: string, error: GatewayConnectError): void;
  /**
   * The connection closed with "message too big" (1009, or 4009) although no limit was announced
   * (or one was exceeded anyway): the largest message written on that connection and not yet
   * acknowledged is the one it could not take. Reject it with `payload_too_large` and refuse any
   * message at least that big from now on, so a rejoin does not send it again and again.
   * Returns the learned limit, or undefined when no written message was pending.
   */
  refuseLargestInFlight(closeCode: number): number | undefined;
  /** Reject everything (user disconnect, terminal stop). */
  rejectAll(error: GatewayConnectError): void;
}

let fallbackCounter = 0;

/** A message id: a random UUID where available (browsers in secure contexts, Node), else a counter. */
export function newMessageId(): string {
  const uuid = globalThis.crypto?.randomUUID?.();
  return uuid ?? `m-${Date.now().toString(36)}-${(fallbackCounter++).toString(36)}`;
}

/** The `payload_too_large` refusal of a message the client will not send. */
export function tooLarge(bytes: number, maxBytes: number): GatewayConnectError {
  return connectError(
    'payload_too_large',
    `The message frame is ${bytes} bytes (UTF-8) and the gateway accepts at most ${maxBytes} (policy.max_payload). It was not sent; send less or split it.`,
  );
}

function refused(error: GatewayConnectError): { id: string; done: Promise<SendResult> } {
  return { id: '', done: Promise.reject(error) };
}

function encode(id: string, content: unknown): string | GatewayConnectError {
  try {
    return encodeClientFrame({ type: 'message', id, content });
  } catch (cause) {
    // A cycle or a BigInt: refusing here beats a throw inside a later flush on the socket path.
    const why = cause instanceof Error ? cause.message : String(cause);
    return connectError('invalid_message', `The message content cannot be encoded as JSON: ${why}`, {}, cause);
  }
}

// A class whose Map is made with the first message: most clients send rarely or never, and an
// idle one holds no Map (bench/README.md, memory).
class MessageOutbox implements Outbox {
  // A Map keeps insertion order, so flush resends oldest first.
  private pending: Map<string, Entry> | null = null;
  droppedOnLoad = 0;
  // Flushes so far: one per connection, so `written === flushes` means "sent on this one".
  private flushes = 0;
  // The largest frame the gateway took less than, learned from a 1009 close; unknown: Infinity.
  private learnedMax = Number.POSITIVE_INFINITY;

  constructor(
    private readonly maxMessages: number,
    private readonly makeId: () => string,
    private readonly store: OutboxStore | undefined,
  ) {
    for (const message of store?.load() ?? []) {
      const text = this.size < maxMessages ? encode(message.id, message.content) : null;
      if (typeof text === 'string') this.entries().set(message.id, { id: message.id, text, bytes: utf8Length(text), written: 0, resolve: ignore, reject: ignore });
      else {
        this.droppedOnLoad++;
        store?.delete(message.id);
      }
    }
  }

  get size(): number {
    return this.pending?.size ?? 0;
  }

  add(content: unknown, announced = Number.POSITIVE_INFINITY): { readonly id: string; readonly done: Promise<SendResult> } {
    const maxBytes = Math.min(announced, this.learnedMax);
    if (this.size >= this.maxMessages) {
      return refused(connectError('outbox_full', `The outbox holds ${this.maxMessages} unacknowledged messages; wait for the connection or raise outbox.maxMessages.`));
    }
    const id = this.makeId();
    const text = encode(id, content);
    if (typeof text !== 'string') return refused(text);
    const bytes = utf8Length(text);
    if (bytes > maxBytes) return refused(tooLarge(bytes, maxBytes));
    try {
      this.store?.put({ id, content });
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return refused(connectError('outbox_store_failed', `The outbox store could not keep this message (${why}); it was not sent.`, { nextStep: 'do_not_retry' }, error));
    }
    const pending = this.entries();
    const done = new Promise<SendResult>((resolve, reject) => {
      pending.set(id, { id, text, bytes, written: 0, resolve, reject });
    });
    return { id, done };
  }

  flush(write: Write, acks: boolean, announced = Number.POSITIVE_INFINITY): void {
    this.flushes++;
    if (this.pending === null) return;
    const maxBytes = Math.min(announced, this.learnedMax);
    for (const entry of [...this.pending.values()]) {
      if (entry.bytes > maxBytes) this.fail(entry.id, tooLarge(entry.bytes, maxBytes));
      else if (!this.writeEntry(entry, write, acks)) return;
    }
  }

  writeOne(id: string, write: Write, acks: boolean): void {
    const entry = this.pending?.get(id);
    if (entry) this.writeEntry(entry, write, acks);
  }

  ack(id: string, duplicate: boolean): void {
    this.take(id)?.resolve({ id, duplicate, acknowledged: true });
  }

  fail(id: string, error: GatewayConnectError): void {
    this.take(id)?.reject(error);
  }

  refuseLargestInFlight(closeCode: number): number | undefined {
    let largest: Entry | undefined;
    for (const entry of this.pending?.values() ?? []) {
      if (entry.written === this.flushes && this.flushes > 0 && (!largest || entry.bytes > largest.bytes)) largest = entry;
    }
    if (!largest) return undefined;
    this.learnedMax = Math.min(this.learnedMax, largest.bytes - 1);
    this.fail(
      largest.id,
      connectError(
        'payload_too_large',
        `The gateway closed the connection (${closeCode}: message too big) after this ${largest.bytes}-byte message frame, so it takes less than that; it was not sent again, and bigger messages are refused from now on. Send less or split it.`,
        { closeCode },
      ),
    );
    return this.learnedMax;
  }

  rejectAll(error: GatewayConnectError): void {
    // The app hears about each of these, so none is kept for a later run either.
    for (const id of [...(this.pending?.keys() ?? [])]) this.take(id)?.reject(error);
  }

  private entries(): Map<string, Entry> {
    return (this.pending ??= new Map());
  }

  private take(id: string): Entry | undefined {
    const entry = this.pending?.get(id);
    if (!entry) return undefined;
    this.pending?.delete(id);
    this.store?.delete(id);
    return entry;
  }

  private writeEntry(entry: Entry, write: Write, acks: boolean): boolean {
    if (!write(entry)) return false;
    entry.written = this.flushes;
    if (!acks) this.take(entry.id)?.resolve({ id: entry.id, duplicate: false, acknowledged: false });
    return true;
  }
}

const ignore = (): void => undefined;

/**
 * Create an outbox holding at most `maxMessages`. With a `store`, every message is kept there
 * until it is settled, and messages an earlier run left are restored (their `send()` promises
 * belonged to that run, so nobody awaits them here) and go out with the next flush.
 */
export function createOutbox(maxMessages: number, makeId: () => string = newMessageId, store?: OutboxStore): Outbox {
  return new MessageOutbox(maxMessages, makeId, store);
}
