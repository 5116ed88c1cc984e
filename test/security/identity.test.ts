// Who may join what: wrong tokens, bad origins and stalled handshakes get their typed refusal and
// close code; session ids are unguessable; a session cannot be taken over by another agent, by a
// guessed id, or (with a token verifier) by another user's token.
import { connect as tcpConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createGatewayClient, GatewayConnectError, type GatewayClient } from '../../src/client/index.js';
import { connect, helloFrame, join, publishMany, startGateway } from '../support/gateway-kit.js';

const clients: GatewayClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
});

const TOKENS: Readonly<Record<string, string>> = { 'tok-alice-7f3a9c': 'alice', 'tok-bob-51e2d0': 'bob' };
const verifyToken = (token: string | undefined): boolean => token !== undefined && token in TOKENS;

describe('refusals', () => {
  it('a wrong token stops the real client at once: typed error, 4003, no retry, token not echoed', async () => {
    const gateway = await startGateway({ verifyToken });
    const secret = 'tok-mallory-guess-123';
    const client = createGatewayClient({ url: gateway.url, agentId: 'demo', token: secret, reconnect: { initialDelayMs: 5, maxDelayMs: 10 } });
    clients.push(client);
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GatewayConnectError);
    expect(error).toMatchObject({ code: 'auth_unauthorized', nextStep: 'reauthenticate' });
    expect(client.state).toBe('disconnected');
    expect(client.info.lastClose?.code).toBe(4003);
    expect(gateway.stats().counters.accepted).toBe(1);
    expect(JSON.stringify({ error, message: (error as Error).message, info: client.info })).not.toContain(secret);
  });

  it('a bad Origin gets origin_not_allowed and 4005 before it can say anything', async () => {
    const gateway = await startGateway({ allowedOrigins: ['https://app.example'] });
    const client = await connect(gateway, { origin: 'https://evil.example' });
    expect(await client.next('hello_error')).toMatchObject({ code: 'origin_not_allowed', next_step: 'do_not_retry' });
    expect(await client.closed()).toMatchObject({ code: 4005 });
  });

  it('a WebSocket that never says hello gets handshake_timeout and 4008 on time', async () => {
    const gateway = await startGateway({ handshakeTimeoutMs: 150 });
    const started = Date.now();
    const client = await connect(gateway);
    expect(await client.next('hello_error', 2000)).toMatchObject({ code: 'handshake_timeout', next_step: 'wait_then_retry' });
    expect(await client.closed()).toMatchObject({ code: 4008 });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  // Regression: handshakeTimeoutMs once started only after the WebSocket upgrade, so half an HTTP
  // upgrade held its socket until Node's 60 s headersTimeout (slowloris). The upgrade is now
  // bounded by the same budget.
  it('an HTTP upgrade that never finishes is cut off within the handshake budget', async () => {
    const gateway = await startGateway({ handshakeTimeoutMs: 150 });
    const socket = tcpConnect({ host: '127.0.0.1', port: gateway.port });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
    // Read, so the server's FIN is seen and 'close' fires (a paused socket never sees the end).
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    const closed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 1500);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    socket.destroy();
    expect(closed).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });
});

describe('sessions', () => {
  it('session ids are crypto-random UUIDs: unique, version 4, every random digit varies', async () => {
    const gateway = await startGateway({ rateLimit: false });
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const { client, helloOk } = await join(gateway);
      ids.push(String(helloOk['session_id']));
      client.close();
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // A counter or a clock would leave leading digits fixed; 60 random draws leave none fixed.
    const hex = ids.map((id) => id.replace(/-/g, ''));
    for (let pos = 0; pos < 32; pos++) {
      if (pos === 12 || pos === 16) continue; // version and variant nibbles
      expect(new Set(hex.map((h) => h[pos])).size, `digit ${pos}`).toBeGreaterThanOrEqual(6);
    }
  });

  it("refuses to resume another agent's session, and leaks none of its events", async () => {
    const gateway = await startGateway();
    const owner = await join(gateway, { agent_id: 'agent-a' });
    const sessionId = String(owner.helloOk['session_id']);
    await publishMany(gateway, sessionId, 3);
    const thief = await connect(gateway);
    thief.send(helloFrame({ agent_id: 'agent-b', session_id: sessionId, since: 0 }));
    expect(await thief.next('hello_error')).toMatchObject({ code: 'auth_unauthorized', next_step: 'reauthenticate' });
    expect(await thief.closed()).toMatchObject({ code: 4003 });
    expect(thief.frames.map((f) => f.type)).toEqual(['hello_error']);
  });

  it('a guessed session id opens an empty session of its own, never someone else’s history', async () => {
    const gateway = await startGateway();
    const owner = await join(gateway);
    await publishMany(gateway, String(owner.helloOk['session_id']), 3);
    const guesser = await join(gateway, { session_id: '00000000-0000-4000-8000-000000000000', since: 0 });
    expect(guesser.helloOk).toMatchObject({ resumed: false, cursor: 0 });
    expect(guesser.helloOk['epoch']).not.toBe(owner.helloOk['epoch']);
    await guesser.client.sync();
    expect(guesser.client.frames.filter((f) => f.type === 'replay' || f.type === 'event' || f.type === 'batch')).toEqual([]);
  });

  it('a session-aware verifier can bind a session to the user who opened it', async () => {
    const owners = new Map<string, string>();
    const gateway = await startGateway({
      verifyToken: (token, ctx) => {
        const user = token === undefined ? undefined : TOKENS[token];
        if (user === undefined) return false;
        if (ctx.sessionId === undefined) return true;
        const owner = owners.get(ctx.sessionId);
        return owner === undefined || owner === user;
      },
    });
    const alice = await join(gateway, { token: 'tok-alice-7f3a9c' });
    const sessionId = String(alice.helloOk['session_id']);
    owners.set(sessionId, 'alice');
    const bob = await connect(gateway);
    bob.send(helloFrame({ token: 'tok-bob-51e2d0', session_id: sessionId, since: 0 }));
    expect(await bob.next('hello_error')).toMatchObject({ code: 'auth_unauthorized' });
    expect(await bob.closed()).toMatchObject({ code: 4003 });
  });

  // Sessions remember a hash of the credentials that opened them (ownerOf in handshake.ts).
  it('refuses to resume a session with another user’s (valid) token, and leaks none of it', async () => {
    const gateway = await startGateway({ verifyToken });
    const alice = await join(gateway, { token: 'tok-alice-7f3a9c' });
    const sessionId = String(alice.helloOk['session_id']);
    await publishMany(gateway, sessionId, 2);
    const bob = await connect(gateway);
    bob.send(helloFrame({ token: 'tok-bob-51e2d0', session_id: sessionId, since: 0 }));
    expect(await bob.next('hello_error')).toMatchObject({ code: 'auth_unauthorized' });
    expect(await bob.closed()).toMatchObject({ code: 4003 });
    expect(bob.frames.map((f) => f.type)).toEqual(['hello_error']);
    // The rightful owner still resumes.
    const back = await join(gateway, { token: 'tok-alice-7f3a9c', session_id: sessionId, since: 0 });
    expect(back.helloOk).toMatchObject({ resumed: true, cursor: 2 });
  });
});
