// Keeps the chart legible and the current state in view at any window size: the chart is scaled
// to fit its box in both directions, but never below the scale where state labels drop under
// 11 px; when it is larger than the box, the box scrolls (the reader can pan) and follows the
// current state, centring it whenever it would leave the visible area.

/** Smallest scale: 14 px state labels stay at least 11 px high. */
export const MIN_LEGIBLE_SCALE = 0.8;
/** Keep this many pixels between the current state and the box's edge. */
const MARGIN_PX = 12;

/** A chart fitted into a scrolling box. */
export interface ChartViewport {
  /** The scale in use, e.g. after a resize. */
  readonly scale: number;
  /** Bring the deepest active state into view, if it is not. */
  follow(): void;
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
  const fit = (): void => {
    const styles = getComputedStyle(box);
    const innerWidth = box.clientWidth - parseFloat(styles.paddingLeft) - parseFloat(styles.paddingRight);
    const innerHeight = box.clientHeight - parseFloat(styles.paddingTop) - parseFloat(styles.paddingBottom);
    scale = Math.min(1, Math.max(MIN_LEGIBLE_SCALE, Math.min(innerWidth / width, innerHeight / height)));
    svg.setAttribute('width', String(Math.floor(width * scale)));
    svg.setAttribute('height', String(Math.floor(height * scale)));
    follow();
  };
  new ResizeObserver(fit).observe(box);
  fit();
  return {
    get scale() {
      return scale;
    },
    follow,
  };
}
