// The HTTP binding (PROTOCOL.md section 9): an SSE stream down, POSTs up, ids, resume by
// Last-Event-ID, the plain EventSource form, the POST endpoint's refusals, the close event and
// CORS. The binding is optional: a gateway that does not open a stream is reported as not
// offering it, unless the run requires it (`requireHttp`, `--require-http`).
import { parseEventId } from '../../protocol/sse.js';
import { helloFrame } from '../context.js';
import { describe, describeSeqs, isNumbered, numbered, seqsOf } from '../frames.js';
import type { Received } from '../probe.js';
import { send, type SseProbe } from '../sse-probe.js';
import { fail, notOffered, pass, type Rule, type RuleContext, type Verdict } from '../types.js';

/** The stream URL for a hello: the gateway's URL with `?hello=` added. */
function helloUrl(ctx: RuleContext, fields: Record<string, unknown> = {}): URL {
  const url = new URL(ctx.httpUrl);
  url.searchParams.set('hello', JSON.stringify(helloFrame(ctx.agentId, fields)));
  return url;
}

/** The plain EventSource URL of a session: `<path>/sessions/<id>/events?agent=…` (the token kept). */
function plainUrl(ctx: RuleContext, sessionId: string, query: Record<string, string> = {}): URL {
  const url = new URL(ctx.httpUrl);
  url.pathname = `${url.pathname.replace(/\/$/, '')}/sessions/${encodeURIComponent(sessionId)}/events`;
  url.searchParams.set('agent', ctx.agentId);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  return url;
}

/**
 * Whether the gateway serves the binding (asked once per run): undefined when it does, else the
 * verdict every HTTP rule reports (not offered, or a failure when the run requires it).
 */
