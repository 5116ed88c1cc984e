// The client's one error class. Every failure the client reports is a value with a code,
// the next step a person or program should take, and the retry hint or close code behind it.
import { defaultNextStep, type ConnectErrorData } from '../protocol/index.js';

export type { ConnectErrorData };

/**
 * Why the client could not connect, or stopped: `connect()` rejects with it, `onError` receives it,
 * and `events()` throws it when the client stops for good.
 */
export class GatewayConnectError extends Error implements ConnectErrorData {
  override readonly name = 'GatewayConnectError';
  readonly code: ConnectErrorData['code'];
  readonly nextStep: ConnectErrorData['nextStep'];
  readonly retryAfterMs?: number;
  readonly closeCode?: number;

  /** @param options.cause the underlying failure (a listener's throw, a socket error), kept as `error.cause`. */
  constructor(data: ConnectErrorData, options?: { readonly cause?: unknown }) {
    super(data.message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = data.code;
    this.nextStep = data.nextStep;
    if (data.retryAfterMs !== undefined) this.retryAfterMs = data.retryAfterMs;
    if (data.closeCode !== undefined) this.closeCode = data.closeCode;
  }

  /** The serialisable fields, e.g. for logs or the inspector. */
  toJSON(): ConnectErrorData {
    return errorData(this.code, this.message, {
      nextStep: this.nextStep,
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      ...(this.closeCode === undefined ? {} : { closeCode: this.closeCode }),
    });
  }
}

/** Build error data, taking the next step from the protocol's table unless given. */
export function errorData(
  code: string,
  message: string,
  extra: { nextStep?: string; retryAfterMs?: number; closeCode?: number } = {},
): ConnectErrorData {
  return {
    code,
    message,
    nextStep: extra.nextStep ?? defaultNextStep(code),
    ...(extra.retryAfterMs === undefined ? {} : { retryAfterMs: extra.retryAfterMs }),
    ...(extra.closeCode === undefined ? {} : { closeCode: extra.closeCode }),
  };
}

/** Shorthand for `new GatewayConnectError(errorData(...))`; `cause` becomes `error.cause`. */
export function connectError(code: string, message: string, extra: Parameters<typeof errorData>[2] = {}, cause?: unknown): GatewayConnectError {
  return new GatewayConnectError(errorData(code, message, extra), cause === undefined ? undefined : { cause });
}
