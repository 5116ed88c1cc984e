// Hostile load: a consumer that stops reading (a half-open route, via the fault proxy) is evicted
// with 4013 past the buffered-bytes policy while others keep their stream; a connection flood from
// one address is refused with rate_limited and a usable retry_after_seconds.
import { afterEach, describe, expect, it } from 'vitest';
import { createGatewayClient, type GatewayClient } from '../../src/client/index.js';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { connect, join, seqs, startGateway } from '../support/gateway-kit.js';
import type { RawClient } from '../support/raw-client.js';

const proxies: FaultProxy[] = [];
const clients: GatewayClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

describe('slow consumers', () => {
  it('evicts a consumer behind a stalled route with 4013 and never stalls the others', async () => {
    const gateway = await startGateway({ maxBufferedBytes: 256 * 1024, heartbeatMs: 60_000 });
    const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: gateway.port } });
    proxies.push(proxy);
    const { client: fast, helloOk } = await join(gateway, { protocol_max: 1 });
    const sessionId = String(helloOk['session_id']);
    const { client: slow } = await join(proxy.url, { session_id: sessionId, protocol_max: 1 });
    const other = await join(gateway, {});
    const otherSession = String(other.helloOk['session_id']);
    proxy.stall();

    const chunk = 'y'.repeat(32 * 1024);
    let published = 0;
    let worstPublishMs = 0;
    // Kernel buffers on both proxy legs absorb a few MB before the gateway's own buffer grows.
    for (let i = 0; i < 3000 && gateway.stats().counters.slowConsumers === 0; i++) {
      const t = Date.now();
      await gateway.publish(sessionId, { type: 'bulk', data: chunk });
      await gateway.publish(otherSession, { type: 'small', data: i });
      worstPublishMs = Math.max(worstPublishMs, Date.now() - t);
      published++;
      // Let the event loop reach I/O: the healthy readers live in this process too.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(gateway.stats().counters.slowConsumers).toBe(1);
    // The fast reader of the same session and a reader of another session got everything, in order.
    await fast.until((f) => seqs(f).length === published, 10_000, 'all bulk events at the fast reader');
    expect(seqs(fast.frames)).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    await other.client.until((f) => seqs(f).length === published, 10_000, 'all events at the other session');
    // Publishing never waited on the slow socket.
    expect(worstPublishMs).toBeLessThan(1000);
    // Once the route heals, the slow client reads what was buffered, then the typed close.
    proxy.resume();
    expect(await slow.closed(10_000)).toMatchObject({ code: 4013, reason: 'slow_consumer' });
    expect(gateway.stats().joined).toBe(2);
  });
});

describe('connection floods', () => {
  it('refuses a flood past the per-address rate with rate_limited, 4029 and retry_after_seconds', async () => {
    const gateway = await startGateway({ rateLimit: { connections: 10, perMs: 1000 } });
    const attempts = await Promise.all(Array.from({ length: 40 }, () => connect(gateway).catch(() => undefined)));
    const opened = attempts.filter((c): c is RawClient => c !== undefined);
    expect(opened).toHaveLength(40);
    // A refused socket hears hello_error at once; an admitted one hears nothing before hello.
    await Promise.all(
      opened.map(async (c) => {
        c.send({ type: 'ping', ts: 1 });
        await c.until((f) => f.some((x) => x.type === 'hello_error' || x.type === 'pong'), 3000, 'a refusal or a pong');
      }),
    );
    const refused = opened.filter((c) => c.frames.some((f) => f.type === 'hello_error'));
    expect(refused).toHaveLength(30);
    for (const client of refused) {
      const refusal = client.frames.find((f) => f.type === 'hello_error');
      expect(refusal).toMatchObject({ code: 'rate_limited', next_step: 'wait_then_retry' });
      const retry = refusal?.['retry_after_seconds'];
      expect(Number.isInteger(retry) && Number(retry) >= 1).toBe(true);
      expect(await client.closed()).toMatchObject({ code: 4029 });
    }
    expect(gateway.stats().counters.refused['rate_limited']).toBe(30);
  });

  it('a real client in a flood waits at least retry_after_seconds, then gets in', async () => {
    const gateway = await startGateway({ rateLimit: { connections: 3, perMs: 1000 } });
    for (let i = 0; i < 3; i++) await connect(gateway);
    const client = createGatewayClient({ url: gateway.url, agentId: 'demo', reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, handshakeTimeoutMs: 1000 });
    clients.push(client);
    const retries: Array<number | null> = [];
    client.onState((s) => {
      if (s === 'reconnecting') retries.push(client.info.retryInMs);
    });
    const started = Date.now();
    await client.connect();
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries[0]).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(client.state).toBe('joined');
  });
});