async function unlessServed(ctx: RuleContext): Promise<Verdict | undefined> {
  const seen = await ctx.memo('http.served', async () => {
    try {
      const probe = await ctx.openStream(helloUrl(ctx));
      const type = String(probe.headers['content-type'] ?? 'none');
      if (probe.status === 200 && type.startsWith('text/event-stream')) return undefined;
      return `GET with Accept: text/event-stream answered HTTP ${probe.status} (${type})`;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  });
  if (seen === undefined) return undefined;
  return ctx.requireHttp ? fail('the HTTP binding (PROTOCOL.md section 9)', seen) : notOffered(`no HTTP binding: ${seen}`);
}

/** A rule of the binding: reported not offered (or failed, when required) where it is not served. */
function httpRule(id: string, title: string, check: (ctx: RuleContext) => Promise<Verdict>): Rule {
  return { id, title, run: async (ctx) => (await unlessServed(ctx)) ?? check(ctx) };
}

/** A stream that joined: its probe and `hello_ok`, or the verdict when it did not join. */
async function joined(ctx: RuleContext, fields: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<{ probe: SseProbe; helloOk: Record<string, unknown> } | Verdict> {
  const { probe, reply } = await joinStream(ctx, fields, headers);
  return reply?.['type'] === 'hello_ok' ? { probe, helloOk: reply } : fail('hello_ok', describe(reply));
}

/** Open a stream with a hello and wait for its answer to the hello. */
async function joinStream(ctx: RuleContext, fields: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<{ probe: SseProbe; reply: Record<string, unknown> | undefined }> {
  const probe = await ctx.openStream(helloUrl(ctx, fields), headers);
  const reply = await probe.waitForType(['hello_ok', 'hello_error'], ctx.timeoutMs);
  return { probe, reply };
}

/** The id a frame that carries events must have, or undefined for a frame that carries none. */
function expectedId(frame: Received, epoch: string): string | undefined {
  const json = frame.json;
  if (!json) return undefined;
  if (json['type'] === 'snapshot' && typeof json['cursor'] === 'number') return `${epoch}:${json['cursor']}`;
  const last = numbered(json).at(-1);
  return last === undefined ? undefined : `${epoch}:${last.seq}`;
}

/** The first frame whose id is not what the binding asks, described; undefined when all are right. */
function wrongId(probe: SseProbe, epoch: string): string | undefined {
  for (const [i, frame] of probe.frames.entries()) {
    const want = expectedId(frame, epoch);
    const got = probe.ids[i];
    // An epoch carried by a frame moves the ids on from there; the kit checks the common case.
    if (typeof frame.json?.['epoch'] === 'string' && frame.json['epoch'] !== epoch) return undefined;
    if (got !== want) return `${describe(frame, 80)} with ${got === undefined ? 'no id' : `id ${got}`} (expected ${want === undefined ? 'none' : want})`;
  }
  return undefined;
}

const stream = httpRule('http.stream', 'GET with Accept: text/event-stream and ?hello= opens an SSE stream whose first message is hello_ok', async (ctx) => {
  const probe = await ctx.openStream(helloUrl(ctx));
  const first = await probe.waitFor(() => true, ctx.timeoutMs);
  if (first?.json?.['type'] !== 'hello_ok') return fail('hello_ok as the first message', describe(first));
  const cache = String(probe.headers['cache-control'] ?? '');
  if (!cache.includes('no-cache')) return fail('Cache-Control: no-cache', `Cache-Control: ${cache || 'none'}`);
  if (probe.headers['x-accel-buffering'] !== 'no') return fail('X-Accel-Buffering: no', `X-Accel-Buffering: ${String(probe.headers['x-accel-buffering'] ?? 'none')}`);
  if (!probe.connectionId) return fail('a Lifeline-Connection header', 'none');
  return pass();
});

const postUp = httpRule('http.post', 'POSTed NDJSON frames are answered 204, and their replies come down the stream in order', async (ctx) => {
  const stream = await joined(ctx);
  if (!('probe' in stream)) return stream;
  const { probe } = stream;
  const mark = probe.mark();
  const answer = await probe.post([{ type: 'ping', ts: 1 }, { type: 'ping', ts: 2 }]);
  if (answer.status !== 204) return fail('204', `HTTP ${answer.status} ${answer.body.slice(0, 120)}`);
  await probe.waitFor((f) => f.json?.['type'] === 'pong' && f.json['ts'] === 2, ctx.timeoutMs, mark);
  const pongs = probe.frames.slice(mark).filter((f) => f.json?.['type'] === 'pong').map((f) => f.json?.['ts']);
  return pongs[0] === 1 && pongs[1] === 2 ? pass() : fail('pong 1, then pong 2', `pongs ${JSON.stringify(pongs)}`);
});

const eventIds = httpRule('http.event_ids', 'frames that carry events have id <epoch>:<seq> (a batch its last), the others none', async (ctx) => {
  const stream = await joined(ctx);
  if (!('probe' in stream)) return stream;
  const { probe, helloOk } = stream;
  const epoch = helloOk['epoch'];
  if (typeof epoch !== 'string') return notOffered('hello_ok carries no epoch, so no id can name one');
  const seqs = await ctx.converse(probe, 'conformance ids');
  const wrong = wrongId(probe, epoch);
  if (wrong) return fail('ids on frames that carry events only', wrong);
  return pass(seqs.length ? `ids up to ${epoch}:${Math.max(...seqs)}` : 'the message caused no events; checked the frames without ids');
});

const lastEventId = httpRule('http.last_event_id', 'a stream resumes from Last-Event-ID with exactly the events after it, and no gap', async (ctx) => {
  const { probe, reply } = await joinStream(ctx);
  if (reply?.['type'] !== 'hello_ok' || typeof reply['session_id'] !== 'string') return fail('hello_ok', describe(reply));
  // Resume from the last id of a first burst, so a second burst is what the replay must hold
  // (and stays within a small replay window).
  await ctx.converse(probe, 'conformance resume 1');
  const from = probe.ids.filter((id, i) => id !== undefined && probe.frames[i] !== undefined && isNumbered(probe.frames[i])).at(-1);
  await ctx.converse(probe, 'conformance resume 2');
  const head = Math.max(0, ...seqsOf(probe.frames));
  if (from === undefined) return notOffered('the agent answered `message` with no numbered event, so there is nothing to resume');
  const position = parseEventId(from);
  if (!position) return fail('an id <epoch>:<seq>', from);
  await probe.close();
  const again = await joinStream(ctx, { session_id: reply['session_id'] }, { 'last-event-id': from });
  if (again.reply?.['type'] !== 'hello_ok') return fail('hello_ok', describe(again.reply));
  if (again.reply['gap'] !== undefined) return fail('no gap', `gap ${JSON.stringify(again.reply['gap'])}`);
  await again.probe.waitForType(['caught_up'], ctx.timeoutMs);
  const replayed = seqsOf(again.probe.frames);
  const want = Array.from({ length: head - position.seq }, (_, i) => position.seq + 1 + i);
  if (JSON.stringify(replayed) !== JSON.stringify(want)) return fail(`replay ${describeSeqs(want)}`, `replay ${describeSeqs(replayed)}`);
  return pass(`Last-Event-ID ${position.seq}, replayed ${describeSeqs(replayed)}`);
});

const plainEventSource = httpRule('http.plain_eventsource', '…/sessions/<id>/events?agent= streams a session to a plain EventSource, one message and one id per event', async (ctx) => {
  const { probe, reply } = await joinStream(ctx);
  if (reply?.['type'] !== 'hello_ok' || typeof reply['session_id'] !== 'string') return fail('hello_ok', describe(reply));
  const seqs = [...(await ctx.converse(probe, 'conformance plain 1')), ...(await ctx.converse(probe, 'conformance plain 2'))];
  await probe.close();
  const epoch = typeof reply['epoch'] === 'string' ? reply['epoch'] : undefined;
  const plain = await ctx.openStream(plainUrl(ctx, reply['session_id'], { since: '0', ...(epoch ? { epoch } : {}) }));
  if (plain.status !== 200) return fail('200 and a stream', `HTTP ${plain.status} ${plain.body.slice(0, 120)}`);
  const first = await plain.waitFor(() => true, ctx.timeoutMs);
  if (first?.json?.['type'] !== 'hello_ok') return fail('hello_ok as the first message', describe(first));
  if (seqs.length) await plain.waitFor((f) => seqsOf([f]).includes(Math.max(...seqs)), ctx.timeoutMs);
  const batch = plain.frames.find((f) => f.json?.['type'] === 'batch');
  if (batch) return fail('one message per event (no batch)', describe(batch));
  const wrong = epoch === undefined ? undefined : wrongId(plain, epoch);
  if (wrong) return fail('ids on frames that carry events only', wrong);
  const replayed = seqsOf(plain.frames);
  return pass(seqs.length ? `since 0, replayed ${describeSeqs(replayed)}` : 'the agent answered with no events; checked hello_ok');
});

const unknownConnection = httpRule('http.unknown_connection', 'a POST to a connection id no stream has is 404 unknown_connection', async (ctx) => {
  const url = new URL(ctx.httpUrl);
  url.searchParams.set('connection', 'conformance.AAAAAAAAAAAAAAAAAAAAAA');
  const answer = await send(url, 'POST', { 'content-type': 'text/plain;charset=utf-8' }, JSON.stringify({ type: 'ping' }), ctx.timeoutMs);
  if (answer.status !== 404 || answer.json?.['code'] !== 'unknown_connection') return fail('404 {"code":"unknown_connection"}', `HTTP ${answer.status} ${answer.body.slice(0, 120)}`);
  return pass();
});

const badPost = httpRule('http.bad_post', 'a POST whose body is not frames is 400 bad_frame, and the stream goes on', async (ctx) => {
  const stream = await joined(ctx);
  if (!('probe' in stream)) return stream;
  const { probe } = stream;
  const answer = await probe.post(['{not json']);
  if (answer.status !== 400 || answer.json?.['code'] !== 'bad_frame') return fail('400 {"code":"bad_frame"}', `HTTP ${answer.status} ${answer.body.slice(0, 120)}`);
  const mark = probe.mark();
  const ok = await probe.post([{ type: 'ping', ts: 3 }]);
  const pong = await probe.waitForType(['pong'], ctx.timeoutMs, mark);
  return ok.status === 204 && pong ? pass() : fail('the stream still answers a ping', `HTTP ${ok.status}, ${describe(pong)}`);
});

const closeEvent = httpRule('http.close_event', 'leave ends the stream with the close event {"code":1000}', async (ctx) => {
  const stream = await joined(ctx);
  if (!('probe' in stream)) return stream;
  const { probe } = stream;
  await probe.post([{ type: 'leave' }]);
  const closed = await probe.waitForClose(ctx.timeoutMs);
  if (!closed) return fail('event: close', 'the stream stayed open');
  return closed.code === 1000 ? pass() : fail('close {"code":1000}', closed.code === 1006 ? 'the stream ended without a close event' : `close ${closed.code} ${closed.reason}`);
});

const corsPreflight = httpRule('http.cors_preflight', 'a CORS preflight is answered with the methods and headers the binding uses, or refused with 403', async (ctx) => {
  const origin = 'http://conformance.invalid';
  const answer = await send(new URL(ctx.httpUrl), 'OPTIONS', { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' }, undefined, ctx.timeoutMs);
  const allowOrigin = answer.headers['access-control-allow-origin'];
  if (answer.status === 403) return allowOrigin === undefined ? pass('this origin is not allowed (the gateway restricts origins)') : fail('403 without CORS headers', `Access-Control-Allow-Origin: ${String(allowOrigin)}`);
  if (answer.status !== 204 && answer.status !== 200) return fail('204, or 403 for an origin not allowed', `HTTP ${answer.status}`);
  const methods = String(answer.headers['access-control-allow-methods'] ?? '').toUpperCase();
  const headers = String(answer.headers['access-control-allow-headers'] ?? '').toLowerCase();
  if (allowOrigin !== origin && allowOrigin !== '*') return fail(`Access-Control-Allow-Origin: ${origin}`, String(allowOrigin ?? 'none'));
  if (!methods.includes('POST') || !methods.includes('GET')) return fail('Access-Control-Allow-Methods: GET, POST', methods || 'none');
  for (const name of ['authorization', 'content-type', 'last-event-id']) if (!headers.includes(name)) return fail(`Access-Control-Allow-Headers with ${name}`, headers || 'none');
  return pass();
});

/** HTTP-binding rules, in report order. */
export const httpRules: readonly Rule[] = [stream, postUp, eventIds, lastEventId, plainEventSource, unknownConnection, badPost, closeEvent, corsPreflight];
