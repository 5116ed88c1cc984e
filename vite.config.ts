// One config for the inspector page's build (Vite, root `stories/`) and for the test runner (Vitest).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: 'stories',
  // Relative asset URLs: the built page is served as static files from wherever it is installed.
  base: './',
  server: { host: '127.0.0.1' },
  // `npm run build` ships the page in dist/page; `agent-lifeline start` and `agent-lifeline inspect` serve it
  // with node:http, so no Vite at run time. No source maps: the page's sources are not shipped.
  // ELK's layout engine is most of the page's 1.6 MB; it is served from localhost, so one chunk is fine.
  build: { outDir: '../dist/page', emptyOutDir: true, sourcemap: false, reportCompressedSize: false, chunkSizeWarningLimit: 2048 },
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
