// What the last join agreed with the gateway: its features and policy, the presence and health it
// reported, and what the client may use (acks, resync). Kept from one `hello_ok` (or legacy
// `joined`) to the next, for `info` and for the outbox's and resync's choices.
import type { Features, Health, HelloOkFrame, JoinedFrame, Policy, PresenceEntry } from '../protocol/index.js';

/** The terms of the last join; before the first, none (and resync is tried). */
export interface HandshakeTerms {
  readonly features: Features | null;
  readonly policy: Policy | null;
  readonly presence: readonly PresenceEntry[];
  readonly health: Health | null;
  /** The gateway acknowledges messages (the `ack` extension). */
  readonly acks: boolean;
  /** The gateway answers `resync` (or may: legacy gateways list no methods). */
  readonly resync: boolean;
}

/** The terms before any join. */
export const NO_TERMS: HandshakeTerms = { features: null, policy: null, presence: Object.freeze([]), health: null, acks: false, resync: true };

/** A JSON value and everything in it made read-only. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * The last value seen of one kind, shared by every client that is handed an equal one: the clients
 * of one gateway all get the same features and policy, so a thousand of them keep one copy
 * (bench/README.md, memory). A shared value is frozen, so no app can change another client's.
 */
class LastSeen<T> {
  private json = '';
  private value: T | null = null;

  share(value: T): T {
    const json = JSON.stringify(value);
    if (this.value === null || json !== this.json) {
      this.json = json;
      this.value = deepFreeze(value);
    }
    return this.value;
  }
}

const lastFeatures = new LastSeen<Features>();
const lastPolicy = new LastSeen<Policy>();

/** The terms a `hello_ok` or legacy `joined` sets. */
export function termsOf(frame: HelloOkFrame | JoinedFrame): HandshakeTerms {
  const features = frame.type === 'hello_ok' ? lastFeatures.share(frame.features) : null;
  const extensions = features?.extensions ?? [];
  return {
    features,
    policy: frame.policy === undefined ? null : lastPolicy.share(frame.policy),
    presence: (frame.type === 'hello_ok' ? frame.presence : undefined) ?? NO_TERMS.presence,
    health: frame.type === 'hello_ok' ? (frame.health ?? null) : null,
    acks: extensions.includes('ack'),
    // Legacy gateways list no methods; try, since their join path may answer resync.
    resync: features === null || features.methods.includes('resync') || extensions.includes('snapshot'),
  };
}
