// app-reconnect.test.ts: how an app behaves when the network drops and the gateway restarts.
import { afterEach, expect, it } from 'vitest';
import { createGatewayClient, type GatewayClient } from 'agent-lifeline';
import { startTestGateway, waitFor, type TestGateway } from 'agent-lifeline/testing';

// The app under test: a feed that shows a banner while offline and says when history was lost.
function createFeed(client: GatewayClient) {
  const feed = { banner: '', lines: [] as string[] };
  client.onState((state) => {
    feed.banner = state === 'reconnecting' || state === 'suspended' ? 'Reconnecting…' : '';
  });
  client.onEvent((event) => feed.lines.push(`#${event.seq} ${event.type}`));
  client.onGap(() => feed.lines.push('Some updates were lost.'));
  return feed;
}

let server: TestGateway;
let client: GatewayClient;

afterEach(async () => {
  await client.disconnect();
  await server.close();
});

async function startApp() {
  server = await startTestGateway(); // a gateway on 127.0.0.1, port 0, behind a fault proxy
  client = createGatewayClient({ url: server.url, agentId: 'demo', reconnect: { initialDelayMs: 50 } });
  const feed = createFeed(client);
  await client.connect();
  return { feed, sessionId: client.checkpoint()?.sessionId ?? '' };
}

it('shows a banner while the network is down and misses nothing', async () => {
  const { feed, sessionId } = await startApp();

  server.proxy.refuse(true); // the network goes down: new connections are reset...
  server.proxy.drop(); // ...and the open one is cut
  await waitFor(client, 'reconnecting');
  expect(feed.banner).toBe('Reconnecting…');
  await server.gateway.publish(sessionId, { type: 'price' }); // happens while the app is away

  server.proxy.pass(); // the network is back
  await waitFor(client, 'joined', 5000);
  await waitFor(() => feed.lines.length === 1);
  expect(feed.banner).toBe('');
  expect(feed.lines).toEqual(['#1 price']); // replayed on resume, exactly once
});

it('tells the user when a gateway restart lost the history', async () => {
  const { feed, sessionId } = await startApp();
  await server.gateway.publish(sessionId, { type: 'price' });
  await waitFor(client, 'event');

  await server.restart({ keepLog: false }); // a crash, back with an empty log
  await waitFor(client, 'gap', 5000);
  expect(feed.lines).toEqual(['#1 price', 'Some updates were lost.']);
});
