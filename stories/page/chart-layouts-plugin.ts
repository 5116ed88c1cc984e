// A Vite plugin that serves `virtual:chart-layouts`: the chart's layouts, computed with ELK when
// the page is built (chart-precompute.ts). Loaded lazily, so configs that never build the page
// (Vitest's) never run ELK.
import type { Plugin } from 'vite';

const ID = 'virtual:chart-layouts';
const RESOLVED = `\0${ID}`;

/** The plugin; vite.config.ts installs it. */
export function chartLayouts(): Plugin {
  return {
    name: 'lifeline-chart-layouts',
    resolveId: (id) => (id === ID ? RESOLVED : undefined),
    async load(id) {
      if (id !== RESOLVED) return undefined;
      const { precomputeLayouts } = await import('./chart-precompute.js');
      return `export default ${JSON.stringify(await precomputeLayouts())};`;
    },
  };
}
