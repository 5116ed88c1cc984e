// Path generation from the real chart with `xstate/graph`: traverse it with the concrete events
// the real world can produce (the action table), then choose paths that reach every state and
// take every transition and every (state, event) pair at least once. Pure: no sockets here.
import { getInitialSnapshot, transition } from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import { gatewayMachine, type GatewayMachineEvent, type GatewayMachineInput } from '../../machines/gateway-machine.js';
import { activeStates, chartEdges, chartStates, leafState, transitionsTaken, type Chart, type ChartSnapshot, type ModelEvent } from './chart.js';
import { closeAsksToWait } from '../../src/protocol/close-codes.js';

/** A row source of the event table: the concrete events it can produce from a snapshot (none where the world cannot). */
export interface EventSource {
  readonly variant: string;
  events(snapshot: ChartSnapshot): readonly ModelEvent[];
}

/** One configuration of the client, traversed separately (context the chart never changes, like `reconnect`). */
export interface Profile {
  readonly name: string;
  readonly input: GatewayMachineInput;
}

export interface PlannedStep {
  readonly event: ModelEvent;
  readonly before: ChartSnapshot;
  readonly after: ChartSnapshot;
  /** Goals this step achieves: `state:…`, `edge:…`, `pair:…`. */
  readonly goals: readonly string[];
}

export interface PlannedPath {
  readonly profile: Profile;
  /** Why it was chosen: `shortest to joined.live`, or `cover 7 goals`. */
  readonly purpose: string;
  readonly steps: readonly PlannedStep[];
}

export interface Plan {
  readonly paths: readonly PlannedPath[];
  /** Every goal of the chart: all states and transitions, plus the (state, event) pairs the world can produce. */
  readonly goals: ReadonlySet<string>;
  /** Goals no generated path reaches (should be empty; the suite fails otherwise). */
  readonly unreachable: readonly string[];
}

/** Longest walk the greedy cover builds; short paths keep a failure easy to read. */
const MAX_STEPS = 14;

/**
 * The abstraction the traversal works on: the state value plus the context that guards read
 * (the outage phase included: it picks `reconnecting` or `suspended`).
 * Numbers like `retryInMs` stay out, or every jittered delay would be a new state.
 */
export function serializeState(snapshot: ChartSnapshot): string {
  const c = snapshot.context;
  return JSON.stringify([snapshot.value, c.attempt, c.handshake, c.online, c.lastClose !== null && closeAsksToWait(c.lastClose.code), c.outage, c.tokenRefresh]);
}

function stepGoals(chart: Chart, before: ChartSnapshot, event: ModelEvent, after: ChartSnapshot): string[] {
  return [
    ...activeStates(after, chart).map((s) => `state:${s}`),
    ...transitionsTaken(before, event, chart).map((e) => `edge:${e.id}`),
    `pair:${leafState(before, chart)} | ${event.variant}`,
  ];
}

/** `getAdjacencyMap`'s result, keyed by serialized state and serialized event. */
type Adjacency = Record<string, { state: ChartSnapshot; transitions: Record<string, { event: ModelEvent; state: ChartSnapshot }> }>;

interface Graph {
  readonly adjacency: Adjacency;
  readonly initial: ChartSnapshot;
  /** `getShortestPaths`: the shortest path to every abstract state, as snapshots and events. */
  readonly shortest: ReadonlyArray<{ readonly states: ChartSnapshot[]; readonly events: ModelEvent[] }>;
}

function traverse(chart: Chart, profile: Profile, sources: readonly EventSource[]): Graph {
  const eventsOf = (snapshot: ChartSnapshot): ModelEvent[] => sources.flatMap((s) => s.events(snapshot));
  // Typed as the chart's own events; the delayed ones (`xstate.after.*`) are accepted by `transition` too.
  const events = eventsOf as unknown as (snapshot: ChartSnapshot) => GatewayMachineEvent[];
  const options = { input: profile.input, events, serializeState };
  const adjacency = getAdjacencyMap(chart, options) as unknown as Adjacency;
  // Each path's steps are (event, state after it), starting with `xstate.init` and the initial state.
  const shortest = getShortestPaths(chart, options).map((path) => ({
    states: path.steps.map((step) => step.state),
    events: path.steps.slice(1).map((step) => step.event as unknown as ModelEvent),
  }));
  // Not the graph's copy: it keeps one representative per abstract state, which may be a later one.
  const initial = getInitialSnapshot(chart, profile.input);
  return { adjacency, initial, shortest };
}

/**
 * Steps with exact snapshots: the graph merges states that differ only outside the abstraction
 * (e.g. `lastClose`), so the events are replayed from the start with the chart's own `transition`.
 */
