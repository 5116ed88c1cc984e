// Lays out the client's chart for every set of open compound states, at build time: the chart is
// fixed when the page is built, so the page ships its layouts (a few KB each) rather than ELK
// (1.6 MB, and a layout every time a state opens). Node only; the page imports the result through
// the `virtual:chart-layouts` module of chart-layouts-plugin.ts.
import elkBundle from 'elkjs/lib/elk.bundled.js';
import { gatewayMachine } from '../../machines/gateway-machine.js';
import { chartGraph } from './chart-graph.js';
import { compoundStates, foldChart, layoutKey } from './chart-fold.js';
import { layoutChart, type ChartLayout, type ChartLayouts } from './chart-layout.js';

/** Every subset of `items`, each in the order of `items`. */
function subsets<T>(items: readonly T[]): T[][] {
  return items.reduce<T[][]>((sets, item) => [...sets, ...sets.map((set) => [...set, item])], [[]]);
}

/** Lay out the chart for every subset of its compound states (2^3 = 8 for the client's chart). */
export async function precomputeLayouts(): Promise<ChartLayouts> {
  // elk.bundled.js is CommonJS and sets `module.exports.default = ELK` on itself: `.default` is the constructor.
  const elk = new elkBundle.default();
  const graph = chartGraph(gatewayMachine);
  const compounds = compoundStates(graph);
  const byOpen: Record<string, ChartLayout> = {};
  for (const open of subsets(compounds)) byOpen[layoutKey(open)] = await layoutChart(foldChart(graph, new Set(open)), elk);
  return { compounds, byOpen };
}
