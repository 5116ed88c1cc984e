// The legacy `join` handshake, and `batch` frames: only when v2 was agreed, never on a join.
import { describe, expect, it } from 'vitest';
import { connect, events, join, publishMany, seqs, startGateway } from '../support/gateway-kit.js';

describe('legacy join', () => {
  it('answers joined and replays without batches even when v2 is possible', async () => {
    const gateway = await startGateway();
    const first = await join(gateway);
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(gateway, sessionId, 4);

    const client = await connect(gateway);
    client.send({ type: 'join', agent_id: 'demo', min_version: 1, max_version: 2, session_id: sessionId, since: 1 });
    expect(await client.next('joined')).toMatchObject({
      session_id: sessionId,
      agent_id: 'demo',
      resumed: true,
      cursor: 4,
      oldest_cursor: 1,
      resync_required: false,
      sequence: 1,
      protocol_version: 2,
      server_min_version: 1,
      server_max_version: 2,
      epoch: first.helloOk['epoch'],
    });
    await client.next('caught_up');
    expect(client.frames.some((f) => f.type === 'batch')).toBe(false);
    expect(seqs(client.frames, 'replay')).toEqual([2, 3, 4]);
    void publishMany(gateway, sessionId, 3);
    await client.until((frames) => seqs(frames).length === 6);
    expect(client.frames.some((f) => f.type === 'batch')).toBe(false);
  });

  it('sends a snapshot after resync_required', async () => {
    const gateway = await startGateway({ replayWindow: 2 });
    const first = await join(gateway);
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(gateway, sessionId, 5);
    await gateway.setState(sessionId, { n: 5 });
    const client = await connect(gateway);
    client.send({ type: 'join', agent_id: 'demo', session_id: sessionId, since: 0 });
    expect(await client.next('joined')).toMatchObject({ resync_required: true, gap: { expected: 1, received: 4 }, sequence: 3 });
    expect(await client.next('snapshot')).toMatchObject({ state: { n: 5 }, cursor: 5 });
    expect(await client.next('caught_up')).toMatchObject({ cursor: 5 });
    expect(seqs(client.frames)).toEqual([4, 5]);
  });

  it('refuses a version mismatch with an error frame and close 4006', async () => {
    const gateway = await startGateway({ protocol: { min: 1, max: 1 } });
    const client = await connect(gateway);
    client.send({ type: 'join', agent_id: 'demo', min_version: 2, max_version: 3 });
    expect(await client.next('error')).toMatchObject({ code: 'protocol_unsupported', next_step: 'downgrade_client', server_min_version: 1, server_max_version: 1 });
    expect(await client.closed()).toMatchObject({ code: 4006 });
  });
});

describe('batch frames', () => {
  it('batches replay under v2 and never under v1', async () => {
    const gateway = await startGateway({ maxBatchFrames: 4 });
    const first = await join(gateway);
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(gateway, sessionId, 10);

    const v2 = await join(gateway, { session_id: sessionId, since: 0 });
    const batches = v2.client.frames.filter((f) => f.type === 'batch');
    expect(batches.map((b) => (b['frames'] as unknown[]).length)).toEqual([4, 4, 2]);
    expect(seqs(v2.client.frames, 'replay')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    const v1 = await join(gateway, { session_id: sessionId, since: 0, protocol_max: 1 });
    expect(v1.client.frames.some((f) => f.type === 'batch')).toBe(false);
    expect(seqs(v1.client.frames, 'replay')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('coalesces a live burst into a batch under v2 only', async () => {
    const gateway = await startGateway();
    const v2 = await join(gateway);
    const sessionId = String(v2.helloOk['session_id']);
    const v1 = await join(gateway, { session_id: sessionId, protocol_max: 1 });
    await Promise.all([1, 2, 3, 4, 5].map((i) => gateway.publish(sessionId, { type: 'tick', data: i })));
    await v2.client.until((frames) => seqs(frames).length === 5);
    await v1.client.until((frames) => seqs(frames).length === 5);
    expect(v2.client.frames.filter((f) => f.type === 'batch')).toHaveLength(1);
    expect(seqs(v2.client.frames, 'event')).toEqual([1, 2, 3, 4, 5]);
    expect(v1.client.frames.some((f) => f.type === 'batch')).toBe(false);
    expect(seqs(v1.client.frames, 'event')).toEqual([1, 2, 3, 4, 5]);
  });

  it('encodes once per event and batch, yet gives each connection its own session, when two sessions publish in one tick', async () => {
    // Both sessions number their events 1, 2, ...: what is shared between connections must be
    // the same event, not merely the same seq.
    const gateway = await startGateway({ maxBatchFrames: 4 });
    const sessions = await Promise.all([join(gateway), join(gateway)]);
    const ids = sessions.map((s) => String(s.helloOk['session_id']));
    const readers = await Promise.all(ids.flatMap((id) => [join(gateway, { session_id: id }), join(gateway, { session_id: id, protocol_max: 1 })]));
    const clients = [...sessions, ...readers].map((s, i) => ({ client: s.client, session: i < 2 ? i : Math.floor((i - 2) / 2) }));
    const published: Array<Promise<number>> = [];
    for (let n = 1; n <= 6; n++) for (const [i, id] of ids.entries()) published.push(gateway.publish(id, { type: 'tick', data: { session: i, n } }));
    await Promise.all(published);
    for (const { client, session } of clients) {
      await client.until((frames) => seqs(frames, 'event').length === 6);
      expect(seqs(client.frames, 'event')).toEqual([1, 2, 3, 4, 5, 6]);
      expect(events(client.frames).map((e) => e['data'])).toEqual([1, 2, 3, 4, 5, 6].map((n) => ({ session, n })));
    }
    // The v2 connections got the burst as batches of at most 4, the v1 connections one frame per event.
    for (const { client } of clients.filter((_, i) => i < 2 || i % 2 === 0)) {
      expect(client.frames.filter((f) => f.type === 'batch').map((b) => (b['frames'] as unknown[]).length)).toEqual([4, 2]);
    }
    for (const { client } of clients.filter((_, i) => i >= 2 && i % 2 === 1)) expect(client.frames.some((f) => f.type === 'batch')).toBe(false);
  });
});
