// Places a folded chart graph (`chart-fold.ts`) with ELK's layered algorithm (the engine Stately's
// visualizer uses) and returns absolute coordinates ready for SVG. Text sizes come from a measure
// function (the page measures with the fonts it draws in; Node estimates); every position, route
// and label placement comes from ELK. Runs in Node, when the page is built (chart-precompute.ts)
// and in tests; the page ships the results.
//
// Compact on purpose: the whole top level must fit a laptop window with labels at 11 px, so the
// spacings are tight, arrow labels list one event per line, and an open compound state lays its
// children out left to right inside its box (one ELK graph per level), so opening it changes
// that box's size and not the top level's arrows.
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { ChartArrow, ChartGraph, ChartState, ChartTrigger } from './chart-graph.js';

/** A placed state. */
export interface PlacedState {
  readonly state: ChartState;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** Nesting depth: 0 for top-level states. */
  readonly depth: number;
}

/** A placed arrow: a polyline and its label box. */
export interface PlacedArrow {
  readonly arrow: ChartArrow;
  readonly points: ReadonlyArray<{ readonly x: number; readonly y: number }>;
  readonly label: { readonly x: number; readonly y: number; readonly width: number; readonly height: number } | null;
}

/** The laid-out chart. */
export interface ChartLayout {
  readonly width: number;
  readonly height: number;
  readonly states: readonly PlacedState[];
  readonly arrows: readonly PlacedArrow[];
}

/** A chart laid out for every set of open compound states (see `layoutKey`). */
export interface ChartLayouts {
  /** The chart's compound states, in chart order. */
  readonly compounds: readonly string[];
  /** Layouts by `layoutKey` of the open set. */
  readonly byOpen: Readonly<Record<string, ChartLayout>>;
}

const FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/**
 * The chart's text styles. The view draws with exactly these (as SVG attributes), so the sizes
 * ELK reserves match what is drawn. 11 px is the smallest text on the page at scale 1.
 */
export const CHART_TEXT = {
  state: { size: 13, weight: 400, style: 'normal', family: FAMILY },
  label: { size: 11, weight: 400, style: 'normal', family: FAMILY },
  /** A timer (`after retryDelay`) is drawn as its delay's name in italics. */
  delay: { size: 11, weight: 400, style: 'italic', family: FAMILY },
} as const;

/** One of {@link CHART_TEXT}'s styles. */
export type ChartTextStyle = (typeof CHART_TEXT)[keyof typeof CHART_TEXT];

/** Line height of arrow labels. */
export const LABEL_LINE = 13;
/** Height of a state box. */
export const STATE_HEIGHT = 24;
/** Room above an open compound state's children, for its name. */
export const COMPOUND_HEADER = 24;
/** The marker after a folded compound state's name; the view draws the same text. */
export const FOLDED_MARK = ' \u25B8';

/** Width in px of `text` drawn in `style`. */
export type MeasureText = (text: string, style: ChartTextStyle) => number;

/** Node's estimate (no fonts to measure with): a little wider than common sans-serif faces. */
export const estimateText: MeasureText = (text, style) => text.length * style.size * 0.56;

/** One line of an arrow's label: an event, `?` when guarded, in its style. */
export interface LabelLine {
  readonly text: string;
  readonly style: ChartTextStyle;
  readonly trigger: ChartTrigger;
}

/** The lines of an arrow's label, one per event: `socket.closed?` (guarded), `retryDelay` (a timer, italic). */
export function labelLines(arrow: ChartArrow): LabelLine[] {
  return arrow.triggers.map((trigger) => {
    const name = trigger.delayed ? trigger.event.replace(/^after /, '') : trigger.event;
    return { text: trigger.guards.length > 0 ? `${name}?` : name, style: trigger.delayed ? CHART_TEXT.delay : CHART_TEXT.label, trigger };
  });
}

/** A state's name as drawn: a folded compound state is marked. */
export function stateText(state: ChartState): string {
  return state.folded > 0 ? `${state.label}${FOLDED_MARK}` : state.label;
}

/** What runs ELK's layout: ELK itself (`new ELK()`), or anything with its `layout`. */
export interface LayoutEngine {
  layout(graph: ElkNode): Promise<ElkNode>;
}

const SPACING = {
  'elk.algorithm': 'layered',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.layered.spacing.nodeNodeBetweenLayers': '6',
  'elk.layered.spacing.edgeNodeBetweenLayers': '4',
  'elk.layered.spacing.edgeEdgeBetweenLayers': '3',
  'elk.spacing.nodeNode': '12',
  'elk.spacing.edgeNode': '4',
  'elk.spacing.edgeEdge': '4',
  'elk.spacing.edgeLabel': '2',
} as const;

// Chosen by trying ELK's strategies on this chart against a 1024x768 window: straight vertical
// runs (linear segments, little deflection) and each label in its arrow's last layer keep the
// chart narrow, and keep its width the same whichever compound state is open.
const TOP_LEVEL = {
  ...SPACING,
  'elk.direction': 'DOWN',
  'elk.padding': '[top=6,left=6,bottom=6,right=6]',
  // Break the chart's cycles in definition order, so the story reads top-down:
  // disconnected, connecting, negotiating, joined, reconnecting.
  'elk.layered.cycleBreaking.strategy': 'MODEL_ORDER',
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.layered.layering.strategy': 'NETWORK_SIMPLEX',
  'elk.layered.nodePlacement.strategy': 'LINEAR_SEGMENTS',
  'elk.layered.nodePlacement.linearSegments.deflectionDampening': '0.3',
  'elk.layered.edgeLabels.centerLabelPlacementStrategy': 'HEAD_LAYER',
  'elk.layered.compaction.postCompaction.strategy': 'LEFT_RIGHT_CONSTRAINT_LOCKING',
} as const;

