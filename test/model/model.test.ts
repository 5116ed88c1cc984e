// Model-based tests: paths generated from the real chart (`xstate/graph`), each replayed against a
// real gateway, real sockets and the real client. Fails on any step where the client or gateway
// disagree with the chart, and on any state, transition or (state, event) pair no path covered.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_TABLE } from './actions.js';
import { STATE_TABLE } from './assertions.js';
import { installBrowserShim, type BrowserShim } from './browser-shim.js';
import { chartEdges, chartStates } from './chart.js';
import { planPaths } from './paths.js';
import { MODEL_PROFILES as PROFILES } from './profiles.js';
import { runPath, type Coverage } from './runner.js';
import { renderModelVectors } from '../vectors/render-vectors.js';

/**
 * Transitions no real-world action can take, each with the reason. Kept exact: an entry that is
 * covered or no longer in the chart fails the suite too, so this list cannot hide a new gap.
 */
// Transitions no real-world action can take, each with the reason. Must stay exact: the suite fails
// if one becomes reachable or a new unreachable one appears.
const UNREACHABLE: Readonly<Record<string, string>> = {
  'edge:(root): transport.retry_due -> (stays)':
    "the model world's gateway speaks WebSocket only, so its client never joins over a fallback transport (whose join starts this clock); test/client/gateway-machine.test.ts and the HTTP transport tests cover it",
  'edge:joined: transport.retry_due -> (stays)': 'the same clock, falling due while joined over a fallback transport: test/client/transport-fallback.test.ts and transport-choice.test.ts cover it',
  'edge:joined: transport.probe_opened -> connecting': 'no probe runs in a world with one transport: test/client/transport-fallback.test.ts and transport-choice.test.ts cover it',
  'edge:joined: transport.probe_failed -> (stays)': 'no probe runs in a world with one transport: test/client/transport-fallback.test.ts and transport-choice.test.ts cover it',
};

const started = Date.now();
const plan = planPaths(ACTION_TABLE, PROFILES);
const planMs = Date.now() - started;
const coverage: Coverage = { goals: new Set(), steps: 0 };
let browser: BrowserShim;

beforeAll(() => {
  browser = installBrowserShim();
});
afterAll(() => browser.uninstall());

describe('the model tables match the chart', () => {
  it('has an action for every chart event and an assertion for every state, and nothing else', () => {
    const eventTypes = new Set(chartEdges().map((e) => e.event).filter((e) => e !== 'always'));
    const rowTypes = new Set(ACTION_TABLE.map((r) => r.type.replace(/^xstate\.after\./, 'after ')));
    expect([...eventTypes].filter((t) => !rowTypes.has(t)), 'chart events without a row in test/model/actions.ts').toEqual([]);
    expect([...rowTypes].filter((t) => !eventTypes.has(t)), 'rows in test/model/actions.ts for events the chart no longer has').toEqual([]);
    expect(Object.keys(STATE_TABLE).sort(), 'test/model/assertions.ts must list exactly the chart states').toEqual(chartStates().sort());
  });

  it('exports these paths as the Python client\'s vectors, current (npm run chart)', () => {
    const file = new URL('../../clients/python/tests/vectors/model-paths.json', import.meta.url);
    expect(readFileSync(file, 'utf8') === renderModelVectors(plan), 'clients/python/tests/vectors/model-paths.json is stale: run npm run chart').toBe(true);
  });

  it('plans paths that reach every goal but the listed unreachable ones', () => {
    expect(plan.unreachable).toEqual(Object.keys(UNREACHABLE).sort());
  });
});

describe('generated paths against a real gateway', () => {
  for (const [i, path] of plan.paths.entries()) {
    it(`path ${i + 1}: ${path.purpose} [${path.profile.name}, ${path.steps.length} steps]`, { timeout: 30_000 }, async () => {
      await runPath(path, browser, coverage);
    });
  }

  it('covered every state, transition and (state, event) pair by executed steps', () => {
    const missing = [...plan.goals].filter((g) => !coverage.goals.has(g) && !(g in UNREACHABLE)).sort();
    const waivedButCovered = Object.keys(UNREACHABLE).filter((g) => coverage.goals.has(g));
    const count = (prefix: string) => [...plan.goals].filter((g) => g.startsWith(prefix)).length;
    const covered = (prefix: string) => [...coverage.goals].filter((g) => g.startsWith(prefix) && plan.goals.has(g)).length;
    console.log(
      [
        `model: ${chartStates().length} states (${covered('state:')} covered), ${chartEdges().length} transitions (${covered('edge:')} covered, ${Object.keys(UNREACHABLE).length} unreachable), ` +
          `${count('pair:')} (state, event) pairs (${covered('pair:')} covered)`,
        `model: ${plan.paths.length} paths, ${plan.paths.reduce((n, p) => n + p.steps.length, 0)} steps planned, ${coverage.steps} executed; planned in ${planMs} ms, whole suite ${Date.now() - started} ms`,
      ].join('\n'),
    );
    expect(missing, 'goals no executed step covered').toEqual([]);
    expect(waivedButCovered, 'UNREACHABLE entries that are now covered: remove them').toEqual([]);
  });
});

