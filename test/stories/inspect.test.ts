// `createGatewayClient({ inspect })` hands the observer to the chart's actor: a plain function,
// or an observer object such as `@statelyai/inspect`'s `inspector.inspect` (`{ next }`).
import { createWebSocketInspector } from '@statelyai/inspect';
import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { createGatewayClient, GatewayConnectError, type GatewayClient, type GatewayClientOptions } from '../../src/client/index.js';
import { createGateway, type Gateway } from '../../src/server/index.js';

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
