// Gateways sharing one Redis log: a client resumes on another node from its cursor, a resend is
// applied once fleet-wide, and the in-process expiry sweep never deletes a shared session.
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisLog } from '../../src/server/index.js';
import { join, publishMany, seqs, startGateway } from '../support/gateway-kit.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'test-secret-0123456789';
const servers: RedisServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function fleetNode(server: RedisServer, options: Parameters<typeof startGateway>[0] = {}, logTtlMs?: number) {
  const log = createRedisLog({ url: server.url, secret: SECRET, replayWindow: 50, ...(logTtlMs === undefined ? {} : { sessionTtlMs: logTtlMs }) });
  return startGateway({ log, ...options });
}

/** Poll an async condition every 10 ms until it holds, or fail after `timeoutMs`. */
async function eventually(check: () => Promise<boolean>, timeoutMs: number, label: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('gateways on one Redis log', () => {
  it('resumes a client on another node with exactly the events it missed', async () => {
    const server = await startRedis();
    servers.push(server);
    const a = await fleetNode(server);
    const b = await fleetNode(server);
    const first = await join(a, { protocol_max: 1 });
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(a, sessionId, 3);
    await first.client.until((frames) => seqs(frames).length === 3);
    await a.terminate();
    await publishMany(b, sessionId, 2); // published while the client was away

    const again = await join(b, { protocol_max: 1, session_id: sessionId, since: 3, epoch: first.helloOk['epoch'] });
    expect(again.helloOk).toMatchObject({ resumed: true, cursor: 5, epoch: first.helloOk['epoch'], resync_required: false });
    expect(seqs(again.client.frames, 'replay')).toEqual([4, 5]);
  });

  it('applies a resent message once, whichever node it reaches', async () => {
    const server = await startRedis();
    servers.push(server);
    const a = await fleetNode(server);
    const b = await fleetNode(server);
    let applied = 0;
    a.onMessage(() => applied++);
    b.onMessage(() => applied++);
    const first = await join(a, { protocol_max: 1 });
    const sessionId = String(first.helloOk['session_id']);
    first.client.send({ type: 'message', id: 'm-1', content: 'hi' });
    expect(await first.client.next('ack')).toMatchObject({ id: 'm-1' });
    const second = await join(b, { protocol_max: 1, session_id: sessionId });
    second.client.send({ type: 'message', id: 'm-1', content: 'hi' });
    expect(await second.client.next('ack')).toMatchObject({ id: 'm-1', duplicate: true });
    expect(applied).toBe(1);
  });

  it('never deletes a session that is idle here but live on another node', async () => {
    const server = await startRedis();
    servers.push(server);
    const idle = await fleetNode(server, { sessionTtlMs: 50 }, 400);
    const holder = await fleetNode(server, { sessionTtlMs: 50 }, 400);
    const first = await join(idle, { protocol_max: 1 });
    const sessionId = String(first.helloOk['session_id']);
    await join(holder, { protocol_max: 1, session_id: sessionId });
    first.client.ws.close();
    // The idle node forgets its live entry after its TTL, but never deletes the shared history.
    await waitFor(() => idle.sessions().length === 0, 3000, 'the idle node to forget its entry');
    const meta = `lifeline:{${sessionId}}:meta`;
    // The holder keeps refreshing the key TTL: it goes up again, well past the 400 ms it was given.
    const started = performance.now();
    let last = Number(await server.cli('pttl', meta));
    let refreshes = 0;
    await eventually(async () => {
      const now = Number(await server.cli('pttl', meta));
      if (now > last) refreshes++;
      last = now;
      return refreshes >= 3 && performance.now() - started > 800;
    }, 5000, 'the holder to refresh the TTL past two lifetimes');
    expect(await server.cli('exists', meta)).toBe('1');
  });
});
