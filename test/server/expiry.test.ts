// Idle sessions are forgotten after sessionTtlMs, so a long-running gateway does not grow without
// bound; a later resume of a forgotten id is a new history that the client sees as a gap.
import { describe, expect, it } from 'vitest';
import { createMemoryLog } from '../../src/server/index.js';
import { join, publishMany, seqs, startGateway } from '../support/gateway-kit.js';
import { waitFor } from '../support/wait-for.js';

describe('session expiry', () => {
  it('forgets a session idle past the TTL, and a resume then signals an epoch gap', async () => {
    const log = createMemoryLog({ replayWindow: 100 });
    const gateway = await startGateway({ log, sessionTtlMs: 50 });
    const first = await join(gateway);
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(gateway, sessionId, 3);
    await first.client.until((frames) => seqs(frames).length === 3);
    first.client.close();

    await waitFor(() => gateway.sessions().length === 0, 3000, 'the idle session to expire');
    expect(log.getSession(sessionId)).toBeUndefined();
    expect(gateway.stats().counters.expired).toBe(1);

    const again = await join(gateway, { session_id: sessionId, since: 3, epoch: first.helloOk['epoch'] });
    expect(again.helloOk).toMatchObject({ resumed: false, resync_required: true, gap: { expected: 4, received: 1 } });
    expect(again.helloOk['epoch']).not.toBe(first.helloOk['epoch']);
  });

  it('keeps sessions that have a connection, however long', async () => {
    const gateway = await startGateway({ sessionTtlMs: 30 });
    const kept = await join(gateway);
    const gone = await join(gateway);
    gone.client.close();
    await waitFor(() => gateway.sessions().length === 1, 3000, 'only the idle session to expire');
    expect(gateway.sessions()[0]?.id).toBe(kept.helloOk['session_id']);
    // Still served: a publish reaches the connected client.
    await publishMany(gateway, String(kept.helloOk['session_id']), 1);
    await kept.client.until((frames) => seqs(frames).length === 1);
  });
});
