// The promises `resync()` hands out. One request serves every caller waiting at the time: it goes
// out at once when joined, or with the next join's flush, and the gateway's snapshot settles them
// all. A gateway that offers no resync method (PraisonAI) gets no request: the waiters are
// rejected with `configuration_error`, in the words the Python client uses too.
import { connectError, type GatewayConnectError } from './errors.js';
import type { SessionSnapshot } from './types.js';

/** `resync()`'s `configuration_error` where the gateway offers none (the Python client's words too). */
export const NO_RESYNC =
  "This gateway offers no resync method (its hello_ok does not list resync; PraisonAI's does not): the events a gap reported are gone. Rebuild the state your own way (your app's own store or history), and carry on: later events keep arriving.";

/** How the waiters ask the gateway for a snapshot. */
export interface SnapshotRequest {
  /** Whether the gateway of the last join offers resync. */
  resyncOffered(): boolean;
  /** Write the `resync` frame on the connection. */
  requestResync(): void;
}

/** The waiting `resync()` calls of one client. */
export interface ResyncWaiters {
  /** A new `resync()` promise; the first caller while `joined` asks at once, later ones share its request. */
  add(joined: boolean): Promise<SessionSnapshot>;
  /** A join: ask for the snapshot the waiters are waiting for, if any. */
  joined(): void;
  /** The gateway's snapshot: every waiter gets it. */
  answered(snapshot: SessionSnapshot): void;
  /** The client stopped: every waiter is rejected with `error`. */
  rejectAll(error: GatewayConnectError): void;
}

interface Waiter {
  resolve(snapshot: SessionSnapshot): void;
  reject(error: GatewayConnectError): void;
}

// A class, not a closure per method: one per client, and its methods cost nothing per client
// (bench/README.md, memory).
class Waiters implements ResyncWaiters {
  private waiters: Waiter[] = [];

  constructor(private readonly request: SnapshotRequest) {}

  add(joined: boolean): Promise<SessionSnapshot> {
    const done = new Promise<SessionSnapshot>((resolve, reject) => this.waiters.push({ resolve, reject }));
    // Not joined: the request goes out with the outbox on the next join.
    if (joined && this.waiters.length === 1) this.ask();
    return done;
  }

  joined(): void {
    if (this.waiters.length > 0) this.ask();
  }

  answered(snapshot: SessionSnapshot): void {
    for (const waiter of this.take()) waiter.resolve(snapshot);
  }

  rejectAll(error: GatewayConnectError): void {
    for (const waiter of this.take()) waiter.reject(error);
  }

  private ask(): void {
    if (this.request.resyncOffered()) this.request.requestResync();
    else this.rejectAll(connectError('configuration_error', NO_RESYNC));
  }

  private take(): Waiter[] {
    const all = this.waiters;
    this.waiters = [];
    return all;
  }
}

/** Create the waiters of one client. */
export function createResyncWaiters(request: SnapshotRequest): ResyncWaiters {
  return new Waiters(request);
}
