// Which transport a default client ends up on, against real gateways on 127.0.0.1: a gateway that
// restarts is no reason to leave the WebSocket (a refused connect reached no server); a client
// that joined over HTTP moves back to the WebSocket by a background probe once the network
// carries it; and each node of a URL list keeps its own transport. Behind a blocking proxy
// (test/support/blocking-proxy.ts) and the TCP fault proxy, with the client on a manual clock
// where time matters.
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConnectError } from '../../src/client/index.js';
import { webSocketTransport } from '../../src/client/websocket-transport.js';
import { httpTransport } from '../../src/client/http-transport.js';
import { systemClock } from '../../src/client/options.js';
import type { ClientTransport } from '../../src/client/transport.js';
import { createManualClock } from '../../src/testing/index.js';
import { startBlockingProxy, type BlockingProxy } from '../support/blocking-proxy.js';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { publishMany, startGateway } from '../support/gateway-kit.js';
import { recordEvents, waitFor, waitForCount, waitForState } from '../support/wait-for.js';
import { makeClient } from './kit.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function blockingProxy(targetPort: number): Promise<BlockingProxy> {
  const proxy = await startBlockingProxy(targetPort);
  closers.push(() => proxy.close());
  return proxy;
}

async function faultProxy(port: number): Promise<FaultProxy> {
  const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port } });
  closers.push(() => proxy.close());
  return proxy;
}

/** A loopback port nothing listens on (connects to it are refused). */
async function deadPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP server that accepts every connection and closes it at once, before any answer. */
async function hangUpServer(): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  });
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/lifeline`;
}

/** What one connection of a bare transport reported when it failed: whether it reached a server. */
function reachedServer(transport: ClientTransport, url: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let reached: boolean | null = null;
    transport.connect(
      { url, handshake: null, bearer: undefined },
      {
        opened: () => reject(new Error(`${url} opened`)),
        message: () => undefined,
        error: (_cause, reachedServer) => (reached = reachedServer),
        frameTooLarge: () => undefined,
        closed: () => (reached === null ? reject(new Error('closed with no error reported')) : resolve(reached)),
      },
    );
  });
}

describe('a gateway that is down is no reason to leave the WebSocket', () => {
  it('each transport reports a refused connect as reaching no server, and an HTTP answer or a hang-up as reaching one', async () => {
    const refused = `ws://127.0.0.1:${await deadPort()}/lifeline`;
    const blocked = (await blockingProxy(await deadPort())).url;
    const hangUp = await hangUpServer();
    const ws = webSocketTransport();
    const http = httpTransport({ clock: systemClock, deadlineMs: 2000, maxQueuedFrames: 4, fetch: globalThis.fetch.bind(globalThis) });
    expect(await Promise.all([ws, http].map((t) => reachedServer(t, refused)))).toEqual([false, false]);
    expect(await Promise.all([ws, http].map((t) => reachedServer(t, blocked)))).toEqual([true, true]);
    expect(await Promise.all([ws, http].map((t) => reachedServer(t, hangUp)))).toEqual([true, true]);
  });

  it('a default client comes back on the WebSocket after its gateway stops and restarts on the same port', async () => {
    const first = await startGateway({ heartbeatMs: 60_000 });
    const client = makeClient(first.url, { reconnect: { initialDelayMs: 10, maxDelayMs: 20, minUptimeMs: 100 } });
    const { events } = recordEvents(client);
    const gaps: unknown[] = [];
    client.onGap((gap) => gaps.push(gap));
    // The transport of every failed attempt, as the client reports it.
    const failed: string[] = [];
    client.onError((error: GatewayConnectError) => {
      if (error.code === 'connect_failed') failed.push(`${client.info.transport} ${error.message.includes('ECONNREFUSED') ? 'ECONNREFUSED' : error.message}`);
    });
    await client.connect();
    const sessionId = client.info.sessionId ?? '';
    await publishMany(first, sessionId, 2);
    await waitForCount(events, 2);

    await first.terminate();
    await waitFor(() => failed.length >= 5, 3000, 'five refused attempts while the gateway is down');
    const second = await startGateway({ heartbeatMs: 60_000, port: first.port, log: first.log });
    await waitForState(client, 'joined', 3000);
    await publishMany(second, sessionId, 1);
    await waitForCount(events, 3);

    expect(new Set(failed.slice(0, 5))).toEqual(new Set(['websocket ECONNREFUSED']));
    expect(client.info).toMatchObject({ transport: 'websocket', sessionId, cursor: 3 });
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(gaps).toEqual([]);
  });
});

