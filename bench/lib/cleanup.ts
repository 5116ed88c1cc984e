// What a bench opened, closed again in reverse order whether the bench finished or threw: a
// gateway or Redis client left open keeps `npm run bench` alive after its last figure.

/** A stack of closers. */
export interface Cleanup {
  /** Register `close` for `value` and hand `value` back, so opening and registering is one line. */
  add<T>(value: T, close: (value: T) => Promise<unknown> | unknown): T;
  /** Run every closer once, newest first; the first error is rethrown after all have run. */
  run(): Promise<void>;
}

export function createCleanup(): Cleanup {
  const closers: Array<() => Promise<unknown> | unknown> = [];
  return {
    add(value, close) {
      closers.push(() => close(value));
      return value;
    },
    async run() {
      let first: unknown;
      for (const close of closers.splice(0).reverse()) {
        try {
          await close();
        } catch (error) {
          first ??= error;
        }
      }
      if (first !== undefined) throw first;
    },
  };
}
