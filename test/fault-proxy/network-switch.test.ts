// `agent-lifeline proxy`'s control endpoint over real HTTP, in front of a real gateway: each action
// does to a joined client what its name says, and an unknown route says what exists.
import { afterEach, describe, expect, it } from 'vitest';
import { createNetworkSwitch, serveNetworkSwitch, type ControlEndpoint, type NetworkAction } from '../../src/cli/proxy-control.js';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { connectRaw } from '../support/raw-client.js';
import { helloFrame, join, startGateway } from '../support/gateway-kit.js';

let proxy: FaultProxy | undefined;
let control: ControlEndpoint | undefined;
afterEach(async () => {
  await control?.close();
  await proxy?.close();
});

async function post(action: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${control?.url ?? ''}/${action}`, { method: 'POST', headers: { 'X-Lifeline-Control': control?.key ?? '' } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('network switch', () => {
  it('drop, stall, refuse and pass over HTTP', async () => {
    const gateway = await startGateway();
    proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: gateway.port } });
    const heard: NetworkAction[] = [];
    control = await serveNetworkSwitch(createNetworkSwitch(proxy, 'gw'), '127.0.0.1', 0, (action) => heard.push(action));

    const first = await join(proxy.url);
    expect(await post('drop')).toMatchObject({ status: 200, body: { mode: 'pass' } });
    expect((await first.client.closed()).code).toBe(1006);

    const second = await join(proxy.url);
    expect((await post('stall')).body).toMatchObject({ mode: 'stall' });
    second.client.send({ type: 'ping' });
    await expect(second.client.next('pong', 300)).rejects.toThrow();

    expect((await post('refuse')).body).toMatchObject({ mode: 'refuse', target: 'gw' });
    expect((await second.client.closed()).code).toBe(1006);
    await expect(connectRaw(proxy.url)).rejects.toThrow();

    expect((await post('pass')).body).toMatchObject({ mode: 'pass' });
    const third = await connectRaw(proxy.url);
    third.send(helloFrame());
    await third.next('hello_ok');
    third.ws.terminate();

    expect(heard).toEqual(['drop', 'stall', 'refuse', 'pass']);
    const unknown = await post('explode');
    expect(unknown.status).toBe(404);
    expect(unknown.body['nextStep']).toContain('/drop');
  });
});
