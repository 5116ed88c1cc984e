// Places the chart graph with ELK's layered algorithm (the engine Stately's visualizer uses) and
// returns absolute coordinates ready for SVG. We only estimate text sizes; every position, route
// and label placement comes from ELK. Runs in the browser and in Node (tests).
import elkBundle from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { ChartArrow, ChartGraph, ChartState } from './chart-graph.js';

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

/** Font metrics the view uses; sizes handed to ELK are estimated from them. */
export const CHART_FONT = { stateSize: 14, labelSize: 11, labelLine: 14, charWidth: 0.6 } as const;

// elk.bundled.js is CommonJS and sets `module.exports.default = ELK` on itself, so `.default` is the
// constructor under Node's interop (default = module.exports) and Vite's (default = exports.default),
// and it is what TypeScript's NodeNext view of the CJS typings offers.
const ELK = elkBundle.default;

const COMPOUND_PADDING = '[top=34,left=14,bottom=14,right=14]';

function textWidth(text: string, size: number): number {
  return Math.ceil(text.length * size * CHART_FONT.charWidth);
}

/** The lines of an arrow's label: one per event, `?` marking a guarded one. */
export function arrowLines(arrow: ChartArrow): string[] {
  return arrow.triggers.map((t) => (t.guards.length > 0 ? `${t.event} ?` : t.event));
}

function elkNode(state: ChartState): ElkNode {
  if (state.children.length === 0) {
    return { id: state.id, width: Math.max(104, textWidth(state.label, CHART_FONT.stateSize) + 32), height: 40 };
  }
  return {
    id: state.id,
    layoutOptions: { 'elk.padding': COMPOUND_PADDING, 'elk.nodeSize.constraints': 'MINIMUM_SIZE', 'elk.nodeSize.minimum': `(${textWidth(state.label, CHART_FONT.stateSize) + 40}, 60)` },
    children: state.children.map(elkNode),
  };
}

function elkEdge(arrow: ChartArrow): ElkExtendedEdge {
  const lines = arrowLines(arrow);
  const width = Math.max(...lines.map((line) => textWidth(line, CHART_FONT.labelSize))) + 8;
  return {
    id: arrow.id,
    sources: [arrow.source],
    targets: [arrow.target],
    labels: [{ id: `${arrow.id}#label`, text: lines.join('\n'), width, height: lines.length * CHART_FONT.labelLine + 4 }],
  };
}

/** Lay out `graph`. Deterministic for a given graph. */
export async function layoutChart(graph: ChartGraph): Promise<ChartLayout> {
  const elk = new ELK();
  const input: ElkNode = {
    id: graph.rootId,
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      // Edges cross into and out of compound states (joined, reconnecting): lay out all levels together.
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '30',
      'elk.spacing.nodeNode': '36',
      'elk.spacing.edgeLabel': '4',
      'elk.spacing.edgeEdge': '14',
      // Break the chart's cycles in definition order, so the story reads top-down:
      // disconnected, connecting, negotiating, joined, reconnecting.
      'elk.layered.cycleBreaking.strategy': 'MODEL_ORDER',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.padding': '[top=16,left=16,bottom=16,right=16]',
    },
    children: graph.states.map(elkNode),
    edges: graph.arrows.map(elkEdge),
  };
  const result = await elk.layout(input);

  // ELK gives node positions relative to their parent and edge geometry relative to the edge's
  // container; convert everything to absolute coordinates once, here.
  const origin = new Map<string, { x: number; y: number }>([[graph.rootId, { x: 0, y: 0 }]]);
  const states: PlacedState[] = [];
  const byId = new Map<string, ChartState>();
  const index = (list: readonly ChartState[]): void =>
    list.forEach((s) => {
      byId.set(s.id, s);
      index(s.children);
    });
  index(graph.states);
  const visit = (nodes: readonly ElkNode[], parent: { x: number; y: number }, depth: number): void => {
    for (const node of nodes) {
      const x = parent.x + (node.x ?? 0);
      const y = parent.y + (node.y ?? 0);
      origin.set(node.id, { x, y });
      const state = byId.get(node.id);
      if (state) states.push({ state, x, y, width: node.width ?? 0, height: node.height ?? 0, depth });
      visit(node.children ?? [], { x, y }, depth + 1);
    }
  };
  visit(result.children ?? [], { x: 0, y: 0 }, 0);

  const arrowsById = new Map(graph.arrows.map((a) => [a.id, a]));
  const collectEdges = (node: ElkNode): ElkExtendedEdge[] => [...(node.edges ?? []), ...(node.children ?? []).flatMap(collectEdges)];
  const arrows: PlacedArrow[] = [];
  for (const edge of collectEdges(result)) {
    const arrow = arrowsById.get(edge.id);
    if (!arrow) continue;
    const offset = origin.get(edge.container ?? graph.rootId) ?? { x: 0, y: 0 };
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