function toSteps(chart: Chart, states: readonly ChartSnapshot[], events: readonly ModelEvent[]): PlannedStep[] {
  let before = states[0];
  if (!before) throw new Error('a path needs a start');
  return events.map((event) => {
    const [after] = transition(chart, before as ChartSnapshot, event as unknown as GatewayMachineEvent);
    const step = { event, before: before as ChartSnapshot, after, goals: stepGoals(chart, before as ChartSnapshot, event, after) };
    before = after;
    return step;
  });
}

/** Breadth-first from `from` to the nearest step that achieves an uncovered goal; returns its snapshots and events. */
function nearestUncovered(chart: Chart, graph: Graph, from: ChartSnapshot, uncovered: ReadonlySet<string>, budget: number) {
  const start = serializeState(from);
  const parents = new Map<string, { prev: string; event: ModelEvent } | null>([[start, null]]);
  const depth = new Map<string, number>([[start, 0]]);
  const queue = [start];
  const pathTo = (key: string, last: { event: ModelEvent; next: ChartSnapshot }) => {
    const events: ModelEvent[] = [last.event];
    const keys: string[] = [key];
    for (let k = key, p = parents.get(k); p; k = p.prev, p = parents.get(k)) {
      events.unshift(p.event);
      keys.unshift(p.prev);
    }
    const states = keys.map((k) => graph.adjacency[k]?.state).filter((s): s is ChartSnapshot => s !== undefined);
    return { states: [...states, last.next], events };
  };
  while (queue.length > 0) {
    const key = queue.shift() as string;
    const node = graph.adjacency[key];
    const d = depth.get(key) ?? 0;
    if (!node || d >= budget) continue;
    for (const { event, state: next } of Object.values(node.transitions)) {
      if (stepGoals(chart, node.state, event, next).some((g) => uncovered.has(g))) return pathTo(key, { event, next });
      const nextKey = serializeState(next);
      if (parents.has(nextKey)) continue;
      parents.set(nextKey, { prev: key, event });
      depth.set(nextKey, d + 1);
      queue.push(nextKey);
    }
  }
  return undefined;
}

/** All goals of one profile's graph: what its steps can achieve. */
function reachableGoals(chart: Chart, graph: Graph): Set<string> {
  const goals = new Set<string>();
  for (const node of Object.values(graph.adjacency)) {
    for (const { event, state } of Object.values(node.transitions)) for (const g of stepGoals(chart, node.state, event, state)) goals.add(g);
  }
  return goals;
}

/**
 * Plan the suite: for each profile, the shortest path to every state node, then greedy walks
 * (each a chain of shortest hops to the nearest uncovered goal) until nothing new is reachable.
 */
export function planPaths(sources: readonly EventSource[], profiles: readonly Profile[], chart: Chart = gatewayMachine): Plan {
  const goals = new Set<string>([...chartStates(chart).map((s) => `state:${s}`), ...chartEdges(chart).map((e) => `edge:${e.id}`)]);
  const graphs = profiles.map((profile) => ({ profile, graph: traverse(chart, profile, sources) }));
  for (const { graph } of graphs) for (const g of reachableGoals(chart, graph)) if (g.startsWith('pair:')) goals.add(g);
  const uncovered = new Set(goals);
  const paths: PlannedPath[] = [];
  const take = (path: PlannedPath): void => {
    paths.push(path);
    for (const step of path.steps) for (const g of step.goals) uncovered.delete(g);
  };

  const [main] = graphs;
  if (main) {
    for (const state of chartStates(chart)) {
      if (!uncovered.has(`state:${state}`)) continue;
      const found = main.graph.shortest
        .filter((path) => path.states.length > 1 && activeStates(path.states[path.states.length - 1] as ChartSnapshot, chart).includes(state))
        .sort((a, b) => a.events.length - b.events.length)[0];
      if (found) take({ profile: main.profile, purpose: `shortest to ${state}`, steps: toSteps(chart, [main.graph.initial], found.events) });
    }
  }
  for (const { profile, graph } of graphs) {
    for (;;) {
      const states: ChartSnapshot[] = [graph.initial];
      const events: ModelEvent[] = [];
      const pending = new Set(uncovered);
      for (;;) {
        const current = states[states.length - 1] as ChartSnapshot;
        const hop = nearestUncovered(chart, graph, current, pending, MAX_STEPS - events.length);
        if (!hop) break;
        states.push(...hop.states.slice(1));
        events.push(...hop.events);
        for (const step of toSteps(chart, hop.states, hop.events)) for (const g of step.goals) pending.delete(g);
      }
      if (events.length === 0) break;
      const steps = toSteps(chart, states, events);
      const fresh = new Set(steps.flatMap((s) => s.goals).filter((g) => uncovered.has(g)));
      take({ profile, purpose: `cover ${fresh.size} goals`, steps });
    }
  }
  return { paths, goals, unreachable: [...uncovered].sort() };
}
