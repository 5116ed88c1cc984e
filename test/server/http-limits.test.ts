// Every limit and typed refusal of the WebSocket path holds on the HTTP binding too: tokens in
// three places, origins and CORS (preflight included), the POST endpoint's statuses, the
// handshake timeout, per-address caps and rates (refused before any stream), the inbound bound
// and a slow consumer. Real gateway, real HTTP over 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest';
import { helloFrame, startGateway } from '../support/gateway-kit.js';
import { abortStreams, httpBase, httpRequest, openStream, postFrames } from '../support/sse-client.js';

afterEach(() => abortStreams());

const APP = 'http://app.example';

describe('HTTP binding: credentials', () => {
  it('takes the token from hello.token, an Authorization: Bearer header or ?token=, and refuses others typed', async () => {
    const gateway = await startGateway({ verifyToken: (token) => token === 'good' });
    const base = httpBase(gateway.url);
    const joined = [
      await openStream(base, { hello: helloFrame({ token: 'good' }) }),
      await openStream(base, { hello: helloFrame(), headers: { authorization: 'Bearer good' } }),
      await openStream(base, { hello: helloFrame(), path: '/?token=good' }),
    ];
    for (const stream of joined) expect(await stream.next('hello_ok')).toHaveProperty('session_id');

    const wrong = await openStream(base, { hello: helloFrame(), headers: { authorization: 'Bearer bad' } });
    expect(await wrong.next('hello_error')).toMatchObject({ code: 'auth_unauthorized', next_step: 'reauthenticate' });
    expect(await wrong.ended()).toEqual({ code: 4003, reason: 'auth_unauthorized' });
    const none = await openStream(base, { hello: helloFrame() });
    expect(await none.next('hello_error')).toMatchObject({ code: 'auth_required', message: expect.stringMatching(/Authorization: Bearer/) });
    expect(await none.ended()).toEqual({ code: 4003, reason: 'auth_required' });
  });

  it('refuses a POST whose token is not the stream\'s; the connection id alone is enough', async () => {
    const gateway = await startGateway({ verifyToken: (token) => token === 'good' || token === 'other' });
    const stream = await openStream(httpBase(gateway.url), { hello: helloFrame(), headers: { authorization: 'Bearer good' } });
    await stream.next('caught_up');
    const other = await stream.post([{ type: 'ping', ts: 1 }], { headers: { authorization: 'Bearer other' } });
    expect(other.status).toBe(403);
    expect(other.json).toMatchObject({ type: 'error', code: 'auth_unauthorized' });
    expect((await stream.post([{ type: 'ping', ts: 2 }], { headers: { authorization: 'Bearer good' } })).status).toBe(204);
    expect((await stream.post([{ type: 'ping', ts: 3 }])).status).toBe(204);
    expect(await stream.next('pong')).toMatchObject({ ts: 2 });
    expect(await stream.next('pong')).toMatchObject({ ts: 3 });
  });
});

