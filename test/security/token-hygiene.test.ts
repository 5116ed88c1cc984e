// Tokens never reach a log line or an error message: every path a token can take (hello.token,
// ?token=, legacy join, right and wrong, inside broken frames, after a restart) runs with pino at
// trace level into a captured stream, and every line and every frame sent back is searched for it.
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createGatewayClient } from '../../src/client/index.js';
import { connect, helloFrame, join, startGateway } from '../support/gateway-kit.js';
import type { RawClient } from '../support/raw-client.js';
import { abortStreams, httpBase, openStream } from '../support/sse-client.js';

const GOOD = 'tok-GOOD-c0ffee-4242';
const BAD = 'tok-BAD-deadbeef-1717';
const verifyToken = (token: string | undefined): boolean => token === GOOD;

function capture(): { lines: string[]; logger: pino.Logger } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: pino({ level: 'trace' }, sink) };
}

/** The token itself, its URL-encoded form, and the hash sessions keep of it. */
function forms(token: string): string[] {
  return [token, encodeURIComponent(token), createHash('sha256').update(token).digest('base64url'), createHash('sha256').update(token).digest('hex')];
}

function expectClean(texts: readonly string[]): void {
  const all = texts.join('\n');
  for (const token of [GOOD, BAD]) for (const form of forms(token)) expect(all, `leaked ${form}`).not.toContain(form);
}

describe('token hygiene', () => {
  it('no token (nor its hash) in any log line or any frame sent back, on every path', async () => {
    const { lines, logger } = capture();
    const gateway = await startGateway({ verifyToken, logger, maxPayload: 1024 });
    const raws: RawClient[] = [];
    // Right token, both ways, then a resume.
    const a = await join(gateway, { token: GOOD });
    raws.push(a.client);
    raws.push((await join(`${gateway.url}/ws?token=${GOOD}`)).client);
    raws.push((await join(gateway, { token: GOOD, session_id: a.helloOk['session_id'], since: 0 })).client);
    // Wrong token, both ways, and a legacy join.
    for (const open of [
      async () => {
        const c = await connect(gateway);
        c.send(helloFrame({ token: BAD }));
        return c;
      },
      async () => {
        const c = await connect(`${gateway.url}/ws?token=${BAD}`);
        c.send(helloFrame());
        return c;
      },
      async () => {
        const c = await connect(gateway);
        c.send({ type: 'join', agent_id: 'demo', token: BAD });
        return c;
      },
      // A broken hello that carries a token, and an oversized one.
      async () => {
        const c = await connect(gateway);
        c.send(helloFrame({ token: BAD, since: -3 }));
        return c;
      },
      async () => {
        const c = await connect(gateway);
        c.send(helloFrame({ token: BAD, pad: 'x'.repeat(1500) }));
        return c;
      },
    ]) {
      const c = await open();
      await c.closed();
      raws.push(c);
    }
    // After joining: a second hello and a bad frame, both carrying the token.
    a.client.send(helloFrame({ token: GOOD }));
    a.client.send({ type: 'hello', agent_id: 7, token: GOOD });
    await a.client.sync();
    // The real client with the wrong token.
    const client = createGatewayClient({ url: gateway.url, agentId: 'demo', token: BAD, reconnect: false });
    const error = await client.connect().catch((e: unknown) => e);
    await client.disconnect();

    expect(lines.length).toBeGreaterThan(10);
    expect(lines.join('')).toContain('handshake refused');
    expectClean(lines);
    expectClean(raws.flatMap((r) => r.frames.map((f) => JSON.stringify(f))));
    expectClean([String(error), JSON.stringify(error)]);
  });

  // Regression: a verifier that throws is logged with its own message, and one that quotes the
  // token it rejected (a common habit) once wrote the token to the log. It is scrubbed now.
  it('keeps the token out of the log even when the verifier throws with it in the message', async () => {
    const { lines, logger } = capture();
    const gateway = await startGateway({
      logger,
      verifyToken: (token) => {
        throw new Error(`identity provider rejected ${String(token)}`);
      },
    });
    const c = await connect(gateway);
    c.send(helloFrame({ token: BAD }));
    expect(await c.next('hello_error')).toMatchObject({ code: 'internal_error' });
    expect(lines.join('')).toContain('token verifier threw');
    expectClean(lines);
  });

  it('keeps the token out of the log on the HTTP binding: in ?hello=, a Bearer header, ?token= and a POST', async () => {
    const { lines, logger } = capture();
    const gateway = await startGateway({ verifyToken, logger });
    const base = httpBase(gateway.url);
    try {
      const joined = await openStream(base, { hello: helloFrame({ token: GOOD }) });
      const helloOk = await joined.next('hello_ok');
      const bearer = await openStream(base, { hello: helloFrame(), headers: { authorization: `Bearer ${BAD}` } });
      await bearer.ended();
      const plain = await openStream(base, { path: `/sessions/${String(helloOk['session_id'])}/events?agent=demo&token=${GOOD}` });
      await plain.next('caught_up');
      const broken = await openStream(base, { hello: helloFrame({ token: BAD, since: -3 }) });
      await broken.ended();
      const refused = await joined.post([{ type: 'ping' }], { headers: { authorization: `Bearer ${BAD}` } });
      expect(refused.status).toBe(403);
      expect(lines.join('')).toContain('handshake refused');
      expectClean(lines);
      expectClean([joined.raw, bearer.raw, plain.raw, broken.raw, refused.body]);
    } finally {
      abortStreams();
    }
  });
});