describe('back to the WebSocket by a background probe', () => {
  it('a client joined over HTTP probes the WebSocket when the retry is due, and moves to it once the proxy passes upgrades, with no gap and no duplicate', async () => {
    // No watchdog to fire while the manual clock jumps minutes.
    const gw = await startGateway({ heartbeatMs: 600_000 });
    const bridge = await blockingProxy(gw.port);
    const proxy = await faultProxy(bridge.port);
    const clock = createManualClock();
    const client = makeClient(proxy.url, { clock });
    const { events } = recordEvents(client);
    const gaps: unknown[] = [];
    client.onGap((gap) => gaps.push(gap));
    const errors: GatewayConnectError[] = [];
    const applied: unknown[] = [];
    gw.onMessage((message) => void applied.push(message.content));
    // What the probes told the chart, read through the chart's inspection events.
    const probeReports: string[] = [];
    client.chart.inspect((event) => {
      if (event.type === '@xstate.event' && event.event.type.startsWith('transport.probe')) probeReports.push(event.event.type);
    });

    // Two refused upgrades, each retried when the manual clock lets the backoff fire, then HTTP.
    const joining = client.connect();
    for (let i = 0; i < 2; i++) {
      await waitFor(() => client.info.retryInMs !== null, 2000, 'a retry to wait for');
      clock.advance(client.info.retryInMs ?? 0);
    }
    await joining;
    expect(client.info.transport).toBe('http');
    client.onError((error) => errors.push(error));
    const sessionId = client.info.sessionId ?? '';
    await publishMany(gw, sessionId, 2);
    await waitForCount(events, 2);

    // Due after 60 s: the probe's upgrade is refused; nothing changes for the app.
    clock.advance(59_999);
    expect(bridge.refusedUpgrades).toBe(2);
    clock.advance(1);
    await waitFor(() => probeReports.includes('transport.probe_failed'), 2000, 'the probe, refused');
    expect(bridge.refusedUpgrades).toBe(3);
    const states: string[] = [];
    client.onState((state) => states.push(state));

    // The network carries WebSockets now, but the next probe is 120 s away.
    bridge.passUpgrades(true);
    clock.advance(119_999);
    await publishMany(gw, sessionId, 1);
    await waitForCount(events, 3);
    const sent = client.send({ n: 1 });
    expect(bridge.passedUpgrades).toBe(0);
    clock.advance(1);
    await waitFor(() => client.state === 'joined' && client.info.transport === 'websocket', 3000, 'joined over the WebSocket');
    await publishMany(gw, sessionId, 2);
    await waitForCount(events, 5);

    expect(await sent).toMatchObject({ acknowledged: true });
    expect(applied).toEqual([{ n: 1 }]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(gaps).toEqual([]);
    // The probe and the rejoin; the event stream was opened once.
    expect(bridge.passedUpgrades).toBe(2);
    expect(probeReports).toEqual(['transport.probe_failed', 'transport.probe_opened']);
    expect(bridge.streams).toHaveLength(1);
    // A planned, prompt reconnect: no failure and no error reported.
    expect(states).toEqual(['connecting', 'negotiating', 'joined']);
    expect(client.info).toMatchObject({ attempt: 0, lastClose: { code: 1000, reason: 'transport_upgrade' } });
    expect(errors).toEqual([]);
  });
});

describe('each node of a URL list keeps its own transport', () => {
  it('upgrades refused by two nodes (down behind their proxies) do not move the third, which opens the WebSocket', async () => {
    const gw = await startGateway();
    const down = [await blockingProxy(await deadPort()), await blockingProxy(await deadPort())];
    const client = makeClient([down[0]?.url ?? '', down[1]?.url ?? '', gw.url]);
    const errors: string[] = [];
    client.onError((error) => errors.push(`${client.info.transport} ${error.message.includes('HTTP 502') ? '502' : error.message}`));
    await client.connect();
    expect(client.info).toMatchObject({ transport: 'websocket', url: gw.url });
    expect(errors).toEqual(['websocket 502', 'websocket 502']);
    expect(down.map((proxy) => [proxy.refusedUpgrades, proxy.streams.length])).toEqual([
      [1, 0],
      [1, 0],
    ]);
  });
});
