// Gateway restarts: with a fresh log the history is gone and the epoch says so; with the same
// log a client resumes as if nothing happened.
import { describe, expect, it } from 'vitest';
import { createMemoryLog } from '../../src/server/index.js';
import { join, publishMany, seqs, startGateway } from '../support/gateway-kit.js';

describe('restart', () => {
  it('changes the epoch and signals a gap after a crash that lost the log', async () => {
    const before = await startGateway();
    const first = await join(before, { protocol_max: 1 });
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(before, sessionId, 4);
    await first.client.until((frames) => seqs(frames).length === 4);
    await before.terminate();
    // A crash sends no close frame.
    expect(await first.client.closed()).toMatchObject({ code: 1006 });

    const after = await startGateway();
    const again = await join(after, { protocol_max: 1, session_id: sessionId, since: 4, epoch: first.helloOk['epoch'] });
    expect(again.helloOk).toMatchObject({ session_id: sessionId, resumed: false, cursor: 0, resync_required: true, gap: { expected: 5, received: 1 } });
    expect(again.helloOk['epoch']).not.toBe(first.helloOk['epoch']);
    expect(again.caughtUp).toMatchObject({ cursor: 0, epoch: again.helloOk['epoch'] });
  });

  it('resumes seamlessly after a restart that kept the log', async () => {
    const log = createMemoryLog({ replayWindow: 100 });
    const before = await startGateway({ log });
    const first = await join(before, { protocol_max: 1 });
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(before, sessionId, 5);
    first.client.send({ type: 'message', id: 'sent-before-crash', content: 'x' });
    await first.client.next('ack');
    await before.terminate();

    const after = await startGateway({ log });
    let applied = 0;
    after.onMessage(() => applied++);
    const again = await join(after, { protocol_max: 1, session_id: sessionId, since: 3, epoch: first.helloOk['epoch'] });
    expect(again.helloOk).toMatchObject({ resumed: true, cursor: 5, resync_required: false, epoch: first.helloOk['epoch'] });
    expect(again.helloOk['gap']).toBeUndefined();
    expect(seqs(again.client.frames)).toEqual([4, 5]);
    await expect(after.publish(sessionId, { type: 'tick' })).resolves.toBe(6);
    // A resend of a message applied before the crash is still recognised.
    again.client.send({ type: 'message', id: 'sent-before-crash', content: 'x' });
    expect(await again.client.next('ack')).toMatchObject({ duplicate: true });
    expect(applied).toBe(0);
  });
});
