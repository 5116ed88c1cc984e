// Draws the laid-out chart as SVG and highlights the active states and the transition just taken.
// Each state carries `data-state="<id>"` and each arrow `data-arrow="<source->target>"`, so tests
// and styles can find them. A compound state (folded or open) is a button: a click or Enter
// asks the page to open or close it.
import { CHART_TEXT, COMPOUND_HEADER, INITIAL_MARK, labelLines, LABEL_LINE, stateText, type ChartLayout, type ChartTextStyle, type PlacedArrow, type PlacedState } from './chart-layout.js';

/** A rendered chart. */
export interface ChartView {
  readonly element: SVGSVGElement;
  /** Mark `active` state ids, and the arrows (and label lines) holding any of `taken` transition keys. */
  highlight(active: readonly string[], taken: readonly string[]): void;
}

const SVG = 'http://www.w3.org/2000/svg';
/** Room around the layout in the viewBox, so strokes at its edges are not clipped. */
const MARGIN = 4;

function el<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number> = {}, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** SVG text attributes for one of the chart's text styles: the sizes layout measured with. */
function font(style: ChartTextStyle): Record<string, string | number> {
  return { 'font-family': style.family, 'font-size': style.size, 'font-style': style.style, 'font-weight': style.weight };
}

function marker(id: string): SVGMarkerElement {
  const m = el('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  m.append(el('path', { d: 'M0,0 L10,5 L0,10 z' }));
  return m;
}

function drawState(placed: PlacedState, onToggle: (id: string) => void): SVGGElement {
  const { state, x, y, width, height } = placed;
  const open = state.children.length > 0;
  const compound = open || state.folded > 0;
  const group = el('g', { class: `state${open ? ' compound' : ''}${state.folded > 0 ? ' folded' : ''}`, 'data-state': state.id });
  group.append(el('rect', { x, y, width, height, rx: open ? 10 : 8 }));
  const baseline = CHART_TEXT.state.size * 0.35;
  // The initial state's mark, a dot as in UML, sits inside its box (ELK keeps no room outside).
  const mark = state.initial ? INITIAL_MARK : 0;
  const label = open
    ? el('text', { x: x + 10 + mark, y: y + COMPOUND_HEADER / 2 + baseline + 1, class: 'state-label', ...font(CHART_TEXT.state) }, `${state.label} \u25BE`)
    : el('text', { x: x + (width + mark) / 2, y: y + height / 2 + baseline, 'text-anchor': 'middle', class: 'state-label', ...font(CHART_TEXT.state) }, stateText(state));
  group.append(label);
  if (state.initial) group.append(el('circle', { cx: x + 10, cy: y + (open ? COMPOUND_HEADER : height) / 2 + 1, r: 3.5, class: 'initial-dot' }));
  const hint = state.folded > 0 ? ` (${state.folded} states inside: click to open)` : open ? ' (click its name to close)' : '';
  group.append(el('title', {}, `${state.id}${hint}`));
  if (compound) {
    group.setAttribute('role', 'button');
    group.setAttribute('tabindex', '0');
    group.setAttribute('aria-expanded', String(open));
    group.setAttribute('aria-label', `${state.label}: ${open ? 'close' : 'open'} (${open ? state.children.length : state.folded} states)`);
    // On an open state only its name toggles, so clicks on its children stay theirs.
    const target = open ? label : group;
    target.addEventListener('click', (event) => {
      event.stopPropagation();
      onToggle(state.id);
    });
    group.addEventListener('keydown', (event) => {
      if (event.target !== group || (event.key !== 'Enter' && event.key !== ' ')) return;
      event.preventDefault();
      onToggle(state.id);
    });
  }
  return group;
}

function drawArrow(placed: PlacedArrow): SVGGElement {
  const { arrow, points, label } = placed;
  const group = el('g', { class: 'arrow', 'data-arrow': arrow.id });
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
  group.append(el('path', { d, class: 'arrow-line', 'marker-end': 'url(#arrowhead)' }));
  if (label) {
    group.append(el('rect', { x: label.x, y: label.y, width: label.width, height: label.height, rx: 2, class: 'arrow-label-bg' }));
    const text = el('text', { class: 'arrow-label' });
    labelLines(arrow).forEach((line, i) => {
      const y = label.y + 1 + i * LABEL_LINE + LABEL_LINE * 0.78;
      text.append(el('tspan', { x: label.x + 2, y, 'data-keys': line.trigger.keys.join(' '), ...font(line.style) }, line.text));
    });
    group.append(text);
  }
  const events = arrow.triggers.map((t) => `${t.event}${t.guards.length > 0 ? ` [${t.guards.join(' | ')}]` : ''}`);
  group.append(el('title', {}, `${arrow.source} -> ${arrow.target}\n${events.join('\n')}`));
  return group;
}

/** Render `layout` into a new SVG element; `onToggle` hears clicks on compound states. */
export function renderChart(layout: ChartLayout, onToggle: (id: string) => void = () => undefined): ChartView {
  const svg = el('svg', { viewBox: `${-MARGIN} ${-MARGIN} ${layout.width + 2 * MARGIN} ${layout.height + 2 * MARGIN}`, class: 'chart', role: 'img', 'aria-label': 'The client statechart' });
  const defs = el('defs');
  defs.append(marker('arrowhead'));
  svg.append(defs);
  // Parents before children, arrows last, so nested states and arrows stay visible.
  const states = [...layout.states].sort((a, b) => a.depth - b.depth);
  for (const state of states) svg.append(drawState(state, onToggle));
  for (const arrow of layout.arrows) svg.append(drawArrow(arrow));

  return {
    element: svg,
    highlight(active, taken) {
      const activeSet = new Set(active);
      const takenSet = new Set(taken);
      svg.querySelectorAll<SVGGElement>('g.state').forEach((g) => g.classList.toggle('active', activeSet.has(g.dataset['state'] ?? '')));
      svg.querySelectorAll<SVGGElement>('g.arrow').forEach((g) => {
        let hit = false;
        g.querySelectorAll<SVGTSpanElement>('tspan').forEach((span) => {
          const on = (span.dataset['keys'] ?? '').split(' ').some((key) => takenSet.has(key));
          span.classList.toggle('taken', on);
          hit ||= on;
        });
        g.classList.toggle('taken', hit);
        // Raise the taken arrow above the others so its line is not hidden under a crossing.
        if (hit) svg.append(g);
      });
    },
  };
}

/** The viewBox's size for a layout: the layout plus the margin on each side. */
export function viewBoxSize(layout: ChartLayout): { width: number; height: number } {
  return { width: layout.width + 2 * MARGIN, height: layout.height + 2 * MARGIN };
}
