// Client test kit: clients with short test timings and fault proxies in front of gateways, all
// torn down after each test. Gateways come from test/support/gateway-kit.ts.
import { afterEach } from 'vitest';
import { createGatewayClient, type GatewayClient, type GatewayClientOptions } from '../../src/client/index.js';
import type { Gateway } from '../../src/server/index.js';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.js';

const clients: GatewayClient[] = [];
const proxies: FaultProxy[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.disconnect()));
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

/** Fast timings so reconnect tests finish in milliseconds. */
export const FAST = { initialDelayMs: 20, maxDelayMs: 200, minUptimeMs: 300 } as const;

/** A client for `url` with fast timings; `options` override. Disconnected after the test. */
export function makeClient(url: GatewayClientOptions['url'], options: Partial<GatewayClientOptions> = {}): GatewayClient {
  const client = createGatewayClient({ url, agentId: 'demo', reconnect: FAST, handshakeTimeoutMs: 1000, ...options });
  clients.push(client);
  return client;
}

/** A fault proxy in front of `gateway`, closed after the test. */
export async function proxyFor(gateway: Gateway): Promise<FaultProxy> {
  const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: gateway.port } });
  proxies.push(proxy);
  return proxy;
}
