// Sessions end to end: handshake, live events, replay inside the window, gaps beyond it,
// caught_up, acks with de-duplication, snapshots, and ordering while publishing during a replay.
import { describe, expect, it } from 'vitest';
import { createMemoryLog, type EventLog } from '../../src/server/index.js';
import { connect, events, helloFrame, join, publishMany, seqs, startGateway } from '../support/gateway-kit.js';

/** Wrap a log so every answer arrives on a later macrotask. */
function asyncLog(inner: EventLog): EventLog {
  const later = <T>(value: () => T | Promise<T>): Promise<T> => new Promise((resolve) => setImmediate(() => resolve(value())));
  return {
    replayWindow: inner.replayWindow,
    expiry: inner.expiry,
    open: () => later(() => inner.open()),
    close: () => later(() => inner.close()),
    ownerOf: (token) => inner.ownerOf(token),
    getSession: (id) => later(() => inner.getSession(id)),
    createSession: (id, agent, owner) => later(() => inner.createSession(id, agent, owner)),
    deleteSession: (id) => later(() => inner.deleteSession(id)),
    listSessions: () => later(() => inner.listSessions()),
    touch: (ids) => later(() => inner.touch(ids)),
    append: (id, entries) => later(() => inner.append(id, entries)),
    readAfter: (id, cursor, limit) => later(() => inner.readAfter(id, cursor, limit)),
    position: (id) => later(() => inner.position(id)),
    moveSeen: (id, epoch) => later(() => inner.moveSeen(id, epoch)),
    claimMessage: (id, messageId, holder) => later(() => inner.claimMessage(id, messageId, holder)),
    renewMessageClaim: (id, messageId, holder) => later(() => inner.renewMessageClaim(id, messageId, holder)),
    recordMessageApplied: (id, messageId, owner) => later(() => inner.recordMessageApplied(id, messageId, owner)),
    setState: (id, state) => later(() => inner.setState(id, state)),
    getState: (id) => later(() => inner.getState(id)),
  };
}

