// The statechart as a graph, read from the machine definition with `toDirectedGraph`: states
// become (nested) nodes and transitions become arrows. Parallel transitions between the same two
// states share one arrow whose label lists their events, so the diagram stays readable
// (`chart-fold.ts` then folds compound states and merges again between the boxes drawn).
// Targetless transitions (actions only, such as `network.online` updating context) change no
// state and are left out. Nothing here knows coordinates: `chart-layout.ts` asks ELK for them.
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';
import { toDirectedGraph, type DirectedGraphNode } from 'xstate/graph';
import { eventLabel, guardName, isDelayed, transitionKey } from '../support/chart-keys.js';

/** One state. `children` is empty for leaf states. */
export interface ChartState {
  /** The state node id, e.g. `gateway.joined.live`. */
  readonly id: string;
  /** The state's own key, e.g. `live`. */
  readonly label: string;
  /** True for the initial child of its parent. */
  readonly initial: boolean;
  readonly children: readonly ChartState[];
  /** How many child states a folded (closed) compound state hides (see `foldChart`); 0 when they show. */
  readonly folded: number;
}

/** One event on an arrow. */
export interface ChartTrigger {
  /** `socket.closed`, `after retryDelay`, `always`, … */
  readonly event: string;
  /** A timer (`after <delay>`) rather than an event from the world. */
  readonly delayed: boolean;
  /** Guard names of the transitions for this event, in the order they are tried. */
  readonly guards: readonly string[];
  /** `transitionKey`s of those transitions: the timeline names taken transitions by these. */
  readonly keys: readonly string[];
}

/** One arrow: every transition from `source` to `target`. */
export interface ChartArrow {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  readonly triggers: readonly ChartTrigger[];
}

/** The whole chart: the root's children and every arrow. */
export interface ChartGraph {
  readonly rootId: string;
  readonly states: readonly ChartState[];
  readonly arrows: readonly ChartArrow[];
}

function stateOf(node: DirectedGraphNode): ChartState {
  const stateNode = node.stateNode;
  const parentInitial = stateNode.parent?.config.initial;
  return {
    id: stateNode.id,
    label: stateNode.key,
    initial: parentInitial === stateNode.key,
    children: node.children.map(stateOf),
    folded: 0,
  };
}

/** Every transition with a target, from `toDirectedGraph`'s edges plus eventless (`always`) ones. */
function transitionsOf(node: DirectedGraphNode): Array<{ transition: AnyTransitionDefinition; target: AnyStateNode; index: number }> {
  const own = node.edges
    .filter((edge) => edge.transition.target !== undefined)
    .map((edge) => ({ transition: edge.transition, target: edge.target, index: edge.transition.target?.indexOf(edge.target) ?? 0 }));
  // toDirectedGraph reads `on`/`after`/`onDone`, not `always`; the chart's always-edges matter too.
  const always = (node.stateNode.always ?? []).flatMap((transition) =>
    (transition.target ?? []).map((target, index) => ({ transition, target, index })),
  );
  return [...own, ...always, ...node.children.flatMap(transitionsOf)];
}

/** Build the chart graph of `machine`. */
export function chartGraph(machine: AnyStateMachine): ChartGraph {
  const root = toDirectedGraph(machine);
  const arrows = new Map<string, { source: string; target: string; triggers: Map<string, { delayed: boolean; guards: string[]; keys: string[] }> }>();
  for (const { transition, target, index } of transitionsOf(root)) {
    const id = `${transition.source.id}->${target.id}`;
    const arrow = arrows.get(id) ?? { source: transition.source.id, target: target.id, triggers: new Map() };
    arrows.set(id, arrow);
    const event = eventLabel(transition.eventType);
    const trigger = arrow.triggers.get(event) ?? { delayed: isDelayed(transition.eventType), guards: [], keys: [] };
    arrow.triggers.set(event, trigger);
    const guard = guardName(transition);
    if (guard !== undefined) trigger.guards.push(guard);
    trigger.keys.push(transitionKey(transition, index));
  }
  return {
    rootId: root.id,
    states: root.children.map(stateOf),
    arrows: [...arrows.entries()].map(([id, a]) => ({
      id,
      source: a.source,
      target: a.target,
      triggers: [...a.triggers.entries()].map(([event, t]) => ({ event, delayed: t.delayed, guards: t.guards, keys: t.keys })),
    })),
  };
}
