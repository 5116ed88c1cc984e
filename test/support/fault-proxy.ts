// The TCP fault proxy moved to `stories/support/fault-proxy.ts`, so stories (CLI, page, tests) can
// use it without importing from `test/`. Re-exported here so existing tests keep their import.
export * from '../../stories/support/fault-proxy.js';
