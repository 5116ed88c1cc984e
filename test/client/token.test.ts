// Auth that lasts: a token function is called before every attempt, an auth refusal gets exactly
// one prompt retry with a fresh token, and a failing token function is a typed, retried failure.
// The token reaches a PraisonAI gateway (which reads only `?token=` on its `/ws` path), and an
// `auth_required` says where the token was sent, never the token itself.
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { GatewayConnectError } from '../../src/client/index.js';
import { startFakePraisonAI } from '../conformance/praisonai-fake.js';
import { startGateway } from '../support/gateway-kit.js';
import { waitFor, waitForState } from '../support/wait-for.js';
import { makeClient, proxyFor } from './kit.js';

describe('token functions', () => {
  it('calls the token function before each attempt, so a reconnect presents a fresh token', async () => {
    const seen: Array<string | undefined> = [];
    // The verifier names the subject, so a refreshed token resumes the same session.
    const gw = await startGateway({ verifyToken: (token) => (seen.push(token), token === undefined ? false : { subject: 'user-1' }) });
    const proxy = await proxyFor(gw);
    let n = 0;
    const client = makeClient(proxy.url, { token: async () => `tok-${++n}` });
    await client.connect();
    proxy.drop();
    const session = client.info.sessionId;
    await waitFor(() => seen.length === 2 && client.state === 'joined', 3000, 'a rejoin');
    expect(seen).toEqual(['tok-1', 'tok-2']);
    expect(client.info.sessionId).toBe(session);
    expect(client.info.resume?.mode).toBe('full');
  });

  it('answers an auth refusal with one prompt retry and a fresh token, without counting a failure', async () => {
    const valid = new Set(['fresh']);
    const gw = await startGateway({ verifyToken: (token) => token !== undefined && valid.has(token) });
    const tokens = ['expired', 'fresh'];
    const client = makeClient(gw.url, { token: () => tokens.shift() ?? 'none' });
    const states: string[] = [];
    client.onState((s) => states.push(s));
    await client.connect();
    expect(states).toEqual(['connecting', 'negotiating', 'reconnecting', 'connecting', 'negotiating', 'joined']);
    expect(client.info.attempt).toBe(0);
    expect(client.info.lastClose?.code).toBe(4003);
  });

  it('stops after the refreshed token is refused too', async () => {
    let calls = 0;
    const gw = await startGateway({ verifyToken: () => false });
    const client = makeClient(gw.url, { token: () => `bad-${++calls}` });
    await expect(client.connect()).rejects.toMatchObject({ code: 'auth_unauthorized', nextStep: 'reauthenticate' });
    expect(calls).toBe(2);
    expect(client.state).toBe('disconnected');
  });

  it('reports a failing token function as token_unavailable and tries again after a backoff', async () => {
    const gw = await startGateway();
    let calls = 0;
    const client = makeClient(gw.url, {
      token: () => {
        calls++;
        if (calls === 1) throw new Error('auth server down');
        return calls === 2 ? Promise.reject(new Error('still down')) : Promise.resolve('ok');
      },
    });
    const errors: GatewayConnectError[] = [];
    client.onError((e) => errors.push(e));
    await client.connect();
    expect(calls).toBe(3);
    expect(errors.map((e) => [e.code, (e.cause as Error).message])).toEqual([
      ['token_unavailable', 'auth server down'],
      ['token_unavailable', 'still down'],
    ]);
    await waitForState(client, 'joined', 100);
  });

  it("binds sessions to the verifier's subject: another token of the same subject resumes, another subject's does not", async () => {
    const subjects: Record<string, string> = { a1: 'alice', a2: 'alice', b1: 'bob' };
    const gw = await startGateway({ verifyToken: (token) => (token !== undefined && token in subjects ? { subject: subjects[token] ?? '' } : false) });
    const first = makeClient(gw.url, { token: 'a1' });
    await first.connect();
    const sessionId = first.info.sessionId ?? '';
    await first.disconnect();
    const same = makeClient(gw.url, { token: 'a2', sessionId });
    await same.connect();
    expect(same.info.sessionId).toBe(sessionId);
    const other = makeClient(gw.url, { token: 'b1', sessionId });
    await expect(other.connect()).rejects.toMatchObject({ code: 'auth_unauthorized' });
  });
});

describe('the token option against a gateway that reads only ?token= (PraisonAI)', () => {
  it('joins a PraisonAI gateway at /ws with the token option, and it works from a token function too', async () => {
    const praison = await startFakePraisonAI({ token: 'peer-token', heartbeatMs: 30_000 });
    try {
      const fixed = makeClient(praison.url, { agentId: 'echo', token: 'peer-token' });
      await fixed.connect();
      expect(fixed.info.url, 'info.url is the URL given, without the token').toBe(praison.url);
      await fixed.send('hello');
      const refreshed = makeClient(praison.url, { agentId: 'echo', token: async () => 'peer-token' });
      await refreshed.connect();
    } finally {
      await praison.close();
    }
  });

  it('a refused token: auth_required says it went in hello.token and ?token=, and never shows it', async () => {
    const praison = await startFakePraisonAI({ token: 'peer-token', heartbeatMs: 30_000 });
    try {
      const client = makeClient(praison.url, { agentId: 'echo', token: 'wrong-token-123' });
      const errors: GatewayConnectError[] = [];
      client.onError((e) => errors.push(e));
      const refusal = await client.connect().then(() => null, (e: unknown) => e as GatewayConnectError);
      expect(refusal).toMatchObject({ code: 'auth_required', nextStep: 'reauthenticate' });
      expect(refusal?.message).toContain('sent a token in hello.token and as ?token= on the URL');
      expect(JSON.stringify(errors.map((e) => e.message))).not.toContain('wrong-token-123');
    } finally {
      await praison.close();
    }
  });

  it('a gateway off /ws that reads only ?token=: the token stays out of the URL, and auth_required says how to send it there', async () => {
    const seen: string[] = [];
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    server.on('connection', (ws, request) => {
      seen.push(request.url ?? '');
      ws.send(JSON.stringify({ type: 'hello_error', code: 'auth_required', message: 'Authentication required', next_step: 'reauthenticate' }));
      ws.close(4003, 'Authentication required');
    });
    try {
      const client = makeClient(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/agents`, { token: 'tok' });
      const refusal = await client.connect().then(() => null, (e: unknown) => e as GatewayConnectError);
      expect(seen).toEqual(['/agents']);
      expect(refusal).toMatchObject({ code: 'auth_required' });
      expect(refusal?.message).toMatch(/^Authentication required This client sent the token in hello.token only .* connect to its \/ws path, or add \?token= to the URL\.$/);
      const bare = makeClient(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`);
      await expect(bare.connect()).rejects.toThrow(/This client sent no token: pass the token option/);
    } finally {
      for (const ws of server.clients) ws.terminate();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
