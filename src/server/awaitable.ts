// What the gateway's storage seams return: a value, or a promise of it. A module of its own, so the
// seams that use it (the event log, the session caps) depend on it and not on each other.

/** A value or a promise of it: the memory log answers synchronously, a shared store need not. */
export type Awaitable<T> = T | Promise<T>;
