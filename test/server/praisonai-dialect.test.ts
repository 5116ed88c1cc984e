// The PraisonAI dialect from the outside: a client written for PraisonAI's gateway (flat frames,
// `response.content`, top-level `seq`/`cursor`, replays numbered by `event.sequence`) gets the
// demo agent's text and gap-free numbers from `agent-lifeline gateway`, while Lifeline clients, and
// anything without the PraisonAI marker, keep PROTOCOL.md frames.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { attachDemoAgent, createGateway, DEMO_EVENT_TYPES, GatewayError, type GatewayDialect } from '../../src/server/index.js';
import { makeClient } from '../client/kit.js';
import { connect, helloFrame, startGateway } from '../support/gateway-kit.js';
import { upstreamHello } from '../support/praisonai-hello.js';
import { recordEvents, waitFor, waitForState } from '../support/wait-for.js';

/** PraisonAI's client's default `hello` (copied from upstream: see test/support/praisonai-hello.ts). */
const UPSTREAM_HELLO = upstreamHello('demo');
/** The `hello` of the recorded transcripts (test/fixtures/praisonai-gateway): the recorder listed `streaming` alone. */
const RECORDED_HELLO = { ...UPSTREAM_HELLO, capabilities: ['streaming'] };

/**
 * A client written for PraisonAI's gateway, reduced to what it keeps: the text it shows
 * (`response.content` of final responses, `data.content` of streamed tokens), the numbers it saw,
 * and the gaps its own check finds (`seq` live, `event.sequence` on replays). It answers pings.
 */
interface PraisonAIClient {
  readonly helloOk: Promise<Record<string, unknown>>;
  readonly finals: string[];
  readonly tokens: string[];
  readonly live: number[];
  readonly replayed: number[];
  readonly gaps: string[];
  /** Frames that broke what a PraisonAI client relies on. */
  readonly broken: string[];
  send(text: string): void;
  close(): void;
}

function praisonAIClient(url: string, resume?: { session_id: string; since: number }): PraisonAIClient {
  const ws = new WebSocket(`${url}/ws?token=any`);
  sockets.push(ws);
  let last = resume?.since ?? 0;
  const view = { finals: [] as string[], tokens: [] as string[], live: [] as number[], replayed: [] as number[], gaps: [] as string[], broken: [] as string[] };
  const check = (n: number): void => {
    if (n !== last + 1) view.gaps.push(`expected ${last + 1}, got ${n}`);
    last = n;
  };
  const onFrame = (frame: Record<string, unknown>): void => {
    if (frame['type'] === 'ping') return ws.send(JSON.stringify({ type: 'pong' }));
    if (frame['type'] === 'replay') {
      const event = frame['event'] as { sequence?: unknown; data?: Record<string, unknown> };
      if (typeof event.sequence !== 'number' || !event.data) return void view.broken.push(JSON.stringify(frame));
      check(event.sequence);
      view.replayed.push(event.sequence);
      if (event.data['status'] === 'final') view.finals.push(String(event.data['content']));
      return;
    }
    if (typeof frame['seq'] !== 'number') return;
    if (frame['cursor'] !== frame['seq']) view.broken.push(JSON.stringify(frame));
    check(frame['seq']);
    view.live.push(frame['seq']);
    if (frame['type'] === 'response' && frame['status'] === 'final') view.finals.push(String(frame['content']));
    if (frame['type'] === 'token_stream') view.tokens.push(String((frame['data'] as { content?: unknown } | undefined)?.content));
  };
  const helloOk = new Promise<Record<string, unknown>>((resolve, reject) => {
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ ...UPSTREAM_HELLO, ...resume })));
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      if (frame['type'] === 'hello_ok') resolve(frame);
      else onFrame(frame);
    });
  });
  return { ...view, helloOk, send: (text) => ws.send(JSON.stringify({ type: 'message', content: text })), close: () => ws.close() };
}

