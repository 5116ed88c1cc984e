// The kit against a partial implementation: a fake PraisonAI gateway built from the recorded
// transcripts. Optional extensions come out "not offered", the handshake, replay (numbered by
// event.sequence), heartbeat and legacy join pass, and its real gaps in error handling are
// reported as failures with expected vs seen, without the kit crashing.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { run } from '../../src/cli/conformance-command.js';
import { runConformance, type RuleResult, type RuleStatus } from '../../src/conformance/index.js';
import { startFakePraisonAI, type FakePraisonAI } from './praisonai-fake.js';

let fake: FakePraisonAI;
const TOKEN = 's3cret-token';
const fast = { timeoutMs: 1000, quietMs: 150 } as const;

beforeAll(async () => {
  fake = await startFakePraisonAI({ token: TOKEN, heartbeatMs: 300 });
});
afterAll(async () => {
  await fake.close();
});

function statuses(results: readonly RuleResult[]): Record<string, RuleStatus> {
  return Object.fromEntries(results.map((r) => [r.id, r.status]));
}

const expected: Record<string, RuleStatus> = {
  'handshake.hello_ok': 'pass',
  'handshake.session_ids': 'pass',
  'negotiation.highest_common': 'pass',
  'negotiation.too_new': 'pass',
  'negotiation.too_old': 'pass',
  'negotiation.inverted_range': 'pass',
  'negotiation.legacy_spelling': 'pass',
  'negotiation.no_range': 'pass',
  'replay.resume': 'pass',
  'replay.caught_up': 'not_offered',
  'epoch.stable': 'not_offered',
  'epoch.mismatch': 'not_offered',
  'gap.since_ahead': 'not_offered',
  'gap.beyond_window': 'not_offered',
  'snapshot.resync': 'not_offered',
  'ack.dedupe': 'not_offered',
  'heartbeat.server_ping': 'pass',
  'heartbeat.client_ping': 'pass',
  'legacy.join': 'pass',
  // PraisonAI's recorded gaps: untyped "Not joined" errors, non-JSON closes the socket, unknown
  // types are ignored, oversized frames are processed (and the echo evicts the client with 1013),
  // wrongly typed hellos drop the socket.
  'errors.not_joined': 'fail',
  'errors.bad_json': 'fail',
  'errors.unknown_type': 'fail',
  'errors.wrong_field_types': 'fail',
  'errors.binary': 'fail',
  'errors.payload_too_large': 'fail',
  // A WebSocket-only gateway: the HTTP binding is optional, so its rules are not offered.
  'http.stream': 'not_offered',
  'http.post': 'not_offered',
  'http.event_ids': 'not_offered',
  'http.last_event_id': 'not_offered',
  'http.plain_eventsource': 'not_offered',
  'http.unknown_connection': 'not_offered',
  'http.bad_post': 'not_offered',
  'http.close_event': 'not_offered',
  'http.cors_preflight': 'not_offered',
};

