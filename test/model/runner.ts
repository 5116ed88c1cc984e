// Runs one planned path against the real world: sets the knobs each stretch of the path needs,
// causes each triggered event, waits (bounded) for the real client's chart to take the same step
// as the model, and checks every state it rests in against the state table. Coverage is recorded
// from the real client's inspection trace.
import { isDeepStrictEqual } from 'node:util';
import { activeStates, leafState, type ChartSnapshot } from './chart.js';
import { rowOf, type ActionRow } from './actions.js';
import { STATE_TABLE } from './assertions.js';
import type { PlannedPath, PlannedStep } from './paths.js';
import type { BrowserShim } from './browser-shim.js';
import type { TraceEntry } from './trace.js';
import { createWorld, type Knobs, type World } from './world.js';

/** What the real runs covered: states entered, transitions taken, (state, event) pairs exercised. */
export interface Coverage {
  readonly goals: Set<string>;
  steps: number;
}

function holdOf(snapshot: ChartSnapshot): Partial<Knobs> {
  return Object.assign({}, ...activeStates(snapshot).map((s) => STATE_TABLE[s]?.hold?.(snapshot) ?? {})) as Partial<Knobs>;
}

function merge(into: Partial<Knobs>, from: Partial<Knobs>, why: string): void {
  for (const [key, value] of Object.entries(from) as Array<[keyof Knobs, Knobs[keyof Knobs]]>) {
    if (into[key] !== undefined && into[key] !== value) throw new Error(`infeasible path: ${why} needs ${key}=${String(value)} but the same stretch needs ${String(into[key])}`);
    (into as Record<string, unknown>)[key] = value;
  }
}

/** The facts of a snapshot the real client must agree on with the model. */
function facts(s: ChartSnapshot) {
  const c = s.context;
  return { value: s.value, attempt: c.attempt, handshake: c.handshake, online: c.online, outage: c.outage, tokenRefresh: c.tokenRefresh, protocol: c.protocol, error: c.error?.code ?? null, lastClose: c.lastClose?.code ?? null };
}

async function expectStep(world: World, step: PlannedStep, row: ActionRow, coverage: Coverage): Promise<TraceEntry> {
  const macro = await world.trace.next(row.timeoutMs ?? 2000, `${step.event.type} (${row.cause})`);
  const first = macro[0] as TraceEntry;
  const last = macro[macro.length - 1] as TraceEntry;
  const want = facts(step.after);
  const got = facts(last.snapshot);
  if (first.event.type !== step.event.type || !isDeepStrictEqual(want, got)) {
    throw new Error(
      `expected ${step.event.type} -> ${leafState(step.after)} ${JSON.stringify(want)}\n` +
        `     got ${world.trace.describe(macro)} ${JSON.stringify(got)}`,
    );
  }
  for (const entry of macro) for (const edge of entry.edges) coverage.goals.add(`edge:${edge}`);
  for (const state of activeStates(last.snapshot)) coverage.goals.add(`state:${state}`);
  coverage.goals.add(`pair:${leafState(step.before)} | ${step.event.variant}`);
  coverage.steps++;
  return last;
}

async function checkState(world: World, model: ChartSnapshot): Promise<void> {
  for (const state of activeStates(model)) {
    const row = STATE_TABLE[state];
    if (!row) throw new Error(`no assertion for state "${state}" in test/model/assertions.ts`);
    try {
      await row.check(world, model);
    } catch (error) {
      throw new Error(`state ${state}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

const hasSocket = (s: ChartSnapshot): boolean => s.matches('connecting') || s.matches('negotiating') || s.matches('joined');

/** Split a path into stretches: one triggered step, then the steps that follow on their own. */
function stretches(steps: readonly PlannedStep[]): PlannedStep[][] {
  const out: PlannedStep[][] = [];
  for (const step of steps) {
    const last = out[out.length - 1];
    if (rowOf(step.event).trigger || !last) out.push([step]);
    else last.push(step);
  }
  return out;
}

/** Run one path; throws with the step and the real trace on the first disagreement. */
export async function runPath(path: PlannedPath, browser: BrowserShim, coverage: Coverage): Promise<void> {
  const viaFront = path.steps.some((step) => rowOf(step.event).viaFront === true);
  // Every path starts from a fresh chart, which starts online: so must the (shared) browser.
  browser.setOnline(true);
  const world = await createWorld({ input: path.profile.input, viaFront, browser });
  let index = 0;
  try {
    for (const stretch of stretches(path.steps)) {
      const [lead, ...rest] = stretch as [PlannedStep, ...PlannedStep[]];
      const leadRow = rowOf(lead.event);
      const end = (stretch[stretch.length - 1] as PlannedStep).after;
      // Everything the stretch needs, then the hold that keeps the client where it ends.
      const needs: Partial<Knobs> = {};
      for (const step of leadRow.trigger ? rest : stretch) merge(needs, rowOf(step.event).needs?.(step.before) ?? {}, step.event.variant);
      merge(needs, holdOf(end), `resting in ${leafState(end)}`);
      // Settings that would release the state the client sits in now wait until the trigger has landed.
      const holding = holdOf(lead.before);
      const now: Partial<Knobs> = {};
      const later: Partial<Knobs> = {};
      for (const [key, value] of Object.entries(needs)) {
        const target = key in holding && (holding as Record<string, unknown>)[key] !== value ? later : now;
        (target as Record<string, unknown>)[key] = value;
      }
      await world.set(now);
      for (const step of stretch) {
        index++;
        const row = rowOf(step.event);
        try {
          if (step === lead && row.trigger) await row.trigger(world, step.before);
          await expectStep(world, step, row, coverage);
          if (step === lead) await world.set(later);
          // A stalled proxy reads nothing, not even the FIN of a socket the client gave up, so
          // it would keep that dead connection open. Clear it once the client has let go.
          if (world.knobs.proxy === 'stall' && !hasSocket(step.after)) world.proxy.drop();
          await row.promise?.(world, step.before);
          // Full checks where the client rests; passing states are checked by the step itself.
          if (step === stretch[stretch.length - 1]) await checkState(world, step.after);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          throw new Error(`${path.purpose} [${path.profile.name}], step ${index}/${path.steps.length} ${step.event.variant} from ${leafState(step.before)} (${row.cause}):\n  ${message}\n  path: ${describePath(path)}\n  real: ${world.trace.describe()}`);
        }
      }
    }
    const extra = world.trace.unread();
    const endsMoving = activeStates(path.steps[path.steps.length - 1]?.after ?? world.client.chart.getSnapshot()).some((s) => STATE_TABLE[s]?.transient === true);
    if (extra.length > 0 && !endsMoving) throw new Error(`${path.purpose}: unplanned chart events after the last step: ${world.trace.describe(extra)}`);
  } finally {
    await world.close();
  }
}

/** `user.connect -> connecting, socket.opened -> negotiating, …` */
export function describePath(path: PlannedPath): string {
  return path.steps.map((s) => `${s.event.variant} -> ${leafState(s.after)}`).join(', ');
}
