// The inspector's diagram comes from the machine definition: every state and every transition
// that changes state is drawn, folded so the top level fits one screen, and ELK places it without
// overlaps. Runs in Node (ELK's bundled build works in both), so layout regressions show up
// without a browser; the browser test checks the drawn page at two window sizes.
import elkBundle from 'elkjs/lib/elk.bundled.js';
import { describe, expect, it } from 'vitest';
import type { AnyStateNode } from 'xstate';
import { gatewayMachine } from '../../machines/gateway-machine.js';
import { transitionKey } from '../../stories/support/chart-keys.js';
import { chartGraph, type ChartGraph, type ChartState } from '../../stories/page/chart-graph.js';
import { compoundStates, foldChart } from '../../stories/page/chart-fold.js';
import { layoutChart, type ChartLayout, type PlacedState } from '../../stories/page/chart-layout.js';

// elk.bundled.js is CommonJS and sets `module.exports.default = ELK` on itself: `.default` is the constructor.
const elk = new elkBundle.default();

function allStates(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states).flatMap((child) => [child, ...allStates(child)]);
}

function flatten(states: readonly ChartState[]): ChartState[] {
  return states.flatMap((s) => [s, ...flatten(s.children)]);
}

/** Parent id of every drawn state (the root id for top-level ones). */
function parents(graph: ChartGraph): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (states: readonly ChartState[], parent: string): void =>
    states.forEach((s) => {
      out.set(s.id, parent);
      visit(s.children, s.id);
    });
  visit(graph.states, graph.rootId);
  return out;
}

function apart(a: PlacedState, b: PlacedState): boolean {
  return a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
}

function expectPlaced(layout: ChartLayout, graph: ChartGraph): void {
  expect(layout.states).toHaveLength(flatten(graph.states).length);
  expect(layout.arrows).toHaveLength(graph.arrows.length);
  for (const arrow of layout.arrows) expect(arrow.points.length, arrow.arrow.id).toBeGreaterThanOrEqual(2);
  const parentOf = parents(graph);
  for (const a of layout.states) {
    for (const b of layout.states) {
      if (a === b || parentOf.get(a.state.id) !== parentOf.get(b.state.id)) continue;
      expect(apart(a, b), `${a.state.id} overlaps ${b.state.id}`).toBe(true);
    }
  }
}

describe('chart from the machine', () => {
  const graph = chartGraph(gatewayMachine);
  const top = graph.states.map((s) => s.id);

  it('has a node for every state of gatewayMachine', () => {
    const expected = allStates(gatewayMachine.root).map((s) => s.id).sort();
    expect(flatten(graph.states).map((s) => s.id).sort()).toEqual(expected);
  });

  it('draws every transition that has a target, under the key the timeline uses', () => {
    const drawn = new Set(graph.arrows.flatMap((a) => a.triggers.flatMap((t) => t.keys)));
    const expected = allStates(gatewayMachine.root).flatMap((state) =>
      [...[...state.transitions.values()].flat(), ...(state.always ?? [])].flatMap((t) => (t.target ?? []).map((_, i) => transitionKey(t, i))),
    );
    expect(expected.length).toBeGreaterThan(20);
    for (const key of expected) expect(drawn.has(key), key).toBe(true);
  });

  it('folded, shows only the top-level states, with one arrow per pair of them that keeps every transition between them', () => {
    const folded = foldChart(graph, new Set());
    expect(folded.states.map((s) => s.id)).toEqual(top);
    for (const state of folded.states) {
      expect(state.children, state.id).toEqual([]);
      const original = graph.states.find((s) => s.id === state.id);
      expect(state.folded, state.id).toBe(original?.children.length ?? 0);
    }
    const pairs = folded.arrows.map((a) => `${a.source}->${a.target}`);
    expect(new Set(pairs).size, 'parallel arrows merged').toBe(pairs.length);
    for (const arrow of folded.arrows) expect(top.includes(arrow.source) && top.includes(arrow.target), arrow.id).toBe(true);
    // Every transition from one top-level state to another keeps its key on the merged arrow.
    const topOf = (id: string): string => top.find((t) => id === t || id.startsWith(`${t}.`)) ?? id;
    for (const arrow of graph.arrows) {
      const [from, to] = [topOf(arrow.source), topOf(arrow.target)];
      if (from === to && arrow.source !== arrow.target) continue;
      const merged = folded.arrows.find((a) => a.source === from && a.target === to);
      for (const key of arrow.triggers.flatMap((t) => t.keys)) expect(merged?.triggers.some((t) => t.keys.includes(key)), key).toBe(true);
    }
    // Far fewer arrows than the chart's transitions, each listing its events once.
    expect(folded.arrows.length).toBeLessThan(graph.arrows.length);
    for (const arrow of folded.arrows) expect(new Set(arrow.triggers.map((t) => t.event)).size, arrow.id).toBe(arrow.triggers.length);
  });

  it('opening a compound state shows its children and the arrows between them; the top level keeps its arrows', () => {
    const closed = foldChart(graph, new Set());
    const topArrows = closed.arrows.map((a) => a.id).sort();
    for (const id of compoundStates(graph)) {
      const open = foldChart(graph, new Set([id]));
      const state = open.states.find((s) => s.id === id);
      const children = graph.states.find((s) => s.id === id)?.children.map((c) => c.id) ?? [];
      expect(state?.children.map((c) => c.id), id).toEqual(children);
      const inside = open.arrows.filter((a) => children.includes(a.source));
      for (const arrow of inside) expect(children.includes(arrow.target), arrow.id).toBe(true);
      expect(open.arrows.filter((a) => top.includes(a.source)).map((a) => a.id).sort(), id).toEqual(topArrows);
    }
    // reconnecting's own waits: waiting -> offline is drawn inside it.
    const reconnecting = foldChart(graph, new Set(['gateway.reconnecting']));
    expect(reconnecting.arrows.map((a) => a.id)).toContain('gateway.reconnecting.waiting->gateway.reconnecting.offline');
  });

  it('is laid out by ELK, folded and with every compound state open, with every state placed, no overlapping siblings, and routed arrows', async () => {
    for (const open of [[], compoundStates(graph)]) {
      const folded = foldChart(graph, new Set(open));
      expectPlaced(await layoutChart(folded, elk), folded);
    }
  });
});
