// The deterministic simulation with the HTTP transport (world `http`): clients with the default
// transports (and some that start on HTTP) on a network where a proxy may refuse WebSocket
// upgrades for up to 40 s, POSTs are lost (the request, or the answer after the gateway handled
// it), and the gateway may lose a connection the client never hears about, among every other
// fault of the catalogue. The client's real HTTP transport reads the gateway's real HTTP binding
// through a simulated fetch (test/sim/http-network.ts). Weather, not storms (a fault every
// 150 virtual ms), so clients live long enough on HTTP for the WebSocket retry at 60 s. Every
// invariant of the simulation holds; and each HTTP fault and each move between transports
// happened, so the run is not vacuous.
import { describe, expect, it } from 'vitest';
import { replayCommand, runSim, type SimReport } from './run.js';

const FAULTS = 400;
const EVERY_MS = 150;
const SEEDS = 3;
const BASE = Number(process.env['SIM_SEED_BASE'] ?? 1);

describe('simulation over HTTP: SSE down, POST up, and the moves between transports', () => {
  it(`keeps every invariant across seeds ${BASE}..${BASE + SEEDS - 1} of ${FAULTS} faults, with every HTTP fault and both moves seen`, { timeout: 120_000 }, async () => {
    const reports: SimReport[] = [];
    for (let seed = BASE; seed < BASE + SEEDS; seed++) reports.push(await runSim({ seed, faults: FAULTS, faultEveryMs: EVERY_MS, world: { http: true } }));
    const failures = reports.filter((r) => r.violations.length > 0).map((r) => `seed ${r.seed}: replay with \`${replayCommand(r.seed, { faults: FAULTS })} --http\`\n  ${r.violations.slice(0, 8).join('\n  ')}`);
    const sum = (pick: (r: SimReport) => number): number => reports.reduce((a, r) => a + pick(r), 0);
    const seen = {
      httpJoins: sum((r) => r.transports.joins.http),
      toHttp: sum((r) => r.transports.toHttp),
      toWebsocket: sum((r) => r.transports.toWebsocket),
      unknownConnection: sum((r) => r.http.statuses[404] ?? 0),
      lostRequests: sum((r) => r.http.lostRequests),
      lostAnswers: sum((r) => r.http.lostAnswers),
      halfDead: sum((r) => r.byKind['half-dead'] ?? 0),
      messagesApplied: sum((r) => r.messages.applied),
    };
    console.log(`simulation over HTTP: ${JSON.stringify(seen)}`);
    expect(failures.join('\n')).toBe('');
    for (const [what, count] of Object.entries(seen)) expect(count, what).toBeGreaterThan(0);
  });

  it('replays an HTTP world byte for byte', { timeout: 60_000 }, async () => {
    const options = { seed: 7, faults: 60, faultEveryMs: EVERY_MS, world: { http: true, trace: true } } as const;
    const first = await runSim(options);
    const second = await runSim(options);
    expect(first.transports.joins.http).toBeGreaterThan(0);
    expect(second.trace.join('\n')).toBe(first.trace.join('\n'));
  });
});