describe('conformance kit against a PraisonAI-like gateway', () => {
  let results: RuleResult[];

  beforeAll(async () => {
    results = await runConformance({ url: fake.url, agentId: 'echo', token: TOKEN, ...fast });
  });

  it('reports each rule as pass, fail or not offered as the transcripts predict', () => {
    expect(statuses(results)).toEqual(expected);
  });

  it('replays by event.sequence and notes the dialect instead of failing it', () => {
    const byId = new Map(results.map((r) => [r.id, r]));
    expect(byId.get('replay.resume')?.detail).toMatch(/since \d+, replayed \d+/);
    expect(byId.get('negotiation.too_new')?.detail).toMatch(/socket left open/);
    expect(byId.get('negotiation.highest_common')?.detail).toMatch(/assumed max 1/);
    expect(byId.get('snapshot.resync')?.detail).toMatch(/"snapshot" not advertised/);
  });

  it('fails the HTTP binding instead when the run requires it, saying what the gateway answered', async () => {
    const required = await runConformance({ url: fake.url, agentId: 'echo', token: TOKEN, ...fast, only: ['http.stream', 'http.post'], requireHttp: true });
    expect(required.map((r) => [r.id, r.status])).toEqual([['http.stream', 'fail'], ['http.post', 'fail']]);
    expect(required[0]).toMatchObject({ expected: 'the HTTP binding (PROTOCOL.md section 9)', seen: expect.stringMatching(/answered HTTP \d{3}/) });
    expect(JSON.stringify(required)).not.toContain(TOKEN);
  });

  it('says what was expected and what was seen for each failure', () => {
    for (const r of results.filter((x) => x.status === 'fail')) {
      expect(r.expected, r.id).toBeTruthy();
      expect(r.seen, r.id).toBeTruthy();
    }
    const seen = (id: string) => results.find((r) => r.id === id)?.seen;
    expect(seen('errors.bad_json')).toBe('close 1000 without an error frame');
    // What PraisonAI really does (big_payload, message_before_hello), not a bare close code.
    expect(seen('errors.not_joined')).toBe('{"type":"error","message":"Not joined to any session"}: an error without a code, so a client cannot tell it means not_joined');
    expect(seen('errors.payload_too_large')).toMatch(/^the frame was accepted and answered \(events \d+\): max_payload is not enforced; then close 1013 slow_consumer: the client was evicted as a slow consumer/);
  });

  it('accepts the token in the URL as well as --token, and the CLI exits 1 on the failures with JSON output', async () => {
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    let code: number;
    try {
      code = await run([`${fake.url}?token=${TOKEN}`, '--agent', 'echo', '--json', '--timeout', '1000', '--only', 'handshake.hello_ok,errors.not_joined']);
    } finally {
      write.mockRestore();
    }
    expect(code).toBe(1);
    const report = JSON.parse(out.join('')) as { summary: string; results: RuleResult[] };
    expect(report.summary).toBe('2 rules: 1 pass, 1 fail, 0 not offered');
    expect(out.join('')).not.toContain(TOKEN);
  });
});

describe('the kit never crashes', () => {
  it('without a token or with a wrong one: the handshake fails, the other rules are not run', async () => {
    const none = await runConformance({ url: fake.url, agentId: 'echo', ...fast, only: ['handshake', 'replay'] });
    expect(none.map((r) => r.status)).toEqual(['fail', 'fail', 'fail', 'fail']);
    expect(none[0]?.seen).toMatch(/auth_required/);
    expect(none[1]?.seen).toMatch(/not run/);
    const wrong = await runConformance({ url: fake.url, agentId: 'echo', token: 'wrong-token', ...fast, only: ['replay.resume'] });
    expect(wrong[0]?.seen).toContain('token=[redacted]');
    expect(JSON.stringify(wrong)).not.toContain('wrong-token');
  });

  it('on a wrong path (HTTP 403), a closed port, and a server that talks garbage', async () => {
    const wrongPath = await runConformance({ url: fake.url.replace('/ws', '/nope'), agentId: 'echo', token: TOKEN, ...fast, only: ['handshake.hello_ok'] });
    expect(wrongPath[0]).toMatchObject({ status: 'fail', seen: expect.stringMatching(/HTTP 403/) });

    const garbage = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => garbage.once('listening', () => resolve()));
    garbage.on('connection', (ws) => ws.on('message', () => ws.send('\u0000not json')));
    const port = (garbage.address() as AddressInfo).port;
    const talksGarbage = await runConformance({ url: `ws://127.0.0.1:${port}`, agentId: 'x', timeoutMs: 300, only: ['handshake.hello_ok'] });
    expect(talksGarbage[0]).toMatchObject({ status: 'fail', seen: expect.stringMatching(/expected hello_ok, saw .*not json/) });
    await new Promise<void>((resolve) => garbage.close(() => resolve()));

    const closedPort = await runConformance({ url: `ws://127.0.0.1:${port}`, agentId: 'x', timeoutMs: 300, only: ['handshake.hello_ok'] });
    expect(closedPort[0]).toMatchObject({ status: 'fail', seen: expect.stringMatching(/ECONNREFUSED/) });
  });
});