describe('HTTP binding: origins and CORS', () => {
  it('answers a preflight from an allowed origin, and serves its stream and POSTs with CORS headers', async () => {
    const gateway = await startGateway({ allowedOrigins: [APP] });
    const base = httpBase(gateway.url);
    const preflight = await httpRequest(`${base}/?connection=x`, {
      method: 'OPTIONS',
      headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'Authorization, Content-Type, Last-Event-ID',
      'access-control-max-age': '600',
      vary: 'Origin',
    });
    const stream = await openStream(base, { hello: helloFrame(), headers: { origin: APP } });
    expect(stream.status).toBe(200);
    expect(stream.headers).toMatchObject({ 'access-control-allow-origin': APP, 'access-control-expose-headers': 'Lifeline-Connection', vary: 'Origin' });
    await stream.next('caught_up');
    const posted = await stream.post([{ type: 'ping', ts: 1 }], { headers: { origin: APP } });
    expect(posted.status).toBe(204);
    expect(posted.headers['access-control-allow-origin']).toBe(APP);
    await stream.next('pong');
  });

  it('refuses another origin with 403 and no CORS headers: preflight, stream and POST', async () => {
    const gateway = await startGateway({ allowedOrigins: [APP] });
    const base = httpBase(gateway.url);
    const evil = 'http://evil.example';
    const preflight = await httpRequest(`${base}/`, { method: 'OPTIONS', headers: { origin: evil, 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const refused = await openStream(base, { hello: helloFrame(), headers: { origin: evil } });
    expect(refused.status).toBe(403);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    await refused.ended();
    expect(JSON.parse(refused.raw)).toMatchObject({ type: 'hello_error', code: 'origin_not_allowed', next_step: 'do_not_retry' });
    expect(gateway.stats().counters.refused).toMatchObject({ origin_not_allowed: 1 });

    const stream = await openStream(base, { hello: helloFrame(), headers: { origin: APP } });
    await stream.next('caught_up');
    const post = await stream.post([{ type: 'ping' }], { headers: { origin: evil } });
    expect(post.status).toBe(403);
    expect(post.headers['access-control-allow-origin']).toBeUndefined();
    expect(post.json).toMatchObject({ code: 'origin_not_allowed' });
  });
});

describe('HTTP binding: the POST endpoint', () => {
  it('answers 404 unknown_connection, 413 for a line over max_payload (naming the message), 400 for a body that is not frames; nothing of a refused POST is handled', async () => {
    const gateway = await startGateway({ maxPayload: 256 });
    const stream = await openStream(httpBase(gateway.url), { hello: helloFrame() });
    await stream.next('caught_up');
    const unknown = await stream.post([{ type: 'ping' }], { connection: `${stream.connectionId ?? ''}x` });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ type: 'error', code: 'unknown_connection', next_step: 'wait_then_retry' });

    const big = await stream.post([{ type: 'ping', ts: 1 }, { type: 'message', id: 'big', content: 'x'.repeat(300) }]);
    expect(big.status).toBe(413);
    expect(big.json).toMatchObject({ type: 'error', code: 'payload_too_large', id: 'big', next_step: 'do_not_retry' });
    const garbage = await stream.post([{ type: 'ping', ts: 2 }, 'not json']);
    expect(garbage.status).toBe(400);
    expect(garbage.json).toMatchObject({ type: 'error', code: 'bad_frame', message: expect.stringMatching(/Line 2/) });
    const unknownType = await stream.post([{ type: 'teleport' }]);
    expect(unknownType.status).toBe(400);
    // A body past max_payload x 64 is refused whole, without being read to its end.
    const huge = await stream.post(Array.from({ length: 80 }, (_, i) => ({ type: 'ping', ts: i, pad: 'x'.repeat(200) })));
    expect(huge.status).toBe(413);
    expect(huge.json).toMatchObject({ code: 'payload_too_large', message: expect.stringMatching(/x 64 frames/) });

    expect((await stream.post([{ type: 'ping', ts: 3 }])).status).toBe(204);
    expect(await stream.next('pong')).toMatchObject({ ts: 3 });
    expect(stream.frames.filter((f) => f.type === 'pong')).toEqual([{ type: 'pong', ts: 3 }]);
  });

  it('answers 429 while the connection does not read (its inbound queue is full), and takes the frames again later', async () => {
    let release: () => void = () => undefined;
    const verdict = new Promise<boolean>((resolve) => (release = () => resolve(true)));
    const gateway = await startGateway({ verifyToken: () => verdict, maxInboundQueueBytes: 1000 });
    const stream = await openStream(httpBase(gateway.url), { hello: helloFrame({ token: 't' }) });
    // The hello waits on the verifier; what comes meanwhile queues behind it, past the bound.
    const pad = 'x'.repeat(600);
    expect((await stream.post([{ type: 'ping', ts: 1, pad }])).status).toBe(204);
    const refused = await stream.post([{ type: 'ping', ts: 2, pad }]);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json).toMatchObject({ code: 'rate_limited', retry_after_seconds: 1 });
    expect(gateway.stats().counters.inboundPauses).toBe(1);
    release();
    await stream.next('hello_ok');
    expect(await stream.next('pong')).toMatchObject({ ts: 1 });
    expect((await stream.post([{ type: 'ping', ts: 2 }])).status).toBe(204);
    expect(await stream.next('pong')).toMatchObject({ ts: 2 });
  });
});

