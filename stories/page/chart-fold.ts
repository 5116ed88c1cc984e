// Folds the chart for display, as Stately's visualizer does: a compound state is one box, its
// children hidden, until it is opened (the page opens the one the client is in, and any the
// reader clicks). Every arrow is drawn between two sibling boxes: its ends are lifted to the
// boxes that show them, then to the children of their lowest common ancestor, so an arrow into
// `reconnecting.backpressure` leaves `joined` and enters `reconnecting`, and the top level keeps
// the same arrows whatever is open. Arrows inside a closed box are left out; arrows that now join
// the same two boxes become one arrow listing all their events. Each event keeps the keys of its
// transitions, so a transition just taken still lights the arrow that stands for it.
import type { ChartArrow, ChartGraph, ChartState, ChartTrigger } from './chart-graph.js';

/** Ids of the states of `graph` that have children, i.e. those that fold. */
export function compoundStates(graph: ChartGraph): string[] {
  const ids: string[] = [];
  const visit = (states: readonly ChartState[]): void =>
    states.forEach((s) => {
      if (s.children.length > 0) ids.push(s.id);
      visit(s.children);
    });
  visit(graph.states);
  return ids;
}

/** The key of a set of open compound states (ids in chart order), as `ChartLayouts` files them. */
export function layoutKey(open: readonly string[]): string {
  return open.join(' ');
}

/** `graph` with every compound state not in `open` closed (drawn without children), and its arrows lifted and merged. */
export function foldChart(graph: ChartGraph, open: ReadonlySet<string>): ChartGraph {
  // Each state id -> the boxes from the top level down to the box that shows it.
  const shown = new Map<string, readonly string[]>();
  const fold = (state: ChartState, path: readonly string[], hiddenIn: readonly string[] | null): ChartState => {
    const here = [...path, state.id];
    shown.set(state.id, hiddenIn ?? here);
    const closed = hiddenIn === null && state.children.length > 0 && !open.has(state.id);
    const children = state.children.map((child) => fold(child, here, hiddenIn ?? (closed ? here : null)));
    return { ...state, children: closed ? [] : children, folded: closed ? state.children.length : 0 };
  };
  const states = graph.states.map((s) => fold(s, [], null));

  const arrows = new Map<string, { source: string; target: string; triggers: Map<string, ChartTrigger> }>();
  for (const arrow of graph.arrows) {
    const from = shown.get(arrow.source) ?? [arrow.source];
    const to = shown.get(arrow.target) ?? [arrow.target];
    // The first level where the two paths part: those two boxes are siblings.
    let level = 0;
    while (level < from.length && level < to.length && from[level] === to[level]) level++;
    const source = from[level];
    const target = to[level];
    const selfLoop = arrow.source === arrow.target && from[from.length - 1] === arrow.source;
    let ends: [string, string] | null = null;
    if (source !== undefined && target !== undefined) ends = [source, target];
    // One end contains the other (or both are in one closed box): inside a box, not drawn, but a
    // state's own self-transition is.
    else if (selfLoop) ends = [arrow.source, arrow.source];
    if (ends === null) continue;
    const id = `${ends[0]}->${ends[1]}`;
    const merged = arrows.get(id) ?? { source: ends[0], target: ends[1], triggers: new Map<string, ChartTrigger>() };
    arrows.set(id, merged);
    for (const trigger of arrow.triggers) {
      const known = merged.triggers.get(trigger.event);
      merged.triggers.set(trigger.event, known ? { ...known, guards: [...known.guards, ...trigger.guards], keys: [...known.keys, ...trigger.keys] } : trigger);
    }
  }
  return {
    rootId: graph.rootId,
    states,
    arrows: [...arrows.entries()].map(([id, a]): ChartArrow => ({ id, source: a.source, target: a.target, triggers: [...a.triggers.values()] })),
  };
}
