// The page's chart: the client's statechart folded to fit one screen. Compound states stay closed
// until the client enters one (it opens, and closes again when the client leaves) or the reader
// clicks one (it then stays as the reader left it). Every set of open states was laid out when the
// page was built (chart-precompute.ts), so a state opens at once and the page runs no layout.
import { layoutKey } from './chart-fold.js';
import type { ChartLayouts } from './chart-layout.js';
import { renderChart, viewBoxSize, type ChartView } from './chart-view.js';
import { fitChart } from './chart-viewport.js';

/** The chart on the page. */
export interface ChartPanel {
  /**
   * Mark the `active` state ids and the arrows of the `taken` transition keys, opening and closing
   * compound states to match. Returns the active ids as the drawn chart shows them.
   */
  highlight(active: readonly string[], taken: readonly string[]): string[];
  /** Multiply the scale (see `ChartViewport.zoom`). */
  zoom(factor: number): void;
  /** Back to the automatic scale. */
  fit(): void;
}

/** Draw the chart in `box`, every compound state closed. */
export function createChartPanel(box: HTMLElement, layouts: ChartLayouts): ChartPanel {
  // The reader's choice per compound state; unset follows the client.
  const chosen = new Map<string, boolean>();
  const viewport = fitChart(box);
  let active: readonly string[] = [];
  let taken: readonly string[] = [];
  let shown: { open: readonly string[]; view: ChartView } | null = null;

  const draw = (): string[] => {
    const open = layouts.compounds.filter((id) => chosen.get(id) ?? active.includes(id));
    if (shown === null || layoutKey(shown.open) !== layoutKey(open)) {
      const layout = layouts.byOpen[layoutKey(open)];
      if (!layout) throw new Error(`the page was built without a layout for the open states "${layoutKey(open)}"`);
      const view = renderChart(layout, toggle);
      const size = viewBoxSize(layout);
      shown = { open, view };
      viewport.show(view.element, size.width, size.height);
    }
    shown.view.highlight(active, taken);
    viewport.follow();
    return [...shown.view.element.querySelectorAll<SVGGElement>('g.state.active')].map((g) => g.dataset['state'] ?? '');
  };
  function toggle(id: string): void {
    chosen.set(id, !(shown?.open.includes(id) ?? false));
    draw();
  }

  draw();
  return {
    highlight(nextActive, nextTaken) {
      active = nextActive;
      taken = nextTaken;
      return draw();
    },
    zoom: (factor) => viewport.zoom(factor),
    fit: () => viewport.fit(),
  };
}
