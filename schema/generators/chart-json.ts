// The chart as data: every state node and every transition definition of `gatewayMachine`, in a
// language-neutral JSON form (schema/client-chart.json). Other clients (clients/python) run from a
// transition table that a test checks against this file, so the chart stays the one lifecycle.
// Pure: reads the machine definition, touches nothing.
import type { AnyStateNode, AnyTransitionDefinition } from 'xstate';
import { getStateNodes } from 'xstate/graph';
import { gatewayMachine, type GatewayMachine } from '../../machines/gateway-machine.js';
// The inspector page and the model tests name events and guards the same way.
import { eventLabel, guardName } from '../../stories/support/chart-keys.js';

/** One state node. Ids are dotted paths below the root (`joined.live`); the root is `""`. */
export interface ChartStateData {
  readonly id: string;
  readonly parent: string | null;
  readonly type: 'atomic' | 'compound';
  /** The child entered by default, for compound states. */
  readonly initial: string | null;
  /** Named entry and exit actions, in order (XState's own timer and invoke plumbing left out). */
  readonly entry: readonly string[];
  readonly exit: readonly string[];
  /** Actors invoked while the state is active, by their `src` name. */
  readonly invoke: readonly string[];
  /** Named delays whose timers start on entry and stop on exit. */
  readonly after: readonly string[];
}

/** One transition definition. Candidates for the same (source, event) are tried in `index` order. */
export interface ChartTransitionData {
  readonly source: string;
  /** The event type; `after <delay>` for delayed transitions, `always` for eventless ones. */
  readonly event: string;
  readonly index: number;
  readonly guard: string | null;
  /** Target state ids; empty for a transition that only runs actions. */
  readonly targets: readonly string[];
  readonly actions: readonly string[];
  /** Exit and enter the target even when it is the source (XState `reenter: true`). */
  readonly reenter: boolean;
}

/** The whole chart. */
export interface ChartData {
  readonly id: string;
  readonly states: readonly ChartStateData[];
  readonly transitions: readonly ChartTransitionData[];
}

const shortId = (node: AnyStateNode): string => node.path.join('.');

/** Named actions only: XState adds functions of its own for delays and invokes. */
function actionNames(actions: readonly unknown[]): string[] {
  return actions.flatMap((action) => (typeof action === 'string' ? [action] : []));
}

function eventName(transition: AnyTransitionDefinition, eventless: boolean): string {
  return eventLabel(eventless ? '' : transition.eventType);
}

function transitionData(transition: AnyTransitionDefinition, index: number, eventless: boolean): ChartTransitionData {
  return {
    source: shortId(transition.source),
    event: eventName(transition, eventless),
    index,
    guard: guardName(transition) ?? null,
    targets: (transition.target ?? []).map(shortId),
    actions: actionNames(transition.actions),
    reenter: transition.reenter,
  };
}

function stateData(node: AnyStateNode): ChartStateData {
  const delays = node.after.map((t) => eventName(t, false).replace(/^after /, ''));
  return {
    id: shortId(node),
    parent: node.parent ? shortId(node.parent) : null,
    type: node.type === 'compound' ? 'compound' : 'atomic',
    initial: node.type === 'compound' ? (node.initial.target[0] ? shortId(node.initial.target[0]) : null) : null,
    entry: actionNames(node.entry),
    exit: actionNames(node.exit),
    invoke: node.invoke.map((i) => (typeof i.src === 'string' ? i.src : i.id)),
    after: [...new Set(delays)],
  };
}

/** The chart's states and transitions as plain data. */
export function chartData(chart: GatewayMachine = gatewayMachine): ChartData {
  const nodes = [chart.root, ...getStateNodes(chart.root)];
  const transitions: ChartTransitionData[] = [];
  for (const node of nodes) {
    for (const list of node.transitions.values()) list.forEach((t, i) => transitions.push(transitionData(t, i, false)));
    (node.always ?? []).forEach((t, i) => transitions.push(transitionData(t, i, true)));
  }
  return { id: chart.id, states: nodes.map(stateData), transitions };
}

/** schema/client-chart.json as written by `npm run chart`. */
export function renderChartJson(chart: GatewayMachine = gatewayMachine): string {
  return `${JSON.stringify({ $comment: 'Generated from machines/gateway-machine.ts by `npm run chart`; do not edit.', ...chartData(chart) }, null, 2)}\n`;
}
