// Runs async tasks one at a time, in call order. The gateway gives each session one queue so
// appends, handshakes (head + replay + caught_up) and snapshots never interleave: a publish that
// arrives during a replay waits, and so is delivered live exactly once, after caught_up.

/** A FIFO of async tasks. */
export interface SerialQueue {
  run<T>(task: () => T | Promise<T>): Promise<T>;
  /** Tasks queued or running. */
  readonly pending: number;
}

/** Create an empty queue. A failing task rejects its own promise and does not stop the queue. */
export function createSerialQueue(): SerialQueue {
  let tail: Promise<unknown> = Promise.resolve();
  let pending = 0;
  return {
    run<T>(task: () => T | Promise<T>): Promise<T> {
      pending++;
      const result = tail.then(task).finally(() => {
        pending--;
      });
      tail = result.catch(() => undefined);
      return result;
    },
    get pending() {
      return pending;
    },
  };
}
