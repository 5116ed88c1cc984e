// Every limit gets a typed refusal and the matching close code.
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decodeServerFrame, MAX_SEQ, MAX_SERVER_FRAME_BYTES, MAX_SERVER_FRAME_DEPTH } from '../../src/protocol/index.js';
import { connect, helloFrame, join, startGateway } from '../support/gateway-kit.js';
import { waitFor } from '../support/wait-for.js';

describe('handshake limits', () => {
  it('times out a socket that never says hello', async () => {
    const gateway = await startGateway({ handshakeTimeoutMs: 100 });
    const client = await connect(gateway);
    expect(await client.next('hello_error')).toMatchObject({ code: 'handshake_timeout', next_step: 'wait_then_retry', message: 'No hello within 100 ms (handshakeTimeoutMs).' });
    expect(await client.closed()).toMatchObject({ code: 4008 });
  });

  it('bounds a token check that never answers by the handshake budget, and says that the hello came', async () => {
    let checks = 0;
    const gateway = await startGateway({
      handshakeTimeoutMs: 200,
      verifyToken: () => {
        checks++;
        return new Promise<boolean>(() => undefined);
      },
    });
    const client = await connect(gateway);
    client.send(helloFrame({ token: 't' }));
    const refusal = await client.next('hello_error', 3000);
    expect(refusal).toMatchObject({ code: 'handshake_timeout', next_step: 'wait_then_retry' });
    expect(String(refusal['message'])).toContain('could not check the token and join the session within 200 ms');
    expect(await client.closed()).toMatchObject({ code: 4008 });
    expect(checks).toBe(1);
    // The socket is let go although the check never settles.
    await waitFor(() => gateway.stats().connections === 0, 2000, 'the connection to be let go');
  });

  it('refuses an unknown agent when agents are configured', async () => {
    const gateway = await startGateway({ agents: ['demo'] });
    const client = await connect(gateway);
    client.send(helloFrame({ agent_id: 'ghost' }));
    expect(await client.next('hello_error')).toMatchObject({ code: 'agent_not_found', next_step: 'do_not_retry' });
    expect(await client.closed()).toMatchObject({ code: 4004 });
  });

  it('limits connections per address and says when to come back', async () => {
    const gateway = await startGateway({ rateLimit: { connections: 2, perMs: 60_000 } });
    await join(gateway);
    await join(gateway);
    const third = await connect(gateway);
    const refusal = await third.next('hello_error');
    expect(refusal).toMatchObject({ code: 'rate_limited', next_step: 'wait_then_retry' });
    expect(refusal['retry_after_seconds']).toBeGreaterThanOrEqual(59);
    expect(await third.closed()).toMatchObject({ code: 4029 });
  });

  it('caps the sockets one address holds open at once, and lets one in again when another closes', async () => {
    const gateway = await startGateway({ maxConnectionsPerAddress: 2 });
    const first = await join(gateway);
    await connect(gateway);
    const third = await connect(gateway);
    const refusal = await third.next('hello_error');
    expect(refusal).toMatchObject({ code: 'rate_limited', next_step: 'wait_then_retry', retry_after_seconds: 10 });
    expect(String(refusal['message'])).toMatch(/at most 2/);
    expect(await third.closed()).toMatchObject({ code: 4029 });
    first.client.close();
    await waitFor(() => gateway.stats().connections === 1, 2000, 'the closed sockets to go');
    await join(gateway);
  });

  it('refuses an Origin outside the allow-list, and lets listed and non-browser clients in', async () => {
    const gateway = await startGateway({ allowedOrigins: ['https://app.example'] });
    const evil = await connect(gateway, { origin: 'https://evil.example' });
    expect(await evil.next('hello_error')).toMatchObject({ code: 'origin_not_allowed', next_step: 'do_not_retry' });
    expect(await evil.closed()).toMatchObject({ code: 4005 });
    await expect(join(gateway, {}, { origin: 'https://app.example' })).resolves.toBeDefined();
    await expect(join(gateway)).resolves.toBeDefined();
  });
});