describe('HTTP binding: the handshake and per-address limits', () => {
  it('times out a stream whose hello never comes, and takes a hello POSTed in time', async () => {
    const gateway = await startGateway({ handshakeTimeoutMs: 150 });
    const base = httpBase(gateway.url);
    const late = await openStream(base);
    expect(late.status).toBe(200);
    expect(await late.next('hello_error')).toMatchObject({ code: 'handshake_timeout' });
    expect(await late.ended()).toEqual({ code: 4008, reason: 'handshake_timeout' });

    const posted = await openStream(base);
    expect((await posted.post([helloFrame()])).status).toBe(204);
    expect(await posted.next('hello_ok')).toHaveProperty('session_id');
  });

  it('refuses a bad hello in the stream at once: hello_error bad_frame and close 4000', async () => {
    const gateway = await startGateway();
    const base = httpBase(gateway.url);
    const notJson = await openStream(base, { hello: 'hello?' });
    expect(await notJson.next('hello_error')).toMatchObject({ code: 'bad_frame' });
    expect(await notJson.ended()).toEqual({ code: 4000, reason: 'bad_frame' });
    const wrongTypes = await openStream(base, { hello: helloFrame({ protocol_min: '1' }) });
    expect(await wrongTypes.next('hello_error')).toMatchObject({ code: 'bad_frame' });
  });

  it('refuses the per-address connection rate and cap before any stream: 429, Retry-After and the hello_error as JSON', async () => {
    const gateway = await startGateway({ rateLimit: { connections: 1, perMs: 60_000 } });
    const base = httpBase(gateway.url);
    const first = await openStream(base, { hello: helloFrame() });
    await first.next('hello_ok');
    const second = await openStream(base, { hello: helloFrame() });
    expect(second.status).toBe(429);
    expect(Number(second.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    await second.ended();
    expect(JSON.parse(second.raw)).toMatchObject({ type: 'hello_error', code: 'rate_limited', next_step: 'wait_then_retry' });

    const capped = await startGateway({ maxConnectionsPerAddress: 1 });
    const held = await openStream(httpBase(capped.url), { hello: helloFrame() });
    await held.next('hello_ok');
    const over = await openStream(httpBase(capped.url), { hello: helloFrame() });
    expect(over.status).toBe(429);
    expect(over.headers['retry-after']).toBe('10');
  });

  it('evicts a stream whose reader stalls with 4013, and its close event follows what was buffered', async () => {
    const gateway = await startGateway({ maxBufferedBytes: 64 * 1024 });
    const stream = await openStream(httpBase(gateway.url), { hello: helloFrame({ protocol_max: 1 }) });
    const helloOk = await stream.next('hello_ok');
    await stream.next('caught_up');
    stream.response.pause();
    const chunk = 'x'.repeat(16 * 1024);
    // Kernel buffers absorb the first few megabytes; keep publishing until the gateway gives up.
    for (let i = 0; i < 8000 && gateway.stats().counters.slowConsumers === 0; i++) {
      await gateway.publish(String(helloOk['session_id']), { type: 'bulk', data: chunk });
    }
    expect(gateway.stats().counters.slowConsumers).toBe(1);
    stream.response.resume();
    expect(await stream.ended(5000)).toEqual({ code: 4013, reason: 'slow_consumer' });
  });
});

describe('HTTP binding: POSTs without a stream', () => {
  it('needs a connection id', async () => {
    const gateway = await startGateway();
    const answer = await postFrames(httpBase(gateway.url), '', [{ type: 'ping' }]);
    expect(answer.status).toBe(404);
    expect(answer.json).toMatchObject({ code: 'unknown_connection' });
  });
});
