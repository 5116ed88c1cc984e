// Stable names for the chart's states and transitions, shared by the timeline (which sees taken
// transitions through the inspector) and the diagram (which draws them from the definition).
// The client runs `gatewayMachine.provide(...)`, a copy with new objects, so transitions are
// matched by position in the definition, never by identity.
import type { AnyTransitionDefinition } from 'xstate';

/** The key of one arrow: source state, event, position among that event's candidates, target index. */
export function transitionKey(transition: AnyTransitionDefinition, targetIndex = 0): string {
  const source = transition.source;
  const candidates = transition.eventType === '' ? (source.always ?? []) : (source.transitions.get(transition.eventType) ?? []);
  return `${source.id}|${eventLabel(transition.eventType)}|${candidates.indexOf(transition)}|${targetIndex}`;
}

// Delayed transitions are `xstate.after.<delay>.<state id>`; the delay name is what a reader knows.
const DELAYED = /^xstate\.after\.([^.]+)\./;

/** A readable event name: `after retryDelay` for delayed events, `always` for eventless ones. */
export function eventLabel(eventType: string): string {
  if (eventType === '') return 'always';
  const after = DELAYED.exec(eventType);
  return after ? `after ${after[1] ?? ''}` : eventType;
}

/** True for a delayed (`after`) transition's event type. */
export function isDelayed(eventType: string): boolean {
  return DELAYED.test(eventType);
}

/** The guard's name (`isFatalClose`), an inline guard's function name (or `inline`), or undefined when unguarded. */
export function guardName(transition: AnyTransitionDefinition): string | undefined {
  const guard: unknown = transition.guard;
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'inline';
  return typeof guard === 'object' && guard !== null && 'type' in guard && typeof guard.type === 'string' ? guard.type : 'inline';
}

/**
 * Active state ids for a snapshot value, parents first: `{joined: 'live'}` gives
 * `['gateway.joined', 'gateway.joined.live']` under the root id `gateway`.
 */
export function activeStateIds(value: unknown, rootId: string): string[] {
  if (typeof value === 'string') return [`${rootId}.${value}`];
  if (typeof value !== 'object' || value === null) return [];
  const ids: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const id = `${rootId}.${key}`;
    ids.push(id, ...activeStateIds(child, id));
  }
  return ids;
}

/** `joined.live` for `{joined: 'live'}`: the deepest active path, dotted. */
export function stateLabel(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  return Object.entries(value)
    .map(([key, child]) => {
      const inner = stateLabel(child);
      return inner === '' ? key : `${key}.${inner}`;
    })
    .join(',');
}