const sockets: WebSocket[] = [];
const children: ChildProcess[] = [];
const agents: (() => void)[] = [];
afterEach(() => {
  for (const detach of agents.splice(0)) detach();
  for (const ws of sockets.splice(0)) ws.terminate();
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** `agent-lifeline gateway` as a user starts it; resolves with its URL. */
function startCli(args: readonly string[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'gateway', '--port', '0', ...args], {
    env: { ...process.env, LIFELINE_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no URL printed within 10 s')), 10_000);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ws:\/\/[\d.]+:\d+/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
  });
}

describe('a PraisonAI client against `agent-lifeline gateway` (default --dialect auto)', () => {
  it('with its default hello (streaming and ack): shows the demo reply and counts seq/cursor without a gap, live and on resume by event.sequence', async () => {
    const url = await startCli([]);
    const first = praisonAIClient(url);
    const helloOk = await first.helloOk;
    expect(helloOk).toMatchObject({ type: 'hello_ok', protocol: 1, resumed: false, cursor: 0, policy: { heartbeat_ms: 15000 } });
    expect(helloOk).not.toHaveProperty('epoch');
    first.send('hello there');
    await waitFor(() => first.finals.length === 1, 5000, 'the final response');
    expect(first.finals).toEqual(['echo: hello there']);
    expect(first.tokens.join('')).toBe('echo: hello there');
    const head = first.live.length;
    expect(first.live).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(first.gaps).toEqual([]);
    first.close();

    // The client resumes from its first event: the rest comes back as PraisonAI replays.
    const again = praisonAIClient(url, { session_id: String(helloOk['session_id']), since: 1 });
    // `sequence` is what PraisonAI's client checks the first replayed event.sequence against (plus one).
    expect(await again.helloOk).toMatchObject({ resumed: true, cursor: head, sequence: 1, resync_required: false });
    await waitFor(() => again.replayed.length === head - 1, 2000, 'the replay');
    expect(again.replayed).toEqual(Array.from({ length: head - 1 }, (_, i) => i + 2));
    expect(again.finals).toEqual(['echo: hello there']);
    expect([...again.gaps, ...again.broken, ...first.broken]).toEqual([]);
  });

  it('--dialect is checked like the other flags', async () => {
    const { run } = await import('../../src/cli/gateway-command.js');
    const write = process.stderr.write;
    const lines: string[] = [];
    process.stderr.write = ((chunk: string) => lines.push(chunk) > 0) as typeof process.stderr.write;
    try {
      await expect(run(['--dialect', 'praison'])).resolves.toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(lines.join('')).toContain('--dialect must be one of lifeline, praisonai, auto');
  });
});

async function demoGateway(dialect: GatewayDialect) {
  const gateway = await startGateway({ dialect, eventTypes: DEMO_EVENT_TYPES });
  agents.push(attachDemoAgent(gateway, 'demo', { tokenDelayMs: 1 }));
  return gateway;
}

describe('dialect selection', () => {
  it.each<[string, Record<string, unknown>]>([
    ['a Lifeline client (default capabilities)', {}],
    ['a hello without capabilities', { capabilities: undefined }],
    ['the older caps spelling', { capabilities: undefined, caps: ['presence', 'ack'] }],
  ])('auto keeps PROTOCOL.md frames for %s', async (_name, fields) => {
    const gateway = await demoGateway('auto');
    const client = await connect(gateway);
    client.send(helloFrame(fields));
    expect(await client.next('hello_ok')).toHaveProperty('epoch');
    await client.next('caught_up');
    client.send({ type: 'message', content: 'hi' });
    const event = await client.next('event');
    expect(event).toMatchObject({ seq: 1, event: { type: 'message', data: { text: 'hi' } } });
  });

  it.each<[string, Record<string, unknown>]>([
    ["PraisonAI's client (its default capabilities)", UPSTREAM_HELLO],
    ['the recordings (streaming alone)', RECORDED_HELLO],
    ['streaming among any other names, in the older caps spelling', { ...UPSTREAM_HELLO, capabilities: undefined, caps: ['streaming', 'presence', 'ack', 'batch', 'epoch'] }],
  ])('auto answers in PraisonAI frames for %s', async (_name, hello) => {
    const client = await connect(await demoGateway('auto'));
    client.send(hello);
    const helloOk = await client.next('hello_ok');
    expect(Object.keys(helloOk).sort()).toEqual(['cursor', 'features', 'policy', 'protocol', 'resumed', 'resync_required', 'sequence', 'session_id', 'type']);
    client.send({ type: 'message', content: 'hi' });
    expect(await client.next('response')).toMatchObject({ status: 'accepted', content: 'hi', seq: 1, cursor: 1 });
    expect(client.frames.some((f) => f.type === 'caught_up' || f.type === 'event')).toBe(false);
  });

  it('lifeline ignores the PraisonAI marker; praisonai needs none', async () => {
    const lifeline = await connect(await demoGateway('lifeline'));
    lifeline.send(UPSTREAM_HELLO);
    expect(await lifeline.next('hello_ok')).toHaveProperty('epoch');
    await lifeline.next('caught_up');

    const praisonai = await connect(await demoGateway('praisonai'));
    praisonai.send(helloFrame());
    const helloOk = await praisonai.next('hello_ok');
    expect(Object.keys(helloOk).sort()).toEqual(['cursor', 'features', 'policy', 'protocol', 'resumed', 'resync_required', 'sequence', 'session_id', 'type']);
    praisonai.send({ type: 'message', content: 'hi' });
    expect(await praisonai.next('response')).toMatchObject({ status: 'accepted', content: 'hi', seq: 1, cursor: 1 });
    expect(praisonai.frames.some((f) => f.type === 'caught_up' || f.type === 'event')).toBe(false);
  });

  it('praisonai answers a legacy join as PraisonAI does: replays with seq and event.sequence, a snapshot after resync_required', async () => {
    const gateway = await demoGateway('praisonai');
    const first = await connect(gateway);
    first.send({ type: 'join', agent_id: 'demo' });
    const joined = await first.next('joined');
    expect(joined).not.toHaveProperty('epoch');
    first.send({ type: 'message', content: 'two words' });
    await first.until((frames) => frames.some((f) => f['status'] === 'final'), 3000, 'the final response');
    const head = Math.max(...first.frames.map((f) => (typeof f['seq'] === 'number' ? f['seq'] : 0)));
    first.close();

    const resumed = await connect(gateway);
    resumed.send({ type: 'join', agent_id: 'demo', session_id: joined['session_id'], since: 1 });
    expect(await resumed.next('joined')).toMatchObject({ resumed: true, cursor: head, sequence: 1 });
    const replay = await resumed.next('replay');
    expect(replay).toMatchObject({ seq: 2, event: { sequence: 2, data: { seq: 2, cursor: 2 } } });

    const beyond = await connect(gateway);
    beyond.send({ type: 'join', agent_id: 'demo', session_id: joined['session_id'], since: head + 5 });
    expect(await beyond.next('joined')).toMatchObject({ resync_required: true });
    const snapshot = await beyond.next('snapshot');
    expect(snapshot['state']).toMatchObject({ session_id: joined['session_id'], agent_id: 'demo', event_cursor: head, messages: [] });
  });

  it('rejects an unknown dialect with configuration_error', async () => {
    await expect(createGateway({ logger: false, dialect: 'praison' as GatewayDialect })).rejects.toThrow(GatewayError);
  });
});

describe('the TypeScript client on the PraisonAI dialect', () => {
  it('receives the demo text as response events, numbered like PraisonAI numbers them', async () => {
    // The client refuses PraisonAI's marker, so only --dialect praisonai speaks PraisonAI to it.
    const gateway = await demoGateway('praisonai');
    const client = makeClient(gateway.url);
    const { events } = recordEvents(client);
    await client.connect();
    await waitForState(client, 'joined');
    client.send('ping me');
    const reply = await waitFor(() => events.find((e) => e.type === 'response' && (e.data as { status?: string }).status === 'final'), 3000, 'final response');
    expect(reply.data).toMatchObject({ content: 'echo: ping me' });
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
  });
});
