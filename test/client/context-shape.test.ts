// The chart's context stays a fast-mode object in V8. XState's `assign` makes every new context with
// `Object.assign({}, context, update)`, and past CONTEXT_FIELD_LIMIT (19) properties V8 makes that
// object a dictionary: 0.75-1.5 KiB more per client (bench/README, memory). The count is checked
// here in-process; a child node with natives syntax checks the mode itself, so production code
// never needs `%HasFastProperties`.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { CONTEXT_FIELD_LIMIT, gatewayMachine } from '../../machines/gateway-machine.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/context-shape.ts', import.meta.url));

interface ShapeReport {
  readonly limit: number;
  readonly probe: { readonly atLimit: boolean; readonly pastLimit: boolean };
  readonly seen: ReadonlyArray<{ readonly step: string; readonly fields: number; readonly fast: boolean }>;
}

function runFixture(): Promise<ShapeReport> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', FIXTURE], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`context-shape fixture failed: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as ShapeReport);
    });
  });
}

describe('the chart context', () => {
  it(`has at most ${CONTEXT_FIELD_LIMIT} fields, with and without options`, () => {
    for (const input of [{}, { nodes: 3, transports: ['http' as const], handshakeTimeoutMs: 50, reconnect: false as const, random: () => 0 }]) {
      const actor = createActor(gatewayMachine, { input }).start();
      expect(Object.keys(actor.getSnapshot().context).length).toBeLessThanOrEqual(CONTEXT_FIELD_LIMIT);
      actor.stop();
    }
  });

  it('stays in V8 fast mode through fallback, join, drop, refusal and stop', async () => {
    const report = await runFixture();
    // The limit is V8's: an `assign`-made object of that many fields is fast, one more is not.
    expect(report.probe).toEqual({ atLimit: true, pastLimit: false });
    expect(report.seen.length).toBeGreaterThan(10);
    for (const step of report.seen) expect(step, step.step).toMatchObject({ fast: true });
  });
});
