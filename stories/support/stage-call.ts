// A `StageControl` method call as plain JSON, so the page can ask `npm start` to run it, and the
// one place that turns such a call back into a method invocation.
import type { StageControl } from '../scenarios/story.js';

/** `{ method, args }` for any `StageControl` method, with that method's own argument types. */
export type StageCall = { [K in keyof StageControl]: { readonly method: K; readonly args: Parameters<StageControl[K]> } }[keyof StageControl];

/** What a `StageControl` method resolves with. */
export type StageResult<K extends keyof StageControl> = Awaited<ReturnType<StageControl[K]>>;

const METHODS: ReadonlySet<string> = new Set<keyof StageControl>([
  'drop',
  'stall',
  'resume',
  'refuse',
  'crashGateway',
  'bootGateway',
  'deploy',
  'publish',
  'setState',
  'stats',
]);

/** Narrow untrusted JSON to a `StageCall` by its method name and argument list (the stage validates values). */
export function isStageCall(value: unknown): value is StageCall {
  if (typeof value !== 'object' || value === null || !('method' in value) || !('args' in value)) return false;
  return typeof value.method === 'string' && METHODS.has(value.method) && Array.isArray(value.args);
}

/** Run `call` on `stage`. */
export function invokeStage(stage: StageControl, call: StageCall): Promise<unknown> {
  switch (call.method) {
    case 'drop':
      return stage.drop();
    case 'stall':
      return stage.stall();
    case 'resume':
      return stage.resume();
    case 'refuse':
      return stage.refuse(...call.args);
    case 'crashGateway':
      return stage.crashGateway();
    case 'bootGateway':
      return stage.bootGateway(...call.args);
    case 'deploy':
      return stage.deploy(...call.args);
    case 'publish':
      return stage.publish(...call.args);
    case 'setState':
      return stage.setState(...call.args);
    case 'stats':
      return stage.stats();
  }
}
