// The HTTP transport through a real nginx (test/support/nginx.ts) configured as many reverse
// proxies are: a plain proxy_pass that does not pass Upgrade, with its default response buffering.
// Given a client with default options behind it, the WebSocket cannot open, so the client falls
// back to HTTP, joins, gets live events through nginx's buffering (the stream's
// `X-Accel-Buffering: no` alone turns it off) and sends with acks; when nginx is killed and comes
// back, the network between nginx and the gateway drops, and the gateway restarts on its log, it
// resumes each time with no gap and no duplicate, and each message is applied once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayClient, type ClientState, type GapInfo, type GatewayClient, type GatewayConnectError, type GatewayEvent } from '../../src/client/index.js';
import { startTestGateway, type TestGateway } from '../../src/testing/index.js';
import { startNginx, type Nginx } from '../support/nginx.js';
import { httpRequest } from '../support/sse-client.js';
import { waitFor } from '../support/wait-for.js';

let gateway: TestGateway | undefined;
let nginx: Nginx | undefined;
/** Message contents the gateway app applied, across gateway restarts. */
const applied: unknown[] = [];

beforeAll(async () => {
  // nginx -> the test gateway's fault proxy (whose port outlives gateway restarts) -> the gateway.
  gateway = await startTestGateway({
    setup: (gw) =>
      gw.onMessage((message) => {
        applied.push(message.content);
      }),
  });
  nginx = await startNginx({ upstreamPort: gateway.proxy.port });
});

afterAll(async () => {
  await nginx?.stop();
  await gateway?.close();
});

/** The gateway and nginx of this file, once started. */
function started(): { gw: TestGateway; ng: Nginx } {
  if (!gateway || !nginx) throw new Error('setup failed');
  return { gw: gateway, ng: nginx };
}

/** A client with default options but for the agent, recording what the app would see. */
function defaultClient(url: string) {
  const client = createGatewayClient({ url, agentId: 'demo' });
  const events: GatewayEvent[] = [];
  const gaps: GapInfo[] = [];
  const errors: GatewayConnectError[] = [];
  const states: ClientState[] = [];
  client.onEvent((event) => events.push(event));
  client.onGap((gap) => gaps.push(gap));
  client.onError((error) => errors.push(error));
  client.onState((state) => states.push(state));
  /** Run `fault`, then resolve once the client has lost its connection and joined again (bounded). */
  const rejoinsAfter = async (fault: () => unknown): Promise<void> => {
    const mark = states.length;
    await fault();
    await waitFor(() => states.slice(mark).includes('reconnecting') && client.state === 'joined', 8000, 'the client to drop and join again');
  };
  return { client, events, gaps, errors, rejoinsAfter };
}

/** Publish `count` events to the client's session; their seqs. */
async function publish(gw: TestGateway, client: GatewayClient, count: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) seqs.push(await gw.gateway.publish(client.info.sessionId ?? '', { type: 'tick', data: { i } }));
  return seqs;
}

