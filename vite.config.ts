// One config for the inspector page's build (Vite, root `stories/`) and for the test runner (Vitest).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { chartLayouts } from './stories/page/chart-layouts-plugin.js';

export default defineConfig({
  root: 'stories',
  // Relative asset URLs: the built page is served as static files from wherever it is installed.
  base: './',
  server: { host: '127.0.0.1' },
  // The chart's layouts are computed with ELK at build time and shipped as data.
  plugins: [chartLayouts()],
  // `npm run build` ships the page in dist/page; `agent-lifeline start` and `agent-lifeline inspect` serve it
  // with node:http, so no Vite at run time. No source maps: the page's sources are not shipped.
  build: {
    outDir: '../dist/page',
    emptyOutDir: true,
    sourcemap: false,
    reportCompressedSize: false,
    // Laying the chart out takes most of the build, on purpose: no need to be told.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  test: {
    root: '.',
    include: ['test/**/*.test.ts'],
    // README's examples import the package by name (test/readme/app-reconnect.test.ts): resolve
    // it to this checkout's source, as tsconfig.json's `paths` do for the typecheck.
    alias: [
      { find: /^agent-lifeline$/, replacement: fileURLToPath(new URL('src/client/index.ts', import.meta.url)) },
      { find: /^agent-lifeline\/(protocol|server|testing)$/, replacement: fileURLToPath(new URL('src/$1/index.ts', import.meta.url)) },
    ],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Real sockets and real timers: keep files in separate workers, but cap parallelism at the 2 CI cores.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
