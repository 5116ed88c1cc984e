// The HTTP binding on a real gateway (PROTOCOL.md section 9): an SSE stream down, POSTs up, the
// same sessions, resume and gaps as over a WebSocket. Real HTTP over 127.0.0.1, no mocks.
import { afterEach, describe, expect, it } from 'vitest';
import { formatEventId } from '../../src/protocol/sse.js';
import { nodeOfConnection } from '../../src/server/http/connection-directory.js';
import type { Gateway, GatewayTransport } from '../../src/server/index.js';
import { helloFrame, join, publishMany, seqs, startGateway } from '../support/gateway-kit.js';
import type { Frame } from '../support/raw-client.js';
import { abortStreams, httpBase, httpRequest, openStream, type SseRecord, type SseStream } from '../support/sse-client.js';

afterEach(() => abortStreams());

/** Open a stream with a hello and read up to its caught_up. */
async function joinStream(gateway: Gateway, fields: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<{ stream: SseStream; helloOk: Frame }> {
  const stream = await openStream(httpBase(gateway.url), { hello: helloFrame(fields), headers });
  expect(stream.status).toBe(200);
  const helloOk = await stream.next('hello_ok');
  await stream.next('caught_up');
  return { stream, helloOk };
}

/** The seq an event-carrying message's id must name: its own, a batch's last, a snapshot's cursor. */
function numberOf(frame: Frame | undefined): number | undefined {
  if (!frame) return undefined;
  if (frame.type === 'event' || frame.type === 'replay') return Number(frame['seq']);
  if (frame.type === 'snapshot') return Number(frame['cursor']);
  if (frame.type === 'batch') return seqs([frame]).at(-1);
  return undefined;
}

/** The id of the last message that carried events: what a browser sends back as Last-Event-ID. */
function lastEventId(stream: SseStream): string {
  const id = stream.messages.filter((m) => m.id !== undefined).at(-1)?.id;
  if (id === undefined) throw new Error('no message with an id yet');
  return id;
}

describe('HTTP binding: the stream', () => {
  it('starts with retry and hello_ok, sets the anti-buffering headers, and puts <epoch>:<seq> ids on event frames only', async () => {
    const gateway = await startGateway({ heartbeatMs: 100 });
    const { stream, helloOk } = await joinStream(gateway);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['cache-control']).toBe('no-cache, no-transform');
    expect(stream.headers['x-accel-buffering']).toBe('no');
    // Unguessable, and naming the node that holds the stream, so a fleet can route its POSTs.
    expect(stream.connectionId).toMatch(/\.[A-Za-z0-9_-]{22}$/);
    expect(nodeOfConnection(stream.connectionId ?? '')).toBe((helloOk['health'] as { node: string }).node);
    expect(stream.raw.startsWith('retry: 1000\n\n')).toBe(true);
    expect(stream.frames[0]?.type).toBe('hello_ok');
    const sessionId = String(helloOk['session_id']);
    const epoch = String(helloOk['epoch']);
    await publishMany(gateway, sessionId, 3);
    await stream.until((frames) => seqs(frames).length === 3);
    await stream.next('ping');
    const check = (m: SseRecord): void => {
      const seq = numberOf(m.frame);
      expect(m.id, JSON.stringify(m.frame)).toBe(seq === undefined ? undefined : formatEventId(epoch, seq));
    };
    stream.messages.forEach(check);
    expect(stream.messages.filter((m) => m.id !== undefined).length).toBeGreaterThan(0);
  });

  it('carries POSTed frames in order, exactly as a socket would: acks, pongs and events come down the stream', async () => {
    const gateway = await startGateway();
    const received: unknown[] = [];
    gateway.onMessage((message) => void received.push(message.content));
    const { stream } = await joinStream(gateway);
    const answer = await stream.post([
      { type: 'message', id: 'm-1', content: 'first' },
      { type: 'message', id: 'm-2', content: 'second' },
      { type: 'ping', ts: 7 },
    ]);
    expect(answer.status).toBe(204);
    expect(await stream.next('ack')).toMatchObject({ id: 'm-1' });
    expect(await stream.next('ack')).toMatchObject({ id: 'm-2' });
    expect(await stream.next('pong')).toMatchObject({ ts: 7 });
    expect(received).toEqual(['first', 'second']);
    // The same message again is a duplicate, never applied twice.
    expect((await stream.post([{ type: 'message', id: 'm-1', content: 'first' }])).status).toBe(204);
    expect(await stream.next('ack')).toEqual({ type: 'ack', id: 'm-1', duplicate: true });
    expect(received).toEqual(['first', 'second']);
  });

  it('resumes by Last-Event-ID: exactly the missed events, no gap and no duplicate', async () => {
    const gateway = await startGateway();
    const { stream, helloOk } = await joinStream(gateway);
    const sessionId = String(helloOk['session_id']);
    await publishMany(gateway, sessionId, 3);
    await stream.until((frames) => seqs(frames).length === 3);
    const resumeFrom = lastEventId(stream);
    expect(resumeFrom).toBe(`${String(helloOk['epoch'])}:3`);
    stream.abort();
    await publishMany(gateway, sessionId, 3);
    // The hello says nothing of where it was: the header decides, as a browser's reconnect does.
    const { stream: again, helloOk: resumed } = await joinStream(gateway, { session_id: sessionId }, { 'last-event-id': resumeFrom });
    expect(resumed).toMatchObject({ resumed: true, resync_required: false, cursor: 6 });
    expect(resumed).not.toHaveProperty('gap');
    expect(seqs(again.frames)).toEqual([4, 5, 6]);
    expect(lastEventId(again)).toBe(`${String(helloOk['epoch'])}:6`);
  });

  it('resumes by since and epoch in the hello, and the header wins over them', async () => {
    const gateway = await startGateway();
    const { stream, helloOk } = await joinStream(gateway);
    const sessionId = String(helloOk['session_id']);
    const epoch = String(helloOk['epoch']);
    await publishMany(gateway, sessionId, 5);
    await stream.until((frames) => seqs(frames).length === 5);
    stream.abort();
    const bySince = await joinStream(gateway, { session_id: sessionId, since: 2, epoch });
    expect(seqs(bySince.stream.frames)).toEqual([3, 4, 5]);
    const headerWins = await joinStream(gateway, { session_id: sessionId, since: 1, epoch: 'e-other' }, { 'last-event-id': `${epoch}:4` });
    expect(headerWins.helloOk).not.toHaveProperty('gap');
    expect(seqs(headerWins.stream.frames)).toEqual([5]);
  });

  it('reports a gap when the window moved past the Last-Event-ID', async () => {
    const gateway = await startGateway({ replayWindow: 4 });
    const { stream, helloOk } = await joinStream(gateway);
    const sessionId = String(helloOk['session_id']);
    await publishMany(gateway, sessionId, 2);
    await stream.until((frames) => seqs(frames).length === 2);
    const resumeFrom = lastEventId(stream);
    stream.abort();
    await publishMany(gateway, sessionId, 10);
    const { stream: again, helloOk: resumed } = await joinStream(gateway, { session_id: sessionId }, { 'last-event-id': resumeFrom });
    expect(resumed).toMatchObject({ resumed: true, resync_required: true, gap: { expected: 3, received: 9 } });
    expect(seqs(again.frames)).toEqual([9, 10, 11, 12]);
  });

  it('paces a replay larger than max_buffered_bytes by what the response has written, so a reader that keeps up is never evicted', async () => {
    const gateway = await startGateway({ maxBufferedBytes: 64 * 1024, replayPageEvents: 16 });
    const { stream, helloOk } = await joinStream(gateway);
    const sessionId = String(helloOk['session_id']);
    // Publishing at once: the gone reader must not count as a slow one before its close is seen.
    stream.abort();
    const chunk = 'x'.repeat(4 * 1024);
    for (let i = 0; i < 200; i++) await gateway.publish(sessionId, { type: 'bulk', data: chunk });
    const again = await openStream(httpBase(gateway.url), { hello: helloFrame({ session_id: sessionId, since: 0, epoch: helloOk['epoch'] }) });
    await again.next('caught_up', 10_000);
    expect(seqs(again.frames)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(gateway.stats().counters.slowConsumers).toBe(0);
  });

  it('ends with the close event where a socket would close: a drain (1001) and a leave (1000)', async () => {
    const gateway = await startGateway();
    const { stream: leaving } = await joinStream(gateway);
    expect((await leaving.post([{ type: 'leave' }])).status).toBe(204);
    expect(await leaving.ended()).toEqual({ code: 1000, reason: 'left' });
    const { stream } = await joinStream(gateway);
    await gateway.drain({ spreadMs: 0 });
    expect(await stream.next('draining')).toMatchObject({ reconnect_after_ms: 0 });
    expect(await stream.ended()).toEqual({ code: 1001, reason: 'draining' });
    expect(stream.messages.at(-1)?.event).toBe('close');
    // The connection is gone: its id is refused, typed.
    const late = await stream.post([{ type: 'ping' }]);
    expect(late.status).toBe(404);
    expect(late.json).toMatchObject({ type: 'error', code: 'unknown_connection', next_step: 'wait_then_retry' });
  });

  it('pings down the stream and never reaps an HTTP connection for the pongs it cannot send', async () => {
    // A short handshake timeout also bounds the HTTP server's request timeout: a stream outlives it.
    const gateway = await startGateway({ heartbeatMs: 60, handshakeTimeoutMs: 100 });
    const { stream } = await joinStream(gateway);
    // Silence for twice heartbeat_ms closes a WebSocket with 4002; this stream outlives it many times over.
    await stream.until((frames) => frames.filter((f) => f.type === 'ping').length >= 6, 3000, 'six pings');
    expect(stream.closeEvent).toBeUndefined();
    expect(gateway.stats().counters.reaped).toBe(0);
  });

  it('counts open connections by transport in /metrics', async () => {
    const gateway = await startGateway();
    await joinStream(gateway);
    await joinStream(gateway);
    await join(gateway);
    const text = await (await fetch(`${httpBase(gateway.url)}/metrics`)).text();
    expect(text).toMatch(/lifeline_connections\{transport="http",node="[^"]+"\} 2\n/);
    expect(text).toMatch(/lifeline_connections\{transport="websocket",node="[^"]+"\} 1\n/);
  });

  it('answers a plain GET without an event stream with 426, naming both transports', async () => {
    const gateway = await startGateway();
    const answer = await httpRequest(`${httpBase(gateway.url)}/`, { method: 'GET' });
    expect(answer.status).toBe(426);
    expect(answer.body).toMatch(/WebSocket upgrade required or the HTTP binding/);
  });

  it('is off with http: false: an event-stream request gets 426 naming the WebSocket only, and WebSocket joins work', async () => {
    const gateway = await startGateway({ http: false });
    const stream = await openStream(httpBase(gateway.url), { hello: helloFrame() });
    expect(stream.status).toBe(426);
    const answer = await httpRequest(`${httpBase(gateway.url)}/`, { method: 'GET' });
    expect(answer.body).toBe('WebSocket upgrade required: this is a Lifeline gateway.\n');
    expect((await join(gateway)).helloOk['type']).toBe('hello_ok');
  });

  it('refuses an http option that is not a boolean, or true beside a transport of the app\'s own', async () => {
    await expect(startGateway({ http: 'no' as unknown as boolean })).rejects.toMatchObject({ code: 'configuration_error', message: 'http must be true or false, got "no"' });
    // Refused before the transport is used, so none of its methods is called.
    const transport = {} as GatewayTransport;
    await expect(startGateway({ http: true, transport })).rejects.toMatchObject({ code: 'configuration_error' });
  });
});

describe('HTTP binding: a plain EventSource', () => {
  it('follows a session by its path, one message and one id per event, and resumes by Last-Event-ID', async () => {
    const gateway = await startGateway({ verifyToken: (token) => token === 'reader' });
    const base = httpBase(gateway.url);
    const owner = await joinStream(gateway, { token: 'reader' });
    const sessionId = String(owner.helloOk['session_id']);
    const epoch = String(owner.helloOk['epoch']);
    const path = `/v1/sessions/${encodeURIComponent(sessionId)}/events?agent=demo&token=reader`;
    const plain = await openStream(base, { path });
    expect(plain.status).toBe(200);
    const helloOk = await plain.next('hello_ok');
    expect(helloOk).toMatchObject({ session_id: sessionId, resumed: true, protocol: 2 });
    expect((helloOk['features'] as { extensions: string[] }).extensions).not.toContain('batch');
    await plain.next('caught_up');
    // Published together: a batching connection would get them in one frame; this one gets three.
    await Promise.all([0, 1, 2].map((i) => gateway.publish(sessionId, { type: 'tick', data: { i } })));
    await plain.until((frames) => seqs(frames).length === 3);
    expect(plain.frames.filter((f) => f.type === 'batch')).toEqual([]);
    expect(plain.messages.filter((m) => m.id !== undefined).map((m) => m.id)).toEqual([1, 2, 3].map((seq) => `${epoch}:${seq}`));
    plain.abort();
    await publishMany(gateway, sessionId, 2);
    const again = await openStream(base, { path, headers: { 'last-event-id': `${epoch}:3` } });
    expect(await again.next('hello_ok')).not.toHaveProperty('gap');
    await again.next('caught_up');
    expect(seqs(again.frames)).toEqual([4, 5]);
    // A new EventSource sends no Last-Event-ID: README's restart puts the last id in the query.
    const restarted = await openStream(base, { path: `${path}&epoch=${encodeURIComponent(epoch)}&since=4` });
    expect(await restarted.next('hello_ok')).not.toHaveProperty('gap');
    await restarted.next('caught_up');
    expect(seqs(restarted.frames)).toEqual([5]);
  });

  it('refuses a malformed request with 400 before any stream, so a browser stops instead of retrying', async () => {
    const gateway = await startGateway();
    const base = httpBase(gateway.url);
    for (const path of ['/sessions/s-1/events', '/sessions/s-1/events?agent=demo&since=soon', '/sessions/s-1/events?agent=demo&protocol=two']) {
      const refused = await openStream(base, { path });
      expect(refused.status, path).toBe(400);
      await refused.ended();
    }
    const badId = await openStream(base, { path: '/sessions/s-1/events?agent=demo', headers: { 'last-event-id': 'not-an-id' } });
    expect(badId.status).toBe(400);
    expect(gateway.stats().connections).toBe(0);
  });
});
