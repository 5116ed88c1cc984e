// Heartbeats, draining, graceful close and crash: how connections end.
import { describe, expect, it } from 'vitest';
import { connect, join, startGateway } from '../support/gateway-kit.js';

describe('heartbeat', () => {
  it('pings every heartbeat_ms and closes a silent connection with 4002', async () => {
    const gateway = await startGateway({ heartbeatMs: 100 });
    const { client, helloOk } = await join(gateway);
    expect(helloOk['policy']).toMatchObject({ heartbeat_ms: 100 });
    expect(await client.next('ping', 1000)).toMatchObject({ ts: expect.any(Number) });
    const started = Date.now();
    expect(await client.closed(1500)).toMatchObject({ code: 4002, reason: 'liveness_timeout' });
    // Silence started at the hello, so the close lands between 2x and 3x the interval.
    expect(Date.now() - started).toBeLessThan(700);
    expect(gateway.stats().counters.reaped).toBe(1);
  });

  it('keeps a connection that answers pings', async () => {
    const gateway = await startGateway({ heartbeatMs: 100 });
    const { client } = await join(gateway, {}, { autoPong: true });
    // Four pings span more than the 2-3 intervals of silence that would reap it; the deadline is
    // generous because a loaded machine stretches 100 ms timers.
    await client.until((frames) => frames.filter((f) => f.type === 'ping').length >= 4, 5000, 'four pings');
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    expect(gateway.stats().counters.reaped).toBe(0);
  });
});

describe('drain and close', () => {
  it('spreads reconnect hints across clients, closes each with 1001, and keeps listening', async () => {
    const gateway = await startGateway();
    const clients = await Promise.all([join(gateway), join(gateway), join(gateway)]);
    await gateway.drain({ spreadMs: 1000 });
    const hints: number[] = [];
    for (const { client } of clients) {
      hints.push(Number((await client.next('draining'))['reconnect_after_ms']));
      expect(await client.closed()).toMatchObject({ code: 1001 });
    }
    expect(hints.sort((a, b) => a - b)).toEqual([0, 500, 1000]);
    const back = await join(gateway, { session_id: clients[0]?.helloOk['session_id'], since: 0 });
    expect(back.helloOk).toMatchObject({ resumed: true });
  });

  it('reports draining in health, and answers /health 503 so a balancer sends new clients elsewhere', async () => {
    const gateway = await startGateway();
    const healthUrl = `${gateway.url.replace('ws://', 'http://')}/health`;
    const { client } = await join(gateway);
    client.ws.pause(); // hold the close handshake open so the drain is still running
    const draining = gateway.drain({ spreadMs: 0 });
    expect(gateway.stats().draining).toBe(true);
    const during = await fetch(healthUrl);
    expect(during.status).toBe(503);
    expect(await during.json()).toMatchObject({ status: 'draining', draining: true });
    client.ws.resume();
    await draining;
    expect(gateway.stats().draining).toBe(false);
    expect((await fetch(healthUrl)).status).toBe(200);
  });

  it('close() ends every socket with 1001 and stops listening', async () => {
    const gateway = await startGateway();
    const { client } = await join(gateway);
    await gateway.close();
    expect(await client.closed()).toMatchObject({ code: 1001 });
    await expect(connect(gateway)).rejects.toThrow();
  });

  it('terminate() drops sockets without a close frame', async () => {
    const gateway = await startGateway();
    const { client } = await join(gateway);
    await gateway.terminate();
    expect(await client.closed()).toMatchObject({ code: 1006 });
    await expect(connect(gateway)).rejects.toThrow();
  });
});