/** Room inside an initial state's box, left of its name, for the initial mark (a dot). */
export const INITIAL_MARK = 10;

/** ELK's graph for `graph`: one level per open compound state, each arrow in its ends' parent. */
function elkGraph(graph: ChartGraph, measure: MeasureText): { root: ElkNode; containerOf: Map<string, string> } {
  const parentOf = new Map<string, string>();
  const index = (states: readonly ChartState[], parent: string): void =>
    states.forEach((s) => {
      parentOf.set(s.id, parent);
      index(s.children, s.id);
    });
  index(graph.states, graph.rootId);
  const edges = new Map<string, ElkExtendedEdge[]>();
  const containerOf = new Map<string, string>();
  for (const arrow of graph.arrows) {
    const container = parentOf.get(arrow.source) ?? graph.rootId;
    containerOf.set(arrow.id, container);
    edges.set(container, [...(edges.get(container) ?? []), elkEdge(arrow, measure)]);
  }
  const node = (state: ChartState): ElkNode => {
    const text = measure(stateText(state), CHART_TEXT.state) + (state.initial ? INITIAL_MARK : 0);
    if (state.children.length === 0) return { id: state.id, width: Math.max(64, Math.ceil(text) + 22), height: STATE_HEIGHT };
    return {
      id: state.id,
      layoutOptions: {
        ...SPACING,
        'elk.direction': 'DOWN',
        'elk.padding': `[top=${COMPOUND_HEADER},left=8,bottom=8,right=8]`,
        'elk.nodeSize.constraints': 'MINIMUM_SIZE',
        'elk.nodeSize.minimum': `(${Math.ceil(text) + 30}, ${STATE_HEIGHT * 2})`,
      },
      children: state.children.map(node),
      edges: edges.get(state.id) ?? [],
    };
  };
  const root: ElkNode = {
    id: graph.rootId,
    layoutOptions: TOP_LEVEL,
    children: graph.states.map(node),
    edges: edges.get(graph.rootId) ?? [],
  };
  return { root, containerOf };
}

function elkEdge(arrow: ChartArrow, measure: MeasureText): ElkExtendedEdge {
  const lines = labelLines(arrow);
  const width = Math.ceil(Math.max(0, ...lines.map((line) => measure(line.text, line.style)))) + 4;
  return {
    id: arrow.id,
    sources: [arrow.source],
    targets: [arrow.target],
    labels: lines.length === 0 ? [] : [{ id: `${arrow.id}#label`, text: lines.map((l) => l.text).join('\n'), width, height: lines.length * LABEL_LINE + 2 }],
  };
}

/** Lay out `graph` (a folded chart) with `engine`. Deterministic for a given graph and measure. */
export async function layoutChart(graph: ChartGraph, engine: LayoutEngine, measure: MeasureText = estimateText): Promise<ChartLayout> {
  const { root, containerOf } = elkGraph(graph, measure);
  const result = await engine.layout(root);

  // ELK gives node positions relative to their parent and an edge's geometry relative to the
  // node it was declared in; convert everything to absolute coordinates once, here.
  const origin = new Map<string, { x: number; y: number }>([[graph.rootId, { x: 0, y: 0 }]]);
  const states: PlacedState[] = [];
  const byId = new Map<string, ChartState>();
  const index = (list: readonly ChartState[]): void =>
    list.forEach((s) => {
      byId.set(s.id, s);
      index(s.children);
    });
  index(graph.states);
  const edges: ElkExtendedEdge[] = [...(result.edges ?? [])];
  const visit = (nodes: readonly ElkNode[], parent: { x: number; y: number }, depth: number): void => {
    for (const node of nodes) {
      const x = parent.x + (node.x ?? 0);
      const y = parent.y + (node.y ?? 0);
      origin.set(node.id, { x, y });
      const state = byId.get(node.id);
      if (state) states.push({ state, x, y, width: node.width ?? 0, height: node.height ?? 0, depth });
      edges.push(...(node.edges ?? []));
      visit(node.children ?? [], { x, y }, depth + 1);
    }
  };
  visit(result.children ?? [], { x: 0, y: 0 }, 0);

  const arrowsById = new Map(graph.arrows.map((a) => [a.id, a]));
  const arrows: PlacedArrow[] = [];
  for (const edge of edges) {
    const arrow = arrowsById.get(edge.id);
    if (!arrow) continue;
    const offset = origin.get(containerOf.get(edge.id) ?? graph.rootId) ?? { x: 0, y: 0 };
    const shift = (p: { x: number; y: number }) => ({ x: p.x + offset.x, y: p.y + offset.y });
    const points = (edge.sections ?? []).flatMap((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]).map(shift);
    const label = edge.labels?.[0];
    arrows.push({
      arrow,
      points,
      label: label ? { ...shift({ x: label.x ?? 0, y: label.y ?? 0 }), width: label.width ?? 0, height: label.height ?? 0 } : null,
    });
  }
  return { width: result.width ?? 0, height: result.height ?? 0, states, arrows };
}