describe('oversized messages', () => {
  it('names the refused message by id, and applies the messages sent after it', async () => {
    const gateway = await startGateway({ maxPayload: 1024 });
    const applied: unknown[] = [];
    gateway.onMessage((message) => applied.push(message.content));
    const { client } = await join(gateway);
    client.send({ type: 'message', id: 'big-1', content: 'x'.repeat(1500) });
    client.send({ type: 'message', id: 'small-1', content: 'after' });
    expect(await client.next('error')).toMatchObject({ code: 'payload_too_large', id: 'big-1', next_step: 'do_not_retry' });
    expect(await client.next('ack')).toMatchObject({ id: 'small-1' });
    expect(applied).toEqual(['after']);
    // Multi-byte text is measured in UTF-8 bytes: 600 × "é" is 1,200 bytes in 600 characters.
    client.send({ type: 'message', id: 'wide-1', content: 'é'.repeat(600) });
    expect(await client.next('error')).toMatchObject({ code: 'payload_too_large', id: 'wide-1' });
    // No id to name when the oversized frame is not a message with a valid id.
    client.send({ type: 'message', content: 'y'.repeat(1500) });
    const anonymous = await client.next('error');
    expect(anonymous).toMatchObject({ code: 'payload_too_large' });
    expect(anonymous).not.toHaveProperty('id');
  });
});

describe('seq and cursor range', () => {
  it('refuses a since beyond 2^53 - 2 with a typed error, and its gap for the largest since still decodes', async () => {
    const gateway = await startGateway();
    const beyond = await connect(gateway);
    beyond.send(helloFrame({ since: MAX_SEQ + 1 }));
    const refusal = await beyond.next('hello_error');
    expect(refusal).toMatchObject({ code: 'bad_frame' });
    expect(String(refusal['message'])).toContain('since');
    expect(await beyond.closed()).toMatchObject({ code: 4000 });

    const { helloOk } = await join(gateway, { session_id: 'far-ahead', since: MAX_SEQ, epoch: 'another-history' });
    expect(helloOk['gap']).toEqual({ expected: MAX_SEQ + 1, received: 1 });
    // The gateway's own answer must pass its own decoder.
    expect(decodeServerFrame(JSON.stringify(helloOk)).ok).toBe(true);
  });
});

describe('token verifier', () => {
  const verifyToken = (token: string | undefined): boolean => token === 's3cret-token';

  it('answers auth_required without a token and auth_unauthorized for a wrong one', async () => {
    const gateway = await startGateway({ verifyToken });
    const missing = await connect(gateway);
    missing.send(helloFrame());
    expect(await missing.next('hello_error')).toMatchObject({ code: 'auth_required', next_step: 'reauthenticate' });
    expect(await missing.closed()).toMatchObject({ code: 4003 });

    const wrong = await connect(gateway);
    wrong.send(helloFrame({ token: 'guess' }));
    const refusal = await wrong.next('hello_error');
    expect(refusal).toMatchObject({ code: 'auth_unauthorized' });
    expect(JSON.stringify(refusal)).not.toContain('guess');
    expect(await wrong.closed()).toMatchObject({ code: 4003 });
  });

  it('accepts the token in hello.token or in ?token=', async () => {
    const gateway = await startGateway({ verifyToken });
    await expect(join(gateway, { token: 's3cret-token' })).resolves.toMatchObject({ helloOk: { type: 'hello_ok' } });
    await expect(join(`${gateway.url}/ws?token=s3cret-token`)).resolves.toMatchObject({ helloOk: { type: 'hello_ok' } });
  });

  it('never writes the token to the log', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const gateway = await startGateway({ verifyToken, logger: pino({ level: 'debug' }, sink) });
    await join(`${gateway.url}/ws?token=s3cret-token`);
    const wrong = await connect(`${gateway.url}/ws?token=wrong-token-value`);
    wrong.send(helloFrame({ token: 'wrong-token-value' }));
    await wrong.closed();
    const output = lines.join('');
    expect(output).toContain('[redacted]');
    expect(output).toContain('handshake refused');
    expect(output).not.toContain('s3cret-token');
    expect(output).not.toContain('wrong-token-value');
  });

  it('refuses with internal_error when the verifier throws', async () => {
    const gateway = await startGateway({
      verifyToken: () => {
        throw new Error('directory down');
      },
    });
    const client = await connect(gateway);
    client.send(helloFrame({ token: 't' }));
    expect(await client.next('hello_error')).toMatchObject({ code: 'internal_error', next_step: 'wait_then_retry' });
    expect(await client.closed()).toMatchObject({ code: 4011 });
  });
});

