// An epoch change as seen by clients that send no epoch: PraisonAI's client (its default hello,
// copied from upstream) and a Lifeline hello without `epoch`. A Redis restarted from an
// `everysec` AOF may have lost its last writes, so the session moves to a new epoch numbered from
// 1 again. A resume across that change must show a gap (PROTOCOL.md sections 4 and 8), never
// continue the new history from `since + 1` as if it were the old one.
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisFleet, type Gateway } from '../../src/server/index.js';
import { connect, helloFrame, startGateway } from '../support/gateway-kit.js';
import { upstreamHello } from '../support/praisonai-hello.js';
import type { Frame, RawClient } from '../support/raw-client.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

const servers: RedisServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** Publish `count` ticks, retrying `unavailable` while the node reconnects to a restarted Redis. */
async function publish(gateway: Gateway, sessionId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const deadline = performance.now() + 10_000;
    for (;;) {
      try {
        await gateway.publish(sessionId, { type: 'tick', data: { i } });
        break;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'unavailable' || performance.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
}

/** The numbers of the replays a client got: `seq`, or PraisonAI's `event.sequence`. */
function replayed(client: RawClient): number[] {
  return client.frames.filter((f) => f.type === 'replay').map((f) => Number(f['seq'] ?? (f['event'] as { sequence?: unknown }).sequence));
}

/**
 * A session whose client held events 1..20 when Redis restarted (everysec: the epoch moves), and
 * whose new epoch then got `fresh` events while the client was away.
 */
async function movedWhileAway(hello: Record<string, unknown>, fresh: number) {
  const server = await startRedis({ appendfsync: 'everysec' });
  servers.push(server);
  const gateway = await startGateway({ ...createRedisFleet({ url: server.url, secret: 'test-secret-0123456789' }) });
  const first = await connect(`${gateway.url}/ws?token=t`);
  first.send(hello);
  const helloOk = await first.next('hello_ok');
  const sessionId = String(helloOk['session_id']);
  await publish(gateway, sessionId, 20);
  await first.until((frames) => frames.some((f) => f['seq'] === 20), 5000, 'event 20');
  first.close();
  servers.push(await server.restart());
  await publish(gateway, sessionId, fresh);
  const resume = async (since: number, extra: Record<string, unknown> = {}): Promise<{ client: RawClient; helloOk: Frame }> => {
    const client = await connect(`${gateway.url}/ws?token=t`);
    client.send({ ...hello, session_id: sessionId, since, ...extra });
    return { client, helloOk: await client.next('hello_ok') };
  };
  return { sessionId, resume };
}

describe('a resume without an epoch, across an epoch change', () => {
  it("PraisonAI's client (default hello): replays the new history from its start, and its own check sees the gap", async () => {
    // 25 new events: more than the client's since, so the new history could pass for the old one's continuation.
    const { resume } = await movedWhileAway(upstreamHello('demo'), 25);
    const across = await resume(20);
    expect(across.helloOk).toMatchObject({ resync_required: true, sequence: 20, cursor: 25 });
    expect(across.helloOk).not.toHaveProperty('epoch');
    await waitFor(() => replayed(across.client).length === 25, 3000, 'the new history replayed');
    // PraisonAI's GatewayClient expects event.sequence == hello_ok.sequence + 1 = 21: it gets 1, a gap.
    expect(replayed(across.client)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    across.client.close();

    // Told once: the client now counts in the new epoch, and resumes there without a gap.
    const after = await resume(25);
    expect(after.helloOk).toMatchObject({ resync_required: false, sequence: 25, cursor: 25 });
    // Its pong follows anything replayed (PraisonAI's pong carries no `ts`, so no sync()).
    after.client.send({ type: 'ping' });
    await after.client.next('pong');
    expect(replayed(after.client)).toEqual([]);
  });

  it('a Lifeline hello without epoch gets the gap and resync_required in hello_ok', async () => {
    const { resume } = await movedWhileAway(helloFrame({ capabilities: ['ack', 'batch'], protocol_max: 1 }), 25);
    const across = await resume(20);
    expect(across.helloOk).toMatchObject({ resync_required: true, gap: { expected: 21, received: 1 }, cursor: 25 });
    await across.client.next('caught_up');
    expect(replayed(across.client)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });
});
