// Browser signals in Node: a DOM-style shim for online/offline/visibility and navigator.onLine,
// so the client's own listeners run exactly as in a page.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installBrowserShim, type BrowserShim } from '../model/browser-shim.js';
import { publishMany, startGateway } from '../support/gateway-kit.js';
import { recordEvents, waitFor, waitForCount, waitForState } from '../support/wait-for.js';
import { proxyFor, makeClient } from './kit.js';

let shim: BrowserShim;

beforeEach(() => {
  shim = installBrowserShim();
});

afterEach(() => {
  shim.uninstall();
});

describe('browser signals', () => {
  it('reads navigator.onLine at connect(): an offline start waits instead of burning attempts', async () => {
    const gateway = await startGateway();
    const proxy = await proxyFor(gateway);
    proxy.refuse(true);
    const client = makeClient(proxy.url); // created while online
    shim.setOnline(false); // the network drops before the app calls connect(), unobserved
    void client.connect().catch(() => undefined);
    await waitFor(() => client.chart.getSnapshot().matches({ reconnecting: 'offline' }), 2000, 'reconnecting.offline');
    const attempts = client.info.attempt;

    // Back online: the client retries at once and joins.
    proxy.refuse(false);
    shim.fire('online');
    await waitForState(client, 'joined', 2000);
    expect(attempts).toBe(1);
  });

  it('goes offline while reconnecting and comes straight back on the online event', async () => {
    const gateway = await startGateway();
    const proxy = await proxyFor(gateway);
    const client = makeClient(proxy.url, { reconnect: { initialDelayMs: 5000, maxDelayMs: 5000 } });
    await client.connect();
    proxy.refuse(true);
    proxy.drop();
    await waitForState(client, 'reconnecting', 2000);
    shim.fire('offline');
    await waitFor(() => client.chart.getSnapshot().matches({ reconnecting: 'offline' }), 2000, 'reconnecting.offline');
    proxy.refuse(false);
    shim.fire('online');
    // Far sooner than the 5 s backoff it would otherwise wait.
    await waitForState(client, 'joined', 1500);
  });

  it('probes a joined link when the page becomes visible: a dead one is found within one heartbeat, not two', async () => {
    const heartbeatMs = 400;
    const gateway = await startGateway({ heartbeatMs });
    const proxy = await proxyFor(gateway);
    const client = makeClient(proxy.url);
    const { events } = recordEvents(client);
    await client.connect();
    await publishMany(gateway, client.info.sessionId ?? '', 1);
    await waitForCount(events, 1);
    // A frame just arrived, so silence alone would take two intervals (800 ms) to find the dead
    // link; the probe's ping goes unanswered and finds it one interval after the page shows.
    proxy.stall();
    const shownAt = performance.now();
    shim.fire('visible');
    await waitForState(client, 'reconnecting', 2000);
    expect(client.info.lastClose).toEqual({ code: 4002, reason: 'heartbeat_timeout' });
    expect(performance.now() - shownAt).toBeLessThan(1.6 * heartbeatMs);
    proxy.resume();
  });
});