describe('handshake and live events', () => {
  it('creates a session with a random id, then delivers published events in seq order', async () => {
    const gateway = await startGateway();
    const { client, helloOk, caughtUp } = await join(gateway);
    expect(helloOk).toMatchObject({ protocol: 2, resumed: false, cursor: 0, oldest_cursor: 0, resync_required: false, server_min: 1, server_max: 2 });
    expect(helloOk['session_id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(helloOk['epoch']).toMatch(/^e-/);
    expect(caughtUp).toMatchObject({ cursor: 0, epoch: helloOk['epoch'] });
    const sessionId = String(helloOk['session_id']);

    await expect(gateway.publish(sessionId, { type: 'token', data: { text: 'a' } })).resolves.toBe(1);
    await expect(gateway.publish(sessionId, { type: 'token', data: { text: 'b' } })).resolves.toBe(2);
    await client.until((frames) => seqs(frames).length === 2);
    expect(seqs(client.frames)).toEqual([1, 2]);
    expect(events(client.frames)[0]).toMatchObject({ type: 'token', data: { text: 'a' }, event_id: expect.any(String), timestamp: expect.any(Number) });
  });

  it('reports presence and health in hello_ok', async () => {
    const gateway = await startGateway({ agents: ['demo'] });
    const a = await join(gateway);
    const b = await join(gateway, { session_id: a.helloOk['session_id'] });
    expect(b.helloOk['presence']).toEqual([{ session_id: a.helloOk['session_id'], agent_id: 'demo', connections: 2 }]);
    expect(b.helloOk['health']).toMatchObject({ status: 'ok', connections: 2, sessions: 1, protocol: { min: 1, max: 2 } });
    expect(gateway.presence('demo')).toEqual(b.helloOk['presence']);
    expect(gateway.presence('other')).toEqual([]);
  });

  it('advertises the Lifeline extensions, with batch only under v2', async () => {
    const gateway = await startGateway();
    const v2 = await join(gateway);
    const v1 = await join(gateway, { protocol_max: 1 });
    expect((v2.helloOk['features'] as { extensions: string[] }).extensions).toContain('batch');
    expect((v1.helloOk['features'] as { extensions: string[] }).extensions).not.toContain('batch');
    expect((v1.helloOk['features'] as { extensions: string[] }).extensions).toContain('gap');
  });

  it('refuses to publish to a session it does not know', async () => {
    const gateway = await startGateway();
    await expect(gateway.publish('nope', { type: 'x' })).rejects.toMatchObject({ code: 'session_not_found' });
  });
});

describe('resume', () => {
  it('replays events after since, then caught_up at the head, then live', async () => {
    const gateway = await startGateway();
    const first = await join(gateway, { protocol_max: 1 });
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(gateway, sessionId, 5);
    first.client.close();

    const again = await join(gateway, { protocol_max: 1, session_id: sessionId, since: 2, epoch: first.helloOk['epoch'] });
    expect(again.helloOk).toMatchObject({ resumed: true, cursor: 5, oldest_cursor: 1, resync_required: false });
    expect(again.helloOk['gap']).toBeUndefined();
    expect(again.caughtUp).toMatchObject({ cursor: 5 });
    expect(seqs(again.client.frames, 'replay')).toEqual([3, 4, 5]);

    await gateway.publish(sessionId, { type: 'tick' });
    expect(await again.client.next('event')).toMatchObject({ seq: 6 });
  });

  it('signals resync_required and a gap when since fell out of the replay window', async () => {
    const gateway = await startGateway({ replayWindow: 3 });
    const first = await join(gateway);
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(gateway, sessionId, 10);

    const again = await join(gateway, { protocol_max: 1, session_id: sessionId, since: 2, epoch: first.helloOk['epoch'] });
    expect(again.helloOk).toMatchObject({ resumed: true, cursor: 10, oldest_cursor: 8, resync_required: true, gap: { expected: 3, received: 8 } });
    expect(seqs(again.client.frames, 'replay')).toEqual([8, 9, 10]);
  });

  it('treats a cursor beyond the head as another history', async () => {
    const gateway = await startGateway();
    const first = await join(gateway);
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(gateway, sessionId, 2);
    const again = await join(gateway, { session_id: sessionId, since: 99, protocol_max: 1 });
    expect(again.helloOk).toMatchObject({ resync_required: true, gap: { expected: 100, received: 1 } });
    expect(seqs(again.client.frames, 'replay')).toEqual([1, 2]);
  });

  it('never replays a cursor from another epoch as current', async () => {
    const gateway = await startGateway();
    const first = await join(gateway);
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(gateway, sessionId, 4);
    const again = await join(gateway, { session_id: sessionId, since: 2, epoch: 'e-some-other-history', protocol_max: 1 });
    expect(again.helloOk).toMatchObject({ resync_required: true, gap: { expected: 3, received: 1 }, epoch: first.helloOk['epoch'] });
    expect(seqs(again.client.frames, 'replay')).toEqual([1, 2, 3, 4]);
  });

  it('replays nothing when the client sends no since', async () => {
    const gateway = await startGateway();
    const first = await join(gateway);
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(gateway, sessionId, 3);
    const again = await join(gateway, { session_id: sessionId });
    expect(again.helloOk).toMatchObject({ resumed: true, cursor: 3, resync_required: false });
    expect(seqs(again.client.frames)).toEqual([]);
  });

  it('refuses to resume a session as another agent', async () => {
    const gateway = await startGateway();
    const first = await join(gateway, { agent_id: 'alice' });
    const client = await connect(gateway);
    client.send(helloFrame({ agent_id: 'mallory', session_id: first.helloOk['session_id'] }));
    expect(await client.next('hello_error')).toMatchObject({ code: 'auth_unauthorized', next_step: 'reauthenticate' });
    expect(await client.closed()).toMatchObject({ code: 4003 });
  });

  it('refuses to resume a session with other credentials, even for the same agent', async () => {
    const gateway = await startGateway({ verifyToken: (token) => token === 'alice-token' || token === 'mallory-token' });
    const first = await join(gateway, { token: 'alice-token' });
    const sessionId = first.helloOk['session_id'];
    const intruder = await connect(gateway);
    intruder.send(helloFrame({ token: 'mallory-token', session_id: sessionId, since: 0 }));
    const refusal = await intruder.next('hello_error');
    expect(refusal).toMatchObject({ code: 'auth_unauthorized', next_step: 'reauthenticate' });
    expect(JSON.stringify(refusal)).not.toContain('token');
    expect(await intruder.closed()).toMatchObject({ code: 4003 });
    // The owner still resumes.
    const again = await join(gateway, { token: 'alice-token', session_id: sessionId });
    expect(again.helloOk).toMatchObject({ resumed: true, session_id: sessionId });
  });

  it('never shows other people\'s session ids in presence', async () => {
    const gateway = await startGateway();
    const alice = await join(gateway);
    const bob = await join(gateway);
    // Anonymous clients see only their own session: a session id is a resume capability.
    expect(bob.helloOk['presence']).toEqual([{ session_id: bob.helloOk['session_id'], agent_id: 'demo', connections: 1 }]);
    // The operator API still sees everyone.
    expect(gateway.presence('demo').map((p) => p.session_id).sort()).toEqual([alice.helloOk['session_id'], bob.helloOk['session_id']].sort());
  });

  it('delivers every event exactly once when publishes race the handshake on an async log', async () => {
    // Every log call resolves on a later macrotask, like a shared store, so publishes really
    // do land between the handshake's reads unless the gateway serialises them.
    const gateway = await startGateway({ log: asyncLog(createMemoryLog({ replayWindow: 5000 })) });
    const first = await join(gateway);
    const sessionId = String(first.helloOk['session_id']);
    await publishMany(gateway, sessionId, 200);

    const client = await connect(gateway);
    client.send(helloFrame({ session_id: sessionId, since: 0, protocol_max: 1 }));
    let caughtUp = false;
    const caught = client.next('caught_up').then(() => {
      caughtUp = true;
    });
    let published = 200;
    while (!caughtUp && published < 1000) {
      await gateway.publish(sessionId, { type: 'tick' });
      published++;
    }
    await caught;
    await gateway.publish(sessionId, { type: 'tick' });
    published++;
    await client.until((frames) => seqs(frames).length >= published);
    const types = client.frames.filter((f) => f.type === 'replay' || f.type === 'event' || f.type === 'caught_up').map((f) => f.type);
    const caughtUpAt = types.indexOf('caught_up');
    expect(types.slice(0, caughtUpAt).every((t) => t === 'replay')).toBe(true);
    expect(types.slice(caughtUpAt + 1).every((t) => t === 'event')).toBe(true);
    expect(types.slice(caughtUpAt + 1).length).toBeGreaterThan(0);
    // caught_up and hello_ok name exactly the last replayed seq: no event sits between them.
    const replayed = seqs(client.frames, 'replay');
    expect(client.frames.find((f) => f.type === 'caught_up')?.['cursor']).toBe(replayed[replayed.length - 1]);
    expect(client.frames.find((f) => f.type === 'hello_ok')?.['cursor']).toBe(replayed[replayed.length - 1]);
    expect(seqs(client.frames)).toEqual(Array.from({ length: published }, (_, i) => i + 1));
  });
});

describe('messages', () => {
  it('acks a message, hands it to the app once, and acks a resend as a duplicate', async () => {
    const gateway = await startGateway();
    const received: unknown[] = [];
    gateway.onMessage((message, session) => {
      received.push(message.content);
      void gateway.publish(session.id, { type: 'reply', data: { echo: message.content } });
    });
    const { client } = await join(gateway);
    client.send({ type: 'message', id: 'm-1', content: 'hi' });
    // The ack says the handler ran, so what the handler published comes first.
    expect(await client.next('event')).toMatchObject({ event: { type: 'reply', data: { echo: 'hi' } } });
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'm-1' });
    client.send({ type: 'message', id: 'm-1', content: 'hi' });
    expect(await client.next('ack')).toEqual({ type: 'ack', id: 'm-1', duplicate: true });
    client.send({ type: 'message', content: 'no id' });
    await client.sync();
    expect(received).toEqual(['hi', 'no id']);
    expect(client.frames.filter((f) => f.type === 'ack')).toHaveLength(2);
  });

  it('dedupes a resend that arrives on a new connection to the same session', async () => {
    const gateway = await startGateway();
    let count = 0;
    gateway.onMessage(() => count++);
    const first = await join(gateway);
    first.client.send({ type: 'message', id: 'x', content: 1 });
    await first.client.next('ack');
    first.client.close();
    const again = await join(gateway, { session_id: first.helloOk['session_id'] });
    again.client.send({ type: 'message', id: 'x', content: 1 });
    expect(await again.client.next('ack')).toMatchObject({ duplicate: true });
    expect(count).toBe(1);
  });

  it('answers resync with the state set by the app as of its cursor', async () => {
    const gateway = await startGateway();
    const { client, helloOk } = await join(gateway);
    const sessionId = String(helloOk['session_id']);
    client.send({ type: 'resync' });
    expect(await client.next('snapshot')).toMatchObject({ state: null, cursor: 0, epoch: helloOk['epoch'] });
    await publishMany(gateway, sessionId, 3);
    await gateway.setState(sessionId, { turns: 3 });
    await publishMany(gateway, sessionId, 1);
    client.send({ type: 'resync' });
    expect(await client.next('snapshot')).toMatchObject({ state: { turns: 3 }, cursor: 3 });
  });

  it('answers ping with pong and closes 1000 on leave', async () => {
    const gateway = await startGateway();
    const { client } = await join(gateway);
    client.send({ type: 'ping', ts: 42 });
    expect(await client.next('pong')).toEqual({ type: 'pong', ts: 42 });
    client.send({ type: 'leave' });
    expect(await client.closed()).toMatchObject({ code: 1000 });
  });
});
