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

  it('expireSession() tells the connected clients session_expired, closes 4040 and forgets the session', async () => {
    const log = createMemoryLog({ replayWindow: 100 });
    const gateway = await startGateway({ log });
    const first = await join(gateway);
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(gateway, sessionId, 2);
    await first.client.until((frames) => seqs(frames).length === 2);

    await expect(gateway.expireSession(sessionId)).resolves.toBe(true);
    expect(await first.client.next('error')).toMatchObject({ code: 'session_expired', next_step: 'wait_then_retry' });
    expect(await first.client.closed()).toMatchObject({ code: 4040 });
    expect(gateway.sessions()).toEqual([]);
    expect(log.getSession(sessionId)).toBeUndefined();
    await expect(gateway.expireSession(sessionId)).resolves.toBe(false);
    await expect(gateway.publish(sessionId, { type: 'late' })).rejects.toMatchObject({ code: 'session_not_found' });
  });
});
