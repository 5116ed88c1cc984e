// The client's account of what went wrong: each failure becomes an error with its cause, reported
// to `onError` as it happens, the last one is kept for `info.lastError`, and `connect()` gives up
// in words that name it. The facts (a refusal, a stop, a counted failure and what ended it) are
// the chart's and the socket actor's; this module only words them.
import type { AttemptFailure } from '../../machines/gateway-machine.js';
import { CloseCode, type ConnectErrorData } from '../protocol/index.js';
import { connectError, GatewayConnectError } from './errors.js';

/** The failures of one client. */
export interface FailureReport {
  /** The most recent failure, kept after recovery (`info.lastError`); null until one. */
  readonly last: GatewayConnectError | null;
  /** A connection failed with a cause: report it (an attempt that never opened) or only keep it (a drop). */
  connection(error: GatewayConnectError, report: boolean): void;
  /** The chart recorded an error (a refusal, or why it stopped): reported. */
  chart(error: ConnectErrorData): void;
  /**
   * The chart counted a failed attempt. One its handshake timer ended has no cause of its own
   * (nothing answered), so it is reported as what timed out.
   */
  counted(failure: AttemptFailure, handshakeTimeoutMs: number): void;
  /** `connect()` gave up waiting, after `waitedMs` and `failures` failed attempts: the error it rejects with. */
  gaveUp(waitedMs: number, failures: number): GatewayConnectError;
}

const HANDSHAKE_TIMED_OUT = (ms: number): string =>
  `No answer within handshakeTimeoutMs (${ms} ms): the socket did not open or the gateway did not answer hello. A firewall may drop the packets, or the gateway is overloaded. The client retries.`;

// A class, not a closure per method: one per client, and its methods cost nothing per client
// (bench/README.md, memory). Its methods use `this`: call them on the report.
class Report implements FailureReport {
  last: GatewayConnectError | null = null;

  constructor(private readonly emit: (error: GatewayConnectError) => void) {}

  connection(error: GatewayConnectError, report: boolean): void {
    if (report) this.report(error);
    else this.last = error;
  }

  chart(error: ConnectErrorData): void {
    this.report(new GatewayConnectError(error));
  }

  counted(failure: AttemptFailure, handshakeTimeoutMs: number): void {
    if (failure.cause !== 'handshake_timeout') return;
    this.report(connectError('connect_failed', HANDSHAKE_TIMED_OUT(handshakeTimeoutMs), { nextStep: 'wait_then_retry', closeCode: CloseCode.HandshakeTimeout }));
  }

  gaveUp(waitedMs: number, failures: number): GatewayConnectError {
    const last = this.last;
    const cause = last === null ? 'no attempt has failed yet' : `last cause: ${last.message}`;
    return connectError(
      'connect_timeout',
      `connect() gave up after ${Math.round(waitedMs)} ms and ${failures} failed attempts (${cause}). The client keeps trying until disconnect().`,
      { nextStep: last?.nextStep ?? 'wait_then_retry', ...(last?.closeCode === undefined ? {} : { closeCode: last.closeCode }) },
      last ?? undefined,
    );
  }

  private report(error: GatewayConnectError): void {
    this.last = error;
    this.emit(error);
  }
}

/** Create the report of one client; `emit` tells the `onError` listeners. */
export function createFailureReport(emit: (error: GatewayConnectError) => void): FailureReport {
  return new Report(emit);
}
