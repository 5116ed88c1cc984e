// The inspector's diagram comes from the machine definition: every state and every transition
// that changes state is drawn, and ELK places them without overlaps. Runs in Node (ELK's bundled
// build works in both), so layout regressions show up without a browser.
import { describe, expect, it } from 'vitest';
import type { AnyStateNode } from 'xstate';
import { gatewayMachine } from '../../machines/gateway-machine.js';
import { transitionKey } from '../../stories/support/chart-keys.js';
import { chartGraph, type ChartState } from '../../stories/page/chart-graph.js';
import { layoutChart } from '../../stories/page/chart-layout.js';

function allStates(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states).flatMap((child) => [child, ...allStates(child)]);
}

function flatten(states: readonly ChartState[]): ChartState[] {
  return states.flatMap((s) => [s, ...flatten(s.children)]);
}

describe('chart from the machine', () => {
  const graph = chartGraph(gatewayMachine);

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

  it('is laid out by ELK with every state placed, no overlapping siblings, and routed arrows', async () => {
    const layout = await layoutChart(graph);
    expect(layout.states).toHaveLength(flatten(graph.states).length);
    expect(layout.arrows).toHaveLength(graph.arrows.length);
    for (const arrow of layout.arrows) expect(arrow.points.length, arrow.arrow.id).toBeGreaterThanOrEqual(2);
    const top = layout.states.filter((s) => s.depth === 0);
    for (const a of top) {
      for (const b of top) {
        if (a === b) continue;
        const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
        expect(apart, `${a.state.id} overlaps ${b.state.id}`).toBe(true);
      }
    }
  });
});
