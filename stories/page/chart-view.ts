// Draws the laid-out chart as SVG and highlights the active states and the transition just taken.
// Each state carries `data-state="<id>"` and each arrow `data-arrow="<source->target>"`, so tests
// and styles can find them.
import { arrowLines, CHART_FONT, type ChartLayout, type PlacedArrow, type PlacedState } from './chart-layout.js';

/** A rendered chart. */
export interface ChartView {
  readonly element: SVGSVGElement;
  /** Mark `active` state ids, and the arrows (and label lines) holding any of `taken` transition keys. */
  highlight(active: readonly string[], taken: readonly string[]): void;
}

const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number> = {}, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function marker(id: string): SVGMarkerElement {
  const m = el('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  m.append(el('path', { d: 'M0,0 L10,5 L0,10 z' }));
  return m;
}

function drawState(placed: PlacedState): SVGGElement {
  const { state, x, y, width, height } = placed;
  const compound = state.children.length > 0;
  const group = el('g', { class: `state${compound ? ' compound' : ''}`, 'data-state': state.id });
  group.append(el('rect', { x, y, width, height, rx: compound ? 12 : 10 }));
  const label = compound
    ? el('text', { x: x + 12, y: y + 21, class: 'state-label' }, state.label)
    : el('text', { x: x + width / 2, y: y + height / 2 + CHART_FONT.stateSize * 0.35, 'text-anchor': 'middle', class: 'state-label' }, state.label);
  group.append(label);
  if (state.initial) {
    // The initial-state mark: a dot with a short stem into the state, as in UML.
    group.append(el('circle', { cx: x - 14, cy: y + 10, r: 4, class: 'initial-dot' }));
    group.append(el('path', { d: `M${x - 10},${y + 10} L${x},${y + 10}`, class: 'initial-stem' }));
  }
  group.append(el('title', {}, state.id));
  return group;
}

function drawArrow(placed: PlacedArrow): SVGGElement {
  const { arrow, points, label } = placed;
  const group = el('g', { class: 'arrow', 'data-arrow': arrow.id });
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
  group.append(el('path', { d, class: 'arrow-line', 'marker-end': 'url(#arrowhead)' }));
  if (label) {
    group.append(el('rect', { x: label.x, y: label.y, width: label.width, height: label.height, rx: 3, class: 'arrow-label-bg' }));
    const text = el('text', { x: label.x + 4, y: label.y + 2, class: 'arrow-label' });
    arrowLines(arrow).forEach((line, i) => {
      const trigger = arrow.triggers[i];
      const span = el('tspan', { x: label.x + 4, dy: i === 0 ? CHART_FONT.labelSize : CHART_FONT.labelLine, 'data-keys': trigger?.keys.join(' ') ?? '' }, line);
      text.append(span);
    });
    group.append(text);
  }
  const guards = arrow.triggers.map((t) => `${t.event}${t.guards.length > 0 ? ` [${t.guards.join(' | ')}]` : ''}`);
  group.append(el('title', {}, `${arrow.source} -> ${arrow.target}\n${guards.join('\n')}`));
  return group;
}

/** Render `layout` into a new SVG element. */
export function renderChart(layout: ChartLayout): ChartView {
  const svg = el('svg', { viewBox: `-24 0 ${layout.width + 24} ${layout.height}`, class: 'chart', role: 'img', 'aria-label': 'The client statechart' });
  const defs = el('defs');
  defs.append(marker('arrowhead'));
  svg.append(defs);
  // Parents before children, arrows last, so nested states and arrows stay visible.
  const states = [...layout.states].sort((a, b) => a.depth - b.depth);
  for (const state of states) svg.append(drawState(state));
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
