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

/**
 * The queue as a class: one instance per session and per connection, so its methods live on the
 * prototype (no closures per queue) and the array is made for the first task that has to wait.
 */
class Queue implements SerialQueue {
  private entries: Array<Entry | undefined> | undefined;
  private head = 0;
  pending = 0;
  queued = 0;
  private draining = false;

  private async drain(): Promise<void> {
    for (let entries = this.entries; entries !== undefined && this.head < entries.length; entries = this.entries) {
      const entry = entries[this.head] as Entry;
      entries[this.head++] = undefined;
      if (this.head >= COMPACT_AT && this.head * 2 >= entries.length) {
        this.entries = entries.slice(this.head);
        this.head = 0;
      }
      try {
        const value = await entry.task();
        this.pending--;
        entry.resolve(value);
      } catch (error) {
        this.pending--;
        entry.reject(error);
      }
    }
    this.entries = undefined;
    this.head = 0;
    this.draining = false;
  }

  run<T>(task: () => T | Promise<T>): Promise<T> {
    this.pending++;
    this.queued++;
    const result = new Promise<T>((resolve, reject) => {
      (this.entries ??= []).push({ task, resolve, reject });
    });
    // Never inside run() itself: the first task starts in a microtask, as every later one does.
    if (!this.draining) {
      this.draining = true;
      queueMicrotask(() => void this.drain());
    }
    return result;
  }

  runNow<T>(task: () => T | Promise<T>): T | Promise<T> {
    if (this.draining) return this.run(task);
    this.pending++;
    this.queued++;
    let result: T | Promise<T>;
    try {
      result = task();
    } catch (error) {
      this.pending--;
      throw error;
    }
    if (!isThenable(result)) {
      this.pending--;
      return result;
    }
    // Tasks queued meanwhile wait until it settles, then run in order.
    this.draining = true;
    const afterNow = (): void => {
      this.pending--;
      void this.drain();
    };
    result.then(afterNow, afterNow);
    return result;
  }
}

/** Create an empty queue. A failing task rejects its own promise and does not stop the queue. */
export function createSerialQueue(): SerialQueue {
  return new Queue();
}
