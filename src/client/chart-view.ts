// The client's chart as apps may see it: a read-only view of the running actor. Its snapshot is
// copied down to the state value and `matches`, and inspection goes through the actor system, so
// nothing here hands out a way to send the chart (or its socket actor) an event.
import type { Actor, AnyActorRef, InspectionEvent } from 'xstate';
import type { ClientMachine } from './client-machine.js';
import type { ChartInspector, ClientChart } from './types.js';

/**
 * A read-only view of `actor`. `isolate` wraps an observer as the `inspect` option's is wrapped, so
 * a throw is reported rather than breaking the chart's step.
 */
export function createChartView(actor: Actor<ClientMachine>, isolate: (observer: ChartInspector) => (event: InspectionEvent) => void): ClientChart {
  return {
    getSnapshot() {
      const snapshot = actor.getSnapshot();
      return { value: snapshot.value, matches: (state) => snapshot.matches(state as Parameters<typeof snapshot.matches>[0]) };
    },
    inspect(observer) {
      const deliver = isolate(observer);
      // An inspector attached now missed the actors' start: introduce the ones running.
      const children = Object.values(actor.getSnapshot().children).filter((child): child is AnyActorRef => child !== undefined);
      for (const actorRef of [actor, ...children]) deliver({ type: '@xstate.actor', actorRef, rootId: actor.sessionId });
      const subscription = actor.system.inspect(deliver);
      return () => subscription.unsubscribe();
    },
  };
}