describe('payload and buffering limits', () => {
  it('refuses a frame over max_payload with a typed error and keeps the connection', async () => {
    const gateway = await startGateway({ maxPayload: 1024 });
    const { client, helloOk } = await join(gateway);
    expect(helloOk['policy']).toMatchObject({ max_payload: 1024 });
    client.send({ type: 'message', id: 'big', content: 'x'.repeat(1500) });
    expect(await client.next('error')).toMatchObject({ code: 'payload_too_large' });
    client.send({ type: 'message', id: 'small', content: 'ok' });
    expect(await client.next('ack')).toMatchObject({ id: 'small' });
  });

  it('closes 1009 on a frame over twice max_payload', async () => {
    const gateway = await startGateway({ maxPayload: 1024 });
    const { client } = await join(gateway);
    client.send({ type: 'message', content: 'x'.repeat(3000) });
    expect(await client.closed()).toMatchObject({ code: 1009 });
  });

  it('refuses an oversized first frame as a handshake failure', async () => {
    const gateway = await startGateway({ maxPayload: 1024 });
    const client = await connect(gateway);
    client.send(helloFrame({ padding: 'x'.repeat(1500) }));
    expect(await client.next('hello_error')).toMatchObject({ code: 'payload_too_large' });
    expect(await client.closed()).toMatchObject({ code: 4009 });
  });

  it('refuses to store an event or state no client could receive, so it cannot evict every reader on every resume', async () => {
    const gateway = await startGateway({ maxBufferedBytes: 256 * 1024 });
    const { client, helloOk } = await join(gateway);
    const sessionId = String(helloOk['session_id']);
    const huge = { type: 'bulk', data: 'x'.repeat(300 * 1024) };
    await expect(gateway.publish(sessionId, huge)).rejects.toMatchObject({ code: 'payload_too_large', nextStep: expect.stringMatching(/maxEventBytes/) });
    await expect(gateway.setState(sessionId, huge)).rejects.toMatchObject({ code: 'payload_too_large' });
    // Nothing was stored: the next event is seq 1, and the reader was never evicted.
    expect(await gateway.publish(sessionId, { type: 'small' })).toBe(1);
    expect(await client.next('event')).toMatchObject({ seq: 1 });
    expect(gateway.stats().counters.slowConsumers).toBe(0);
    await expect(startGateway({ maxBufferedBytes: 1000, maxEventBytes: 600 })).rejects.toMatchObject({ code: 'configuration_error' });
  });

  it('refuses to store an event or state nested deeper than clients read, and a maxEventBytes over what they read', async () => {
    const gateway = await startGateway();
    const { client, helloOk } = await join(gateway);
    const sessionId = String(helloOk['session_id']);
    // In a batch the payload sits at depth 4, so it may nest MAX_SERVER_FRAME_DEPTH - 3 deep itself.
    const nest = (depth: number): unknown => {
      let data: unknown = {};
      for (let i = 1; i < depth; i++) data = { a: data };
      return data;
    };
    const payloadDepth = MAX_SERVER_FRAME_DEPTH - 3;
    const tooDeep = { type: 'deep', data: nest(payloadDepth) };
    await expect(gateway.publish(sessionId, tooDeep)).rejects.toMatchObject({ code: 'payload_too_large', nextStep: expect.stringMatching(/Flatten/) });
    await expect(gateway.setState(sessionId, tooDeep)).rejects.toMatchObject({ code: 'payload_too_large' });
    // One level less fits: the payload object itself is one level, its data the rest.
    expect(await gateway.publish(sessionId, { type: 'deep', data: nest(payloadDepth - 1) })).toBe(1);
    expect(await client.next('event')).toMatchObject({ seq: 1 });
    await expect(startGateway({ maxBufferedBytes: MAX_SERVER_FRAME_BYTES * 2, maxEventBytes: MAX_SERVER_FRAME_BYTES / 2 + 1 })).rejects.toMatchObject({
      code: 'configuration_error',
      message: expect.stringMatching(/MAX_SERVER_FRAME_BYTES/),
    });
  });

  it('evicts a consumer that stops reading with 4013, once it catches up on the close', async () => {
    const gateway = await startGateway({ maxBufferedBytes: 64 * 1024 });
    const { client, helloOk } = await join(gateway, { protocol_max: 1 });
    const sessionId = String(helloOk['session_id']);
    client.ws.pause();
    const chunk = 'x'.repeat(16 * 1024);
    // Kernel buffers absorb the first few megabytes; keep publishing until the gateway gives up.
    for (let i = 0; i < 8000 && gateway.stats().counters.slowConsumers === 0; i++) {
      await gateway.publish(sessionId, { type: 'bulk', data: chunk });
    }
    expect(gateway.stats().counters.slowConsumers).toBe(1);
    expect(gateway.presence()).toEqual([]);
    client.ws.resume();
    expect(await client.closed(5000)).toMatchObject({ code: 4013, reason: 'slow_consumer' });
  });
});
