// One config for the inspector page (Vite, root `stories/`) and for the test runner (Vitest).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: 'stories',
  server: { host: '127.0.0.1' },
  test: {
    root: '.',
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Real sockets and real timers: keep files in separate workers, but cap parallelism at the 2 CI cores.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
