// What the real client's chart did, from its own inspection stream: every microstep with its
// event, resulting snapshot and the transition definitions it took. Coverage is counted from
// here, so it measures what ran against the real gateway, not what the plan meant to run.
import type { InspectionEvent } from 'xstate';
import { edgeOf, leafState, type ChartSnapshot } from './chart.js';

export interface TraceEntry {
  readonly event: { readonly type: string } & Record<string, unknown>;
  readonly snapshot: ChartSnapshot;
  readonly edges: readonly string[];
}

export interface Trace {
  readonly entries: readonly TraceEntry[];
  /** Pass as the client's `inspect` option. */
  observe(event: InspectionEvent): void;
  /** The next unread macrostep (its microsteps), waiting up to `timeoutMs`. */
  next(timeoutMs: number, expecting: string): Promise<TraceEntry[]>;
  /** Unread entries, for a final check that nothing unplanned happened. */
  unread(): readonly TraceEntry[];
  describe(entries?: readonly TraceEntry[]): string;
}

export function createTrace(): Trace {
  const entries: TraceEntry[] = [];
  const pending: TraceEntry[] = [];
  const macros: TraceEntry[][] = [];
  let read = 0;
  const waiters = new Set<() => void>();
  const trace: Trace = {
    entries,
    observe(event) {
      if (event.type === '@xstate.microstep') {
        pending.push({ event: event.event as TraceEntry['event'], snapshot: event.snapshot as ChartSnapshot, edges: event._transitions.map((t) => edgeOf(t).id) });
        return;
      }
      // The root actor's snapshot event closes a macrostep: everything one event caused.
      if (event.type !== '@xstate.snapshot' || event.actorRef.sessionId !== event.rootId || pending.length === 0) return;
      macros.push(pending.splice(0));
      entries.push(...(macros[macros.length - 1] ?? []));
      for (const wake of [...waiters]) wake();
    },
    async next(timeoutMs, expecting) {
      if (!macros[read]) {
        await new Promise<void>((resolve, reject) => {
          const wake = (): void => {
            clearTimeout(timer);
            waiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(() => {
            waiters.delete(wake);
            reject(new Error(`no chart event within ${timeoutMs} ms (expected ${expecting}); the client sits in ${trace.describe(entries.slice(-1))}`));
          }, timeoutMs);
          waiters.add(wake);
        });
      }
      return macros[read++] ?? [];
    },
    unread: () => macros.slice(read).flat(),
    describe(list = entries) {
      return list.map((e) => `${e.event.type} -> ${leafState(e.snapshot)}`).join('; ') || '(nothing)';
    },
  };
  return trace;
}
