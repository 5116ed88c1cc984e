// Protocol versions and the pure negotiation rule shared by every client and gateway.
// v1: one frame per event. v2: adds `batch` frames for replay and bursts.
import type { RecoveryStep } from './errors.js';

/** The newest protocol version this package speaks. */
export const PROTOCOL_VERSION = 2;
/** The oldest protocol version this package still speaks. */
export const MIN_PROTOCOL_VERSION = 1;

/** An inclusive range of protocol versions, as sent in `hello` and configured on a gateway. */
export interface ProtocolRange {
  readonly min: number;
  readonly max: number;
}

/** The range this package supports by default: `MIN_PROTOCOL_VERSION..PROTOCOL_VERSION`. */
export const SUPPORTED_PROTOCOL: ProtocolRange = Object.freeze({
  min: MIN_PROTOCOL_VERSION,
  max: PROTOCOL_VERSION,
});

/** The outcome of {@link negotiate}: the agreed version, or a typed refusal. */
export type Negotiation =
  | { readonly ok: true; readonly version: number }
  | {
      readonly ok: false;
      readonly code: 'protocol_unsupported';
      /** Why no version was agreed. */
      readonly reason: 'client_too_old' | 'client_too_new' | 'invalid_range';
      readonly next_step: Extract<RecoveryStep, 'upgrade_client' | 'downgrade_client' | 'do_not_retry'>;
      readonly message: string;
    };

/** True when `range` holds two integers with `min <= max`. */
export function isValidRange(range: ProtocolRange): boolean {
  return Number.isInteger(range.min) && Number.isInteger(range.max) && range.min >= 0 && range.min <= range.max;
}

/**
 * Pick the highest version both peers speak.
 *
 * A client whose whole range lies below the server's must upgrade; one whose whole range lies
 * above must downgrade (or wait for the gateway to be upgraded). An inverted or non-integer
 * range is a client bug, so retrying cannot help.
 */
export function negotiate(client: ProtocolRange, server: ProtocolRange): Negotiation {
  if (!isValidRange(client)) {
    return {
      ok: false,
      code: 'protocol_unsupported',
      reason: 'invalid_range',
      next_step: 'do_not_retry',
      message: `Invalid protocol range ${String(client.min)}..${String(client.max)}: min and max must be integers with min <= max.`,
    };
  }
  if (client.max < server.min) {
    return {
      ok: false,
      code: 'protocol_unsupported',
      reason: 'client_too_old',
      next_step: 'upgrade_client',
      message: `Client speaks protocol ${client.min}..${client.max}; this gateway needs ${server.min}..${server.max}. Upgrade the client.`,
    };
  }
  if (client.min > server.max) {
    return {
      ok: false,
      code: 'protocol_unsupported',
      reason: 'client_too_new',
      next_step: 'downgrade_client',
      message: `Client speaks protocol ${client.min}..${client.max}; this gateway supports up to ${server.max}. Use an older client or upgrade the gateway.`,
    };
  }
  return { ok: true, version: Math.min(client.max, server.max) };
}

/** Parse `"1..2"` or `"2"` into a range; used by the CLI and options. Returns undefined when malformed. */
export function parseRange(text: string): ProtocolRange | undefined {
  const match = /^\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$/.exec(text);
  if (!match?.[1]) return undefined;
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  const range = { min, max };
  return isValidRange(range) ? range : undefined;
}
