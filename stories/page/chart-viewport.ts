// Keeps the chart legible and the current state in view at any window size: the chart is scaled
// to fit its box in both directions, but never below the scale where state labels drop under
// 11 px; when it is larger than the box, the box scrolls (the reader can pan) and follows the
// current state, centring it whenever it would leave the visible area. The reader can also zoom
// (down to the whole chart, up to 2x); `fit` goes back to the automatic scale.

/** Smallest scale: 14 px state labels stay at least 11 px high. */
export const MIN_LEGIBLE_SCALE = 0.8;
/** Largest zoom. */
const MAX_SCALE = 2;
/** Keep this many pixels between the current state and the box's edge. */
const MARGIN_PX = 12;

/** A chart fitted into a scrolling box. */
export interface ChartViewport {
  /** The scale in use, e.g. after a resize. */
  readonly scale: number;
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

/** Size `svg` (whose viewBox is `width` x `height`) for `box`, and keep doing so as `box` resizes. */
export function fitChart(box: HTMLElement, svg: SVGSVGElement, width: number, height: number): ChartViewport {
  let scale = 1;
  // A scale the reader chose with zoom(); null follows the box.
  let chosen: number | null = null;
  const follow = (): void => {
    const target = currentStateBox(svg);
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
    const styles = getComputedStyle(box);
    const innerWidth = box.clientWidth - parseFloat(styles.paddingLeft) - parseFloat(styles.paddingRight);
    const innerHeight = box.clientHeight - parseFloat(styles.paddingTop) - parseFloat(styles.paddingBottom);
    return Math.min(innerWidth / width, innerHeight / height);
  };
  const apply = (): void => {
    scale = chosen ?? Math.min(1, Math.max(MIN_LEGIBLE_SCALE, wholeChart()));
    svg.setAttribute('width', String(Math.floor(width * scale)));
    svg.setAttribute('height', String(Math.floor(height * scale)));
    follow();
  };
  new ResizeObserver(apply).observe(box);
  apply();
  return {
    get scale() {
      return scale;
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
