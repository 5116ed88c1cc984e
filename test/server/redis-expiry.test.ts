// Ending a session on a fleet: `expireSession()` on one node (a logout, a revoked grant) ends the
// session's connections on every node, and a session that no longer exists is reported as
// `session_expired` (4040), never as `unavailable`. Real Redis, real gateways, raw clients.
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisFleet, type Gateway } from '../../src/server/index.js';
import { join, startGateway } from '../support/gateway-kit.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

const SECRET = 'test-secret-0123456789';
const servers: RedisServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function twoNodes(): Promise<{ server: RedisServer; a: Gateway; b: Gateway }> {
  const server = await startRedis();
  servers.push(server);
  const node = () => startGateway({ ...createRedisFleet({ url: server.url, secret: SECRET, commandTimeoutMs: 500, pingIntervalMs: 100 }) });
  return { server, a: await node(), b: await node() };
}

/** Delete a session's keys behind the gateways' backs (no node is told). */
async function deleteKeys(server: RedisServer, sessionId: string): Promise<void> {
  const keys = ['meta', 'events', 'ids', 'state', 'idem'].map((k) => `lifeline:{${sessionId}}:${k}`);
  await server.cli('del', ...keys);
}

describe('ending a session on a fleet', () => {
  it('expireSession on one node ends the connections on every node with session_expired and 4040', async () => {
    const { a, b } = await twoNodes();
    const onA = await join(a, { protocol_max: 1 });
    const sessionId = String(onA.helloOk['session_id']);
    const onB = await join(b, { protocol_max: 1, session_id: sessionId });
    const started = performance.now();
    expect(await a.expireSession(sessionId, 'Logged out.')).toBe(true);
    expect(await onB.client.next('error', 1000)).toMatchObject({ code: 'session_expired', message: 'Logged out.' });
    expect(await onB.client.closed(1000)).toMatchObject({ code: 4040 });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await onA.client.closed()).toMatchObject({ code: 4040 });
    // B forgot it too: a publish there is refused for what it is.
    await expect(b.publish(sessionId, { type: 'tick' })).rejects.toMatchObject({ code: 'session_not_found' });
    expect(b.sessions()).toEqual([]);
  });

  it('a message on a session that no longer exists gets session_expired and 4040, not unavailable', async () => {
    const { server, b } = await twoNodes();
    const { client, helloOk } = await join(b, { protocol_max: 1 });
    const sessionId = String(helloOk['session_id']);
    await deleteKeys(server, sessionId);
    client.send({ type: 'message', id: 'm-1', content: 'hello?' });
    expect(await client.next('error')).toMatchObject({ code: 'session_expired' });
    expect(await client.closed()).toMatchObject({ code: 4040 });
  });

  it('a node whose feed was down when the session ended finds out once the feed is back', async () => {
    const { server, b } = await twoNodes();
    const { client, helloOk } = await join(b, { protocol_max: 1 });
    const sessionId = String(helloOk['session_id']);
    // The session ends while B's feed is away: no notice can reach B.
    await deleteKeys(server, sessionId);
    await server.cli('client', 'kill', 'type', 'pubsub');
    expect(await client.next('error', 3000)).toMatchObject({ code: 'session_expired' });
    expect(await client.closed()).toMatchObject({ code: 4040 });
  });
});
