// Runs async tasks one at a time, in call order. The gateway gives each session one queue so
// appends, handshakes (head + replay + caught_up) and snapshots never interleave: a publish that
// arrives during a replay waits, and so is delivered live exactly once, after caught_up.
// A burst of publishes queues thousands of tasks at once, so a waiting task costs one small entry
// and its caller's promise, not a chain of promises of its own.

/** A FIFO of async tasks. */
export interface SerialQueue {
  run<T>(task: () => T | Promise<T>): Promise<T>;
  /**
   * Like `run`, but when nothing is queued or running the task runs at once, inside this call,
   * and its own result comes back (a value, or the promise it returned, which holds the queue
   * until it settles). A task that throws at once throws here.
   */
  runNow<T>(task: () => T | Promise<T>): T | Promise<T>;
  /** Tasks queued or running. */
  readonly pending: number;
  /** Tasks ever queued or run: unchanged since a task was queued means that task is still the last one. */
  readonly queued: number;
}

/** A waiting task and how to settle its caller's promise (methods: their types are the task's, known only in run()). */
interface Entry {
  task(): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Whether a task's result is a promise (or another thenable) rather than its value. */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** Past this many done entries at the front, the array is compacted (it never empties under steady load). */
const COMPACT_AT = 1024;

/** Create an empty queue. A failing task rejects its own promise and does not stop the queue. */
export function createSerialQueue(): SerialQueue {
  let entries: Array<Entry | undefined> = [];
  let head = 0;
  let pending = 0;
  let queued = 0;
  let draining = false;

  async function drain(): Promise<void> {
    while (head < entries.length) {
      const entry = entries[head] as Entry;
      entries[head++] = undefined;
      if (head >= COMPACT_AT && head * 2 >= entries.length) {
        entries = entries.slice(head);
        head = 0;
      }
      try {
        const value = await entry.task();
        pending--;
        entry.resolve(value);
      } catch (error) {
        pending--;
        entry.reject(error);
      }
    }
    entries = [];
    head = 0;
    draining = false;
  }

  function run<T>(task: () => T | Promise<T>): Promise<T> {
    pending++;
    queued++;
    const result = new Promise<T>((resolve, reject) => {
      entries.push({ task, resolve, reject });
    });
    // Never inside run() itself: the first task starts in a microtask, as every later one does.
    if (!draining) {
      draining = true;
      queueMicrotask(() => void drain());
    }
    return result;
  }

  const afterNow = (): void => {
    pending--;
    void drain();
  };

  return {
    run,
    runNow<T>(task: () => T | Promise<T>): T | Promise<T> {
      if (draining) return run(task);
      pending++;
      queued++;
      let result: T | Promise<T>;
      try {
        result = task();
      } catch (error) {
        pending--;
        throw error;
      }
      if (!isThenable(result)) {
        pending--;
        return result;
      }
      // Tasks queued meanwhile wait until it settles, then run in order.
      draining = true;
      result.then(afterNow, afterNow);
      return result;
    },
    get pending() {
      return pending;
    },
    get queued() {
      return queued;
    },
  };
}
