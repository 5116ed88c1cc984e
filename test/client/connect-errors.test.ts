// Errors say why: a failed attempt reports its cause (nothing listening, a plain HTTP server, TLS
// against a plain port) through onError and info.lastError; connect() gives up after its deadline
// or failure budget naming that cause; http(s) URLs work as ws(s); maxAttempts counts retries.
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { GatewayConnectError } from '../../src/client/index.js';
import { connectFailure } from '../../src/client/connect-failure.js';
import { startGateway } from '../support/gateway-kit.js';
import { waitFor, waitForState, within } from '../support/wait-for.js';
import { makeClient } from './kit.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A plain HTTP server answering 200 to everything (no WebSocket upgrade). */
async function plainHttp(): Promise<number> {
  const server = createServer((_req, res) => res.end('hello'));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address === 'string' || address === null) throw new Error('no port');
  return address.port;
}

/** A loopback port where nothing listens (a server bound it and closed). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address === 'string' || address === null) throw new Error('no port');
  return address.port;
}

function collectErrors(client: ReturnType<typeof makeClient>): GatewayConnectError[] {
  const errors: GatewayConnectError[] = [];
  client.onError((error) => errors.push(error));
  return errors;
}

describe('errors say why', () => {
  it('nothing listening: every failed attempt reports ECONNREFUSED, and connect() gives up after its deadline naming it', async () => {
    const port = await deadPort();
    const client = makeClient(`ws://127.0.0.1:${port}`);
    const errors = collectErrors(client);
    const outcome = await within(client.connect({ timeoutMs: 400 }).then(() => null, (e: unknown) => e), 2000, 'connect() to give up');
    expect(outcome).toBeInstanceOf(GatewayConnectError);
    expect(outcome).toMatchObject({ code: 'connect_timeout', nextStep: 'wait_then_retry', closeCode: 1006 });
    expect((outcome as Error).message).toContain('ECONNREFUSED');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]).toMatchObject({ code: 'connect_failed', nextStep: 'wait_then_retry', closeCode: 1006 });
    expect(errors[0]?.message).toContain('is the gateway running');
    expect((errors[0]?.cause as { code?: string }).code).toBe('ECONNREFUSED');
    expect(client.info.lastError).toMatchObject({ code: 'connect_failed' });
    expect(client.info.lastClose).toEqual({ code: 1006, reason: 'ECONNREFUSED' });
    // Giving up settles the promise only: the client keeps trying.
    expect(['connecting', 'reconnecting']).toContain(client.state);
  });

  it('never shows a token: the URL in a failure reads token=[redacted], from the option or the URL itself', async () => {
    const port = await deadPort();
    const fromOption = makeClient(`ws://127.0.0.1:${port}/ws`, { token: 'tok-from-option' });
    const fromUrl = makeClient(`ws://user:pw-in-url@127.0.0.1:${port}/ws?token=tok-in-url&x=1`);
    for (const client of [fromOption, fromUrl]) {
      const errors = collectErrors(client);
      const outcome = await within(client.connect({ maxFailures: 1 }).then(() => null, (e: unknown) => e as Error), 2000, 'connect() to give up');
      const said = [outcome?.message, ...errors.map((e) => e.message), client.info.lastClose?.reason].join('\n');
      expect(said).not.toMatch(/tok-from-option|tok-in-url|pw-in-url/);
    }
    const plainHttpPort = await plainHttp();
    const http = makeClient(`ws://127.0.0.1:${plainHttpPort}/ws`, { token: 'tok-from-option' });
    const errors = collectErrors(http);
    void http.connect({ timeoutMs: Infinity }).catch(() => undefined);
    await waitFor(() => errors.length > 0, 2000, 'the first failure');
    expect(errors[0]?.message).toContain(`ws://127.0.0.1:${plainHttpPort}/ws?token=[redacted] answered HTTP 200`);
  });

  it('connect({ maxFailures }) rejects after that many failed attempts', async () => {
    const port = await deadPort();
    const client = makeClient(`ws://127.0.0.1:${port}`);
    const errors = collectErrors(client);
    await expect(within(client.connect({ maxFailures: 2, timeoutMs: Infinity }), 3000, 'connect() to give up')).rejects.toMatchObject({ code: 'connect_timeout' });
    expect(errors.filter((e) => e.code === 'connect_failed')).toHaveLength(2);
  });

  it('rejects at start-up by default: connectTimeoutMs', async () => {
    const port = await deadPort();
    const client = makeClient(`ws://127.0.0.1:${port}`, { connectTimeoutMs: 300 });
    await expect(within(client.connect(), 2000, 'connect() to give up')).rejects.toMatchObject({ code: 'connect_timeout' });
  });

  it('a plain HTTP server: says it answered HTTP 200 instead of upgrading', async () => {
    const port = await plainHttp();
    const client = makeClient(`ws://127.0.0.1:${port}/`);
    const errors = collectErrors(client);
    void client.connect({ timeoutMs: Infinity }).catch(() => undefined);
    await waitFor(() => errors.length > 0, 2000, 'the first failure');
    expect(errors[0]).toMatchObject({ code: 'connect_failed' });
    expect(errors[0]?.message).toContain('HTTP 200 instead of upgrading');
    expect(client.info.lastClose?.reason).toBe('HTTP 200');
  });

  it('wss:// to a plain port: names the TLS failure', async () => {
    const port = await plainHttp();
    const client = makeClient(`wss://127.0.0.1:${port}/`);
    const errors = collectErrors(client);
    void client.connect({ timeoutMs: Infinity }).catch(() => undefined);
    await waitFor(() => errors.length > 0, 2000, 'the first failure');
    expect(errors[0]?.message).toMatch(/TLS handshake .* failed/);
  });

  it('a server that never answers: says the handshake timed out, after the first failed attempt', async () => {
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => silent.once('listening', resolve));
    const address = silent.address();
    if (typeof address === 'string' || address === null) throw new Error('no port');
    try {
      const client = makeClient(`ws://127.0.0.1:${address.port}`, { handshakeTimeoutMs: 150 });
      const errors = collectErrors(client);
      void client.connect({ timeoutMs: Infinity }).catch(() => undefined);
      await waitFor(() => errors.length > 0, 2000, 'the first failure');
      expect(errors[0]).toMatchObject({ code: 'connect_failed', closeCode: 4008 });
      expect(errors[0]?.message).toContain('No answer within handshakeTimeoutMs (150 ms)');
      await client.disconnect();
    } finally {
      for (const socket of silent.clients) socket.terminate();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("a gateway's own close 4008 'handshake_timeout' is a failed attempt, not the client's handshake timer running out", async () => {
    const refusing = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    refusing.on('connection', (socket) => socket.close(4008, 'handshake_timeout'));
    await new Promise((resolve) => refusing.once('listening', resolve));
    const address = refusing.address();
    if (typeof address === 'string' || address === null) throw new Error('no port');
    try {
      const client = makeClient(`ws://127.0.0.1:${address.port}`, { handshakeTimeoutMs: 5000, reconnect: { initialDelayMs: 5, maxDelayMs: 10 } });
      const errors = collectErrors(client);
      const outcome = await within(client.connect({ timeoutMs: Infinity, maxFailures: 2 }).then(() => null, (e: unknown) => e), 3000, 'connect() to give up');
      // Counted from the chart's failures: two closes, two failed attempts.
      expect(outcome).toMatchObject({ code: 'connect_timeout' });
      expect((outcome as Error).message).toContain('2 failed attempts');
      expect(client.info.lastClose).toEqual({ code: 4008, reason: 'handshake_timeout' });
      // The 5 s timer never ran out: nothing may say it did.
      expect(errors.map((e) => e.message).join('\n')).not.toContain('No answer within handshakeTimeoutMs');
      await client.disconnect();
    } finally {
      for (const socket of refusing.clients) socket.terminate();
      await new Promise((resolve) => refusing.close(resolve));
    }
  });

  it('maps http:// to ws://, as browsers do, and says which schemes it takes', async () => {
    const gw = await startGateway();
    const client = makeClient(gw.url.replace(/^ws:/, 'http:'));
    await client.connect();
    expect(client.state).toBe('joined');
    expect(() => makeClient('ftp://127.0.0.1:1')).toThrow(/ws:, wss:, http: or https:/);
  });

  it('maxAttempts: 3 gives up at the 4th failure in a row (the first attempt and 3 retries), and says so', async () => {
    const port = await deadPort();
    const client = makeClient(`ws://127.0.0.1:${port}`, { reconnect: { initialDelayMs: 5, maxDelayMs: 10, maxAttempts: 3 } });
    const errors = collectErrors(client);
    const outcome = await within(client.connect({ timeoutMs: Infinity }).then(() => null, (e: unknown) => e), 3000, 'the stop');
    expect(outcome).toMatchObject({ code: 'retries_exhausted' });
    expect((outcome as Error).message).toContain('4 failed attempts in a row (the first attempt and reconnect.maxAttempts = 3 retries)');
    expect(errors.filter((e) => e.code === 'connect_failed')).toHaveLength(4);
    await waitForState(client, 'disconnected', 1000);
  });
});

describe('connectFailure: causes this machine cannot produce on loopback', () => {
  const cause = (code: string, message: string) => ({ error: Object.assign(new Error(message), { code }), message });
  it.each([
    ['ENOTFOUND', 'getaddrinfo ENOTFOUND gateway.invalid', /does not resolve \(ENOTFOUND\)/],
    ['CERT_HAS_EXPIRED', 'certificate has expired', /TLS handshake .* \(CERT_HAS_EXPIRED/],
    ['EHOSTUNREACH', 'connect EHOSTUNREACH', /could not be reached \(EHOSTUNREACH\)/],
  ])('%s', (code, message, expected) => {
    const { error, short } = connectFailure(cause(code, message), 'wss://gateway.invalid/ws', 1006);
    expect(error.message).toMatch(expected);
    expect(short).toBe(code);
  });

  it('in a browser, says the cause is hidden and names the close code', () => {
    // What a browser hands to onerror: an Event with no error and no message.
    const { error, short } = connectFailure(new Event('error'), 'wss://gateway.example/ws', 1006);
    expect(short).toBe('cause hidden by the browser');
    expect(error.message).toContain('The browser does not tell the page why');
    expect(error.message).toContain('close 1006');
    expect(error).toMatchObject({ code: 'connect_failed', closeCode: 1006 });
  });
});