describe('a default client behind nginx that does not pass Upgrade', () => {
  it('falls back to HTTP, joins, gets live events through default buffering and sends with acks', { timeout: 15_000 }, async () => {
    const { gw, ng } = started();
    // The proxy in the way: a WebSocket upgrade reaches the gateway as a plain GET, answered 426.
    const upgrade = await httpRequest(ng.httpUrl, { method: 'GET', headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
    expect(upgrade.status).toBe(426);

    const { client, events, gaps, errors } = defaultClient(ng.url);
    try {
      // Bounded: were the stream buffered, hello_ok would never arrive.
      await client.connect({ timeoutMs: 5000 });
      expect(client.info.transport).toBe('http');
      expect(errors.map((e) => e.message).join('\n')).toMatch(/426/);
      // One event, alone: nginx buffers a proxied response unless told not to, so it arrives
      // while the stream stays open only because the stream said X-Accel-Buffering: no.
      await publish(gw, client, 1);
      await waitFor(() => events.length === 1, 2000, 'the live event through nginx');
      const sent = await client.send({ text: 'through nginx' });
      expect(sent).toMatchObject({ acknowledged: true, duplicate: false });
      expect(applied).toContainEqual({ text: 'through nginx' });
      await publish(gw, client, 2);
      await waitFor(() => events.length === 3, 2000, 'two more live events');
      expect(events.map((e) => [e.seq, e.replayed])).toEqual([[1, false], [2, false], [3, false]]);
      expect(gaps).toEqual([]);
    } finally {
      await client.disconnect();
    }
  });

  it('resumes after nginx is killed and comes back, and after the network behind it drops: no gap, no duplicate, each message applied once', { timeout: 20_000 }, async () => {
    const { gw, ng } = started();
    applied.length = 0;
    const { client, events, gaps, rejoinsAfter } = defaultClient(ng.url);
    try {
      await client.connect({ timeoutMs: 5000 });
      expect(client.info.transport).toBe('http');
      let published = await publish(gw, client, 3);
      await waitFor(() => events.length === 3, 2000, 'the first events');

      // nginx dies: the stream ends under the client. Events and a message meanwhile.
      let first: Promise<unknown> = Promise.resolve();
      await rejoinsAfter(async () => {
        await ng.kill();
        published = [...published, ...(await publish(gw, client, 3))];
        first = client.send({ k: 1 });
        await ng.start();
      });
      await waitFor(() => events.length === 6, 2000, 'the events published while nginx was down');
      expect(await first).toMatchObject({ acknowledged: true });

      // The network between nginx and the gateway resets: nginx ends the stream it was relaying.
      let second: Promise<unknown> = Promise.resolve();
      await rejoinsAfter(async () => {
        gw.proxy.drop();
        published = [...published, ...(await publish(gw, client, 2))];
        second = client.send({ k: 2 });
      });
      await waitFor(() => events.length === 8, 2000, 'the events published across the drop');
      expect(await second).toMatchObject({ acknowledged: true });
      published = [...published, ...(await publish(gw, client, 1))];
      await waitFor(() => events.length === 9, 2000, 'a live event after it all');

      expect(published).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(events.map((e) => e.seq)).toEqual(published);
      expect(events.map((e) => e.replayed)).toEqual([false, false, false, true, true, true, true, true, false]);
      expect(gaps).toEqual([]);
      expect(applied).toEqual([{ k: 1 }, { k: 2 }]);
      expect(client.info.transport).toBe('http');
    } finally {
      await client.disconnect();
    }
  });

  it('resumes after the gateway restarts on its log, a message sent while it was down applied once', { timeout: 20_000 }, async () => {
    const { gw, ng } = started();
    applied.length = 0;
    const { client, events, gaps, rejoinsAfter } = defaultClient(ng.url);
    try {
      await client.connect({ timeoutMs: 5000 });
      let published = await publish(gw, client, 2);
      await waitFor(() => events.length === 2, 2000, 'the first events');

      // The gateway crashes (nginx answers 502 meanwhile), and comes back on the same log.
      let sent: Promise<unknown> = Promise.resolve();
      await rejoinsAfter(async () => {
        await gw.crash();
        sent = client.send({ k: 1 });
        await gw.restart();
        published = [...published, ...(await publish(gw, client, 2))];
      });
      await waitFor(() => events.length === 4, 2000, 'the events published after the restart');
      expect(await sent).toMatchObject({ acknowledged: true });
      published = [...published, ...(await publish(gw, client, 1))];
      await waitFor(() => events.length === 5, 2000, 'a live event after it');

      expect(events.map((e) => e.seq)).toEqual(published);
      expect(published).toEqual([1, 2, 3, 4, 5]);
      expect(gaps).toEqual([]);
      expect(applied).toEqual([{ k: 1 }]);
      expect(client.info.transport).toBe('http');
    } finally {
      await client.disconnect();
    }
  });
});
