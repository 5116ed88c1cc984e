// The connections a client's socket actors opened that have not closed yet. A stopped socket actor
// closes its connection, but the closing handshake completes later: `disconnect()` waits here for
// it, so an app that awaits `disconnect()` leaves no socket behind.

/** The open connections of one client. */
export interface ConnectionCensus {
  /** Connections opened and not yet closed; at most one once a close has been observed. */
  readonly open: number;
  /** A socket actor opened a connection. */
  opened(): void;
  /** One of those connections closed. */
  closed(): void;
  /** Resolves when every connection opened so far has closed. */
  allClosed(): Promise<void>;
}

// A class, not a closure per method: one per client, and its methods cost nothing per client
// (bench/README.md, memory).
class Census implements ConnectionCensus {
  open = 0;
  private waiters: Array<() => void> = [];

  opened(): void {
    this.open += 1;
  }

  closed(): void {
    this.open -= 1;
    if (this.open > 0) return;
    const done = this.waiters;
    this.waiters = [];
    for (const resolve of done) resolve();
  }

  allClosed(): Promise<void> {
    return this.open === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** Create the census of one client. */
export function createConnectionCensus(): ConnectionCensus {
  return new Census();
}
