// Keeps the chart legible and the current state in view at any window size. By default the chart
// is drawn at the largest scale that shows all of it, never below the scale where its smallest
// text (11 px arrow labels) shrinks, and a little larger when the box has room. When even that is
// larger than the box, the box scrolls (the reader can pan) and follows the current state,
// centring it whenever it would leave the visible area. The reader can also zoom (down to the
// whole chart, up to 2x); `fit` goes back to the automatic scale. The chart it shows can be
// replaced (a compound state opened or closed) and the chosen zoom carries over.

/** Smallest automatic scale: the chart's 11 px text stays 11 px. */
export const MIN_LEGIBLE_SCALE = 1;
/** Largest automatic scale, for big windows. */
const MAX_FIT_SCALE = 1.25;
/** Largest zoom. */
const MAX_SCALE = 2;
/** Keep this many pixels between the current state and the box's edge. */
const MARGIN_PX = 12;

/** A chart fitted into a scrolling box. */
export interface ChartViewport {
  /** The scale in use, e.g. after a resize. */
  readonly scale: number;
  /** Show `svg`, whose viewBox is `width` x `height`, in place of the chart shown so far. */
  show(svg: SVGSVGElement, width: number, height: number): void;
  /** Bring the deepest active state into view, if it is not. */
  follow(): void;
  /** Multiply the scale by `factor`, from the whole chart in view up to 2x; it then stays until `fit()`. */
  zoom(factor: number): void;
  /** Back to the automatic scale. */
  fit(): void;
}

/** The innermost highlighted state's box, i.e. the current leaf state. */
function currentStateBox(svg: SVGSVGElement): SVGGraphicsElement | null {
  const active = [...svg.querySelectorAll<SVGGElement>('g.state.active')];
  const deepest = active.sort((a, b) => (b.dataset['state'] ?? '').split('.').length - (a.dataset['state'] ?? '').split('.').length)[0];
  return deepest?.querySelector('rect') ?? null;
}

/** Fit whatever chart `show` hands it into `box`, and keep doing so as `box` resizes. */
export function fitChart(box: HTMLElement): ChartViewport {
  let chart: { svg: SVGSVGElement; width: number; height: number } | null = null;
  let scale = 1;
  // A scale the reader chose with zoom(); null follows the box.
  let chosen: number | null = null;
  const follow = (): void => {
    const target = chart && currentStateBox(chart.svg);
    if (!target) return;
    const view = box.getBoundingClientRect();
    const rect = target.getBoundingClientRect();
    const inside =
      rect.left >= view.left + MARGIN_PX && rect.right <= view.left + box.clientWidth - MARGIN_PX && rect.top >= view.top + MARGIN_PX && rect.bottom <= view.top + box.clientHeight - MARGIN_PX;
    if (inside) return;
    // Centre the state in the box.
    box.scrollLeft += rect.left + rect.width / 2 - (view.left + box.clientWidth / 2);
    box.scrollTop += rect.top + rect.height / 2 - (view.top + box.clientHeight / 2);
  };
  /** The scale that shows the whole chart in the box. */
  const wholeChart = (): number => {
    if (!chart) return 1;
    const styles = getComputedStyle(box);
    const innerWidth = box.clientWidth - parseFloat(styles.paddingLeft) - parseFloat(styles.paddingRight);
    const innerHeight = box.clientHeight - parseFloat(styles.paddingTop) - parseFloat(styles.paddingBottom);
    return Math.min(innerWidth / chart.width, innerHeight / chart.height);
  };
  const apply = (): void => {
    if (!chart) return;
    scale = chosen ?? Math.min(MAX_FIT_SCALE, Math.max(MIN_LEGIBLE_SCALE, wholeChart()));
    chart.svg.setAttribute('width', String(Math.floor(chart.width * scale)));
    chart.svg.setAttribute('height', String(Math.floor(chart.height * scale)));
    follow();
  };
  new ResizeObserver(apply).observe(box);
  return {
    get scale() {
      return scale;
    },
    show(svg, width, height) {
      chart = { svg, width, height };
      box.replaceChildren(svg);
      apply();
    },
    follow,
    zoom(factor) {
      chosen = Math.min(MAX_SCALE, Math.max(Math.min(wholeChart(), MIN_LEGIBLE_SCALE), scale * factor));
      apply();
    },
    fit() {
      chosen = null;
      apply();
    },
  };
}
