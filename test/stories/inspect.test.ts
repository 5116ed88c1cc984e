// `createGatewayClient({ inspect })` hands the observer to the chart's actor: a plain function,
// or an observer object such as `@statelyai/inspect`'s `inspector.inspect` (`{ next }`). Later,
// `client.chart` is a read-only view of the same chart: its snapshot, and inspection from then on.
import { createInspector, createWebSocketInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { createGatewayClient, GatewayConnectError, type GatewayClient, type GatewayClientOptions } from '../../src/client/index.js';
import { createGateway, type Gateway } from '../../src/server/index.js';
import { waitFor } from '../../src/testing/index.js';

let gateway: Gateway | undefined;
let client: GatewayClient | undefined;

afterEach(async () => {
  await client?.disconnect();
  await gateway?.terminate();
  client = undefined;
  gateway = undefined;
});

describe('inspect option', () => {
  it('accepts an observer object and feeds it the chart’s events', async () => {
    gateway = await createGateway({ logger: false });
    const seen: string[] = [];
    const observer = { next: (event: InspectionEvent) => void (event.type === '@xstate.event' && seen.push(event.event.type)) };
    client = createGatewayClient({ url: gateway.url, agentId: 'demo', inspect: observer });
    await client.connect();
    expect(seen).toEqual(expect.arrayContaining(['user.connect', 'socket.opened', 'hello.accepted']));
  });

  it('accepts @statelyai/inspect’s inspector.inspect', () => {
    const inspector = createWebSocketInspector({ url: 'ws://127.0.0.1:9', autoStart: false });
    client = createGatewayClient({ url: 'ws://127.0.0.1:9', agentId: 'demo', inspect: inspector.inspect });
    expect(client.state).toBe('disconnected');
  });

  it('refuses anything else with invalid_options', () => {
    const options = { url: 'ws://127.0.0.1:9', agentId: 'demo', inspect: 42 } as unknown as GatewayClientOptions;
    expect(() => createGatewayClient(options)).toThrow(GatewayConnectError);
  });
});

describe('client.chart', () => {
  it('reads the chart and offers no way to send it an event', async () => {
    gateway = await createGateway({ logger: false });
    client = createGatewayClient({ url: gateway.url, agentId: 'demo' });
    expect(client.chart.getSnapshot().value).toBe('disconnected');
    await client.connect();
    const snapshot = client.chart.getSnapshot();
    expect(snapshot.matches('joined')).toBe(true);
    expect(snapshot.matches({ joined: 'live' })).toBe(true);
    expect(Object.keys(snapshot).sort()).toEqual(['matches', 'value']);
    expect(Object.keys(client.chart).sort()).toEqual(['getSnapshot', 'inspect']);
    // @ts-expect-error: the view has no send, so an app cannot move the chart around the client's methods.
    expect(client.chart.send).toBeUndefined();
  });

  it('inspect(observer) introduces the running actors, then streams until stopped', async () => {
    gateway = await createGateway({ logger: false });
    client = createGatewayClient({ url: gateway.url, agentId: 'demo' });
    await client.connect();
    const seen: InspectionEvent[] = [];
    const stop = client.chart.inspect((event) => seen.push(event));
    const introduced = seen.map((e) => (e.type === '@xstate.actor' && 'id' in e.actorRef ? String(e.actorRef.id) : e.type));
    // The root first: its session id is the root id every event carries.
    expect(seen[0]?.type).toBe('@xstate.actor');
    expect(seen[0]?.actorRef.sessionId).toBe(seen[0]?.rootId);
    expect(introduced).toEqual(expect.arrayContaining(['socket']));
    expect(new Set(seen.map((e) => e.rootId)).size).toBe(1);

    await client.disconnect();
    expect(seen.filter((e) => e.type === '@xstate.event').map((e) => (e.type === '@xstate.event' ? e.event.type : ''))).toContain('user.disconnect');
    stop();
    const count = seen.length;
    await client.connect();
    expect(seen.length).toBe(count);
  });

  it('feeds @statelyai/inspect attached after the start, and reports a throwing observer as listener_error', async () => {
    gateway = await createGateway({ logger: false });
    client = createGatewayClient({ url: gateway.url, agentId: 'demo' });
    await client.connect();
    const sent: StatelyInspectionEvent[] = [];
    const inspector = createInspector({ send: (event) => void sent.push(event) });
    client.chart.inspect(inspector.inspect);
    await client.disconnect();
    await waitFor(() => sent.some((e) => e.type === '@xstate.snapshot'), 2000, 'a snapshot at the inspector');
    const root = sent.find((e) => e.type === '@xstate.actor');
    expect(root).toMatchObject({ type: '@xstate.actor', name: 'gateway' });
    expect(root?.type === '@xstate.actor' ? root.definition : '').toContain('reconnecting');

    const errors: string[] = [];
    client.onError((error) => errors.push(error.code));
    client.chart.inspect(() => {
      throw new Error('observer bug');
    });
    await client.connect();
    expect(client.state).toBe('joined');
    expect(errors).toContain('listener_error');
  });
});
