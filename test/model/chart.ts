// The chart as a graph, read from the real `gatewayMachine`: its state nodes, every transition
// definition (guarded branches, delayed and eventless ones included) and which of them a step
// takes. Model paths and coverage are both counted in these terms, so nothing here is hand-kept.
import { getMicrosteps, pathToStateValue, type AnyStateNode, type AnyTransitionDefinition, type SnapshotFrom } from 'xstate';
import { getStateNodes } from 'xstate/graph';
import { gatewayMachine, type GatewayMachineEvent } from '../../machines/gateway-machine.js';
import type { ChartSnapshot as ClientChartSnapshot } from '../../src/client/index.js';
// The inspector page names events and guards the same way, so model ids and the diagram agree.
import { eventLabel, guardName } from '../../stories/support/chart-keys.js';

export type Chart = typeof gatewayMachine;
export type ChartSnapshot = SnapshotFrom<Chart>;

/** A chart event as the model feeds it: a lifecycle fact or a delayed (`xstate.after.*`) event, tagged with its table row. */
export type ModelEvent = (GatewayMachineEvent | { readonly type: `xstate.after.${string}` }) & { readonly variant: string };

/** One transition definition of the chart. */
export interface ChartEdge {
  /** Stable and readable: `negotiating: hello.rejected#1 [retriesExhausted] -> disconnected`. */
  readonly id: string;
  readonly source: string;
  /** `socket.opened`, `after handshakeTimeout`, or `always`. */
  readonly event: string;
}

const shortId = (node: AnyStateNode): string => node.id.replace(/^gateway\.?/, '') || '(root)';


/** The identity of a transition definition, the same for the chart and for `chart.provide(...)` copies of it. */
export function edgeOf(transition: AnyTransitionDefinition): ChartEdge {
  const source = transition.source;
  const eventless = transition.eventType === '' || (source.always?.includes(transition) ?? false);
  const siblings = eventless ? (source.always ?? []) : (source.transitions.get(transition.eventType) ?? []);
  const index = siblings.indexOf(transition);
  const guard = guardName(transition);
  const targets = (transition.target ?? []).map(shortId).join(',') || '(stays)';
  const event = eventLabel(eventless ? '' : transition.eventType);
  const id = `${shortId(source)}: ${event}${siblings.length > 1 ? `#${index}` : ''}${guard ? ` [${guard}]` : ''} -> ${targets}${transition.reenter ? ' (reenter)' : ''}`;
  return { id, source: shortId(source), event };
}

/** Every state node except the root, by its short id (`joined.live`). */
export function chartStates(chart: Chart = gatewayMachine): string[] {
  return getStateNodes(chart.root).map(shortId);
}

/** Every transition definition of the chart, root included. */
export function chartEdges(chart: Chart = gatewayMachine): ChartEdge[] {
  const edges: ChartEdge[] = [];
  for (const node of [chart.root, ...getStateNodes(chart.root)]) {
    for (const list of node.transitions.values()) for (const t of list) edges.push(edgeOf(t));
    for (const t of node.always ?? []) edges.push(edgeOf(t));
  }
  return edges;
}

/** What a state's membership is read from: the chart's snapshot, or a client's read-only `chart` view of it. */
export type Matching = Pick<ClientChartSnapshot, 'matches'>;

/** The state nodes a snapshot is in (`joined`, `joined.live`). */
export function activeStates(snapshot: Matching, chart: Chart = gatewayMachine): string[] {
  return getStateNodes(chart.root)
    .filter((node) => snapshot.matches(pathToStateValue(node.path)))
    .map(shortId);
}

/** The deepest active state nodes, e.g. `joined.live`: where a step starts. */
export function leafState(snapshot: Matching, chart: Chart = gatewayMachine): string {
  const active = activeStates(snapshot, chart);
  return active.filter((id) => !active.some((other) => other.startsWith(`${id}.`))).join('+');
}

/** `xstate.after.*` event types the active states would receive when their delay fires. */
export function pendingDelayedEvents(snapshot: ChartSnapshot, chart: Chart = gatewayMachine): string[] {
  const active = new Set(activeStates(snapshot, chart));
  return getStateNodes(chart.root)
    .filter((node) => active.has(shortId(node)))
    .flatMap((node) => node.after.map((t) => t.eventType));
}

/** Evaluate a guard of an eventless transition; only named guards exist in this chart. */
function guardPasses(chart: Chart, transition: AnyTransitionDefinition, snapshot: ChartSnapshot, event: ModelEvent): boolean {
  const guard = transition.guard;
  if (guard === undefined) return true;
  const name = typeof guard === 'string' ? guard : undefined;
  const implementation = name === undefined ? undefined : (chart.implementations.guards as Record<string, unknown>)[name];
  if (typeof implementation !== 'function') {
    throw new Error(`test/model/chart.ts: cannot evaluate the guard of "${edgeOf(transition).id}"; only named guards are supported`);
  }
  return Boolean((implementation as (args: { context: unknown; event: unknown }, params: unknown) => unknown)({ context: snapshot.context, event }, undefined));
}

/**
 * The transitions one event takes from `snapshot`: the selected ones, then any eventless ones
 * that follow in the same macrostep (the chart's `always`, e.g. waiting -> offline).
 */
export function transitionsTaken(snapshot: ChartSnapshot, event: ModelEvent, chart: Chart = gatewayMachine): ChartEdge[] {
  const chartEvent = event as unknown as GatewayMachineEvent; // delayed events are valid input to `transition`, but not in the union
  const taken = chart.getTransitionData(snapshot, chartEvent).map(edgeOf);
  const micro = getMicrosteps(chart, snapshot, chartEvent);
  for (let i = 1; i < micro.length; i++) {
    const before = micro[i - 1]?.[0];
    if (!before) continue;
    const candidates = getStateNodes(chart.root).filter((node) => activeStates(before, chart).includes(shortId(node)));
    for (const node of candidates) {
      const fired = (node.always ?? []).find((t) => guardPasses(chart, t, before, event));
      if (fired) {
        taken.push(edgeOf(fired));
        break;
      }
    }
  }
  return taken;
}
