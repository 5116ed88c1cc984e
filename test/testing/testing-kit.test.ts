// The testing entry (`agent-lifeline/testing`) as an app's test uses it: a real client against the
// test gateway behind its fault proxy, crashed, restarted and deployed; waits that resolve on a
// state, a signal or a condition and fail with a typed error; and a manual clock that holds the
// client's retry until the test moves time.
import { afterEach, describe, expect, it } from 'vitest';
import { createGatewayClient, type GapInfo, type GatewayClient, type GatewayClientOptions, type GatewayEvent } from '../../src/client/index.js';
import { createManualClock, startTestGateway, waitFor, WaitTimeoutError, type TestGateway, type TestGatewayOptions } from '../../src/testing/index.js';

const opened: Array<TestGateway | GatewayClient> = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await ('disconnect' in thing ? thing.disconnect() : thing.close());
});

async function serve(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const server = await startTestGateway(options);
  opened.push(server);
  return server;
}

function connectClient(url: string, options: Partial<GatewayClientOptions> = {}): GatewayClient {
  const client = createGatewayClient({ url, agentId: 'demo', reconnect: { initialDelayMs: 20, maxDelayMs: 100 }, ...options });
  opened.push(client);
  return client;
}

function sessionOf(client: GatewayClient): string {
  const checkpoint = client.checkpoint();
  if (!checkpoint) throw new Error('the client has not joined');
  return checkpoint.sessionId;
}

/** Every event and gap the client reports from now on. */
function record(client: GatewayClient): { events: GatewayEvent[]; gaps: GapInfo[] } {
  const seen = { events: [] as GatewayEvent[], gaps: [] as GapInfo[] };
  client.onEvent((event) => seen.events.push(event));
  client.onGap((gap) => seen.gaps.push(gap));
  return seen;
}

describe('startTestGateway', () => {
  it('restarts on the kept log under the same URL: the client resumes with nothing lost', async () => {
    const server = await serve();
    expect(server.url).toBe(`ws://127.0.0.1:${server.proxy.port}`);
    const client = connectClient(server.url);
    const seen = record(client);
    await client.connect();
    const session = sessionOf(client);
    await server.gateway.publish(session, { type: 'before' });

    await server.crash();
    expect(() => server.gateway).toThrow(expect.objectContaining({ code: 'gateway_closed' }) as Error);
    await waitFor(client, 'reconnecting');
    const restarted = await server.restart();
    expect(server.gateway).toBe(restarted);
    await waitFor(client, 'joined', 3000);
    await restarted.publish(session, { type: 'after' });
    await waitFor(() => seen.events.length === 2, 2000, 'both events');
    expect(seen.events.map((e) => [e.seq, e.type])).toEqual([[1, 'before'], [2, 'after']]);
    expect(seen.gaps).toEqual([]);
  });

  it('restart({ keepLog: false }) loses the history: the client reports an epoch gap', async () => {
    const server = await serve();
    const client = connectClient(server.url);
    await client.connect();
    await server.gateway.publish(sessionOf(client), { type: 'lost' });
    await waitFor(client, 'event');
    const gap = waitFor(client, 'gap', 3000);
    await server.restart({ keepLog: false });
    expect(await gap).toMatchObject({ reason: 'epoch' });
  });

  it('deploy() brings the new gateway up, drains the old onto it, and runs setup for each; close() stops both', async () => {
    const lifecycle: string[] = [];
    const server = await serve({
      setup(gateway) {
        lifecycle.push(`start ${gateway.port}`);
        return () => lifecycle.push(`stop ${gateway.port}`);
      },
    });
    const first = server.gateway;
    const client = connectClient(server.url);
    await client.connect();
    const leaving = waitFor(client, 'reconnecting', 3000);
    const second = await server.deploy({ spreadMs: 0, protocol: { min: 1, max: 2 } });
    await leaving;
    await waitFor(client, 'joined', 3000);
    expect(server.gateway).toBe(second);
    expect(second.stats().joined).toBe(1);
    expect(lifecycle).toEqual([`start ${first.port}`, `start ${second.port}`, `stop ${first.port}`]);
    await server.close();
    expect(lifecycle).toEqual([`start ${first.port}`, `start ${second.port}`, `stop ${first.port}`, `stop ${second.port}`]);
  });
});

describe('waitFor', () => {
  it('resolves on a state now or later, and on the next signal', async () => {
    const server = await serve();
    const client = connectClient(server.url);
    const joined = waitFor(client, 'joined');
    await client.connect();
    expect(await joined).toBe('joined');
    expect(await waitFor(client, 'joined', 0)).toBe('joined');

    const failure = waitFor(client, 'error', 3000);
    server.proxy.refuse(true);
    server.proxy.drop();
    expect(await failure).toMatchObject({ code: 'connect_failed' });
  });

  it('rejects with a typed wait_timeout that names the target and what it saw', async () => {
    const server = await serve();
    const client = connectClient(server.url);
    await client.connect();
    const error = await waitFor(client, 'disconnected', 50).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error).toMatchObject({ code: 'wait_timeout', target: 'disconnected', timeoutMs: 50, message: 'Timed out after 50 ms waiting for state "disconnected" (now "joined")' });
    await expect(waitFor(client, 'gap', 30)).rejects.toMatchObject({ code: 'wait_timeout', target: 'gap' });
  });

  it('polls a condition until it yields a value (null, undefined and false are "not yet")', async () => {
    let value: string | null = null;
    setTimeout(() => (value = 'ready'), 30);
    expect(await waitFor(() => value, 1000)).toBe('ready');
    expect(await waitFor(() => 0, 100)).toBe(0);
    await expect(waitFor(() => false, 30, 'the moon')).rejects.toMatchObject({ code: 'wait_timeout', message: 'Timed out after 30 ms waiting for the moon' });
  });
});

describe('createManualClock', () => {
  it('fires due timers in order inside advance(), including those they set, and never early', () => {
    const clock = createManualClock({ wallStart: 1000 });
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 5);
    }, 10);
    const cancelled = clock.setTimeout(() => fired.push('never'), 15);
    clock.setTimeout(() => fired.push(`d@${clock.now()}`), 20);
    clock.clearTimeout(cancelled);
    clock.advance(19);
    expect(fired).toEqual(['a@10', 'c@15']);
    expect(clock.pending).toBe(2);
    clock.advance(1);
    expect(fired).toEqual(['a@10', 'c@15', 'b@20', 'd@20']);
    expect([clock.now(), clock.wallNow(), clock.pending]).toEqual([20, 1020, 0]);
  });

  it("holds the client's retry until the test moves time", async () => {
    const clock = createManualClock();
    const server = await serve();
    const client = connectClient(server.url, { clock, random: () => 0.5 });
    await client.connect();
    server.proxy.drop();
    await waitFor(client, 'reconnecting');
    // Real time passes; the client's does not, so it stays away.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect([client.state, server.proxy.connections]).toEqual(['reconnecting', 0]);
    clock.advance(100);
    await waitFor(client, 'joined', 2000);
  });
});
