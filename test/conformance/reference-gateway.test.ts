// Our reference gateway must pass every rule of the kit, through the library and the CLI.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/conformance-command.js';
import { RULES, runConformance, type RuleResult } from '../../src/conformance/index.js';
import { attachDemoAgent, createGateway, type Gateway } from '../../src/server/index.js';

let gateway: Gateway;
let detach: () => void;

beforeAll(async () => {
  // A small window and a short heartbeat so gap.beyond_window and heartbeat.server_ping can run.
  // 'auto' (the default, stated here on purpose): a PROTOCOL.md client must never get PraisonAI's dialect.
  gateway = await createGateway({ host: '127.0.0.1', port: 0, replayWindow: 8, heartbeatMs: 400, logger: false, dialect: 'auto' });
  detach = attachDemoAgent(gateway, 'demo', { tokenDelayMs: 5 });
});

afterAll(async () => {
  detach();
  await gateway.close();
});

const fast = { timeoutMs: 2000, quietMs: 150 } as const;

function failures(results: readonly RuleResult[]): string[] {
  return results.filter((r) => r.status !== 'pass').map((r) => `${r.id}: ${r.status} expected ${r.expected ?? '-'} seen ${r.seen ?? r.detail ?? '-'}`);
}

describe('conformance kit against the reference gateway', () => {
  it('passes every rule (ours advertises every extension, so nothing is "not offered")', async () => {
    const results = await runConformance({ url: gateway.url, agentId: 'demo', ...fast });
    expect(results.map((r) => r.id)).toEqual(RULES.map((r) => r.id));
    expect(failures(results)).toEqual([]);
  });

  it('agent-lifeline conformance prints the table and exits 0', async () => {
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    try {
      const code = await run([gateway.url, '--agent', 'demo', '--timeout', '2000', '--only', 'handshake,replay,ack']);
      expect(code).toBe(0);
    } finally {
      write.mockRestore();
    }
    const table = out.join('');
    expect(table).toMatch(/^STATUS\s+RULE\s+DETAIL/);
    expect(table).toMatch(/pass\s+replay\.resume/);
    expect(table).toMatch(/5 rules: 5 pass, 0 fail, 0 not offered/);
  });

  it('--require-http: the HTTP binding passes as a required part', async () => {
    const results = await runConformance({ url: gateway.url, agentId: 'demo', ...fast, only: ['http.'], requireHttp: true });
    expect(results.map((r) => r.id)).toEqual(RULES.filter((r) => r.id.startsWith('http.')).map((r) => r.id));
    expect(results.length).toBe(9);
    expect(failures(results)).toEqual([]);
  });
});
