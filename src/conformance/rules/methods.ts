// Methods after the handshake: snapshot, ack dedupe, heartbeats and the legacy join
// (PROTOCOL.md sections 2 and 5).
import * as v from 'valibot';
import { JoinedFrame } from '../../protocol/frames.js';
import { describe, isNumbered } from '../frames.js';
import type { Received } from '../probe.js';
import { fail, notOffered, pass, type Rule } from '../types.js';

const snapshot: Rule = {
  id: 'snapshot.resync',
  title: 'resync answers with a snapshot at the head',
  extension: 'snapshot',
  async run(ctx) {
    const { probe, reply } = await ctx.hello();
    if (reply?.['type'] !== 'hello_ok') return fail('hello_ok', describe(reply));
    const seqs = await ctx.converse(probe, 'conformance snapshot');
    const head = seqs.length ? Math.max(...seqs) : reply['cursor'];
    const mark = probe.mark();
    probe.send({ type: 'resync' });
    const frame = await probe.waitForType(['snapshot', 'error'], ctx.timeoutMs, mark);
    if (frame?.['type'] !== 'snapshot' || !('state' in frame)) return fail('snapshot {state, cursor}', describe(frame));
    if (frame['cursor'] !== undefined && frame['cursor'] !== head) return fail(`snapshot cursor ${String(head)}`, `cursor ${String(frame['cursor'])}`);
    const epoch = ctx.info.extensions.has('epoch') ? reply['epoch'] : undefined;
    if (epoch !== undefined && frame['epoch'] !== undefined && frame['epoch'] !== epoch) return fail(`snapshot epoch ${String(epoch)}`, describe(frame));
    return pass(seqs.length ? undefined : 'no events to snapshot; checked on an empty session');
  },
};

const ackDedupe: Rule = {
  id: 'ack.dedupe',
  title: 'a message resent with the same id is acked as duplicate and applied once',
  extension: 'ack',
  async run(ctx) {
    const { probe, reply } = await ctx.hello();
    if (reply?.['type'] !== 'hello_ok') return fail('hello_ok', describe(reply));
    const id = `conformance-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    const isAck = (f: Received): boolean => f.json?.['type'] === 'ack' && f.json['id'] === id;
    const firstMark = probe.mark();
    const firstEvents = await ctx.converse(probe, 'conformance ack', id);
    const first = (await probe.waitFor(isAck, ctx.timeoutMs, firstMark))?.json;
    if (!first) return fail(`ack {id:"${id}"}`, 'no ack');
    if (first['duplicate'] === true) return fail('first ack without duplicate:true', describe(first));
    const secondMark = probe.mark();
    probe.send({ type: 'message', id, content: 'conformance ack' });
    const second = (await probe.waitFor(isAck, ctx.timeoutMs, secondMark))?.json;
    if (second?.['duplicate'] !== true) return fail(`ack {id:"${id}", duplicate:true}`, describe(second));
    // The resend must not be applied: no new events follow it once the stream is quiet.
    const extra = await probe.settle(isNumbered, ctx.quietMs, ctx.timeoutMs, secondMark);
    if (extra.length > 0) return fail('no new events for the duplicate', `${extra.length} new event frame(s): ${describe(extra[0])}`);
    return pass(firstEvents.length ? undefined : 'the message caused no events; dedupe checked by ack only');
  },
};

const serverPing: Rule = {
  id: 'heartbeat.server_ping',
  title: 'the gateway pings within 2 x policy.heartbeat_ms',
  budgetMs: (ctx) => ctx.maxHeartbeatWaitMs + ctx.timeoutMs * 2,
  async run(ctx) {
    const heartbeat = ctx.info.policy['heartbeat_ms'];
    if (typeof heartbeat !== 'number' || heartbeat <= 0) return fail('policy.heartbeat_ms', describe(ctx.info.policy));
    const wait = heartbeat * 2 + 250;
    if (wait > ctx.maxHeartbeatWaitMs) return notOffered(`heartbeat_ms ${heartbeat} is too long to observe within ${ctx.maxHeartbeatWaitMs} ms`);
    const { probe, after } = await ctx.hello();
    const started = Date.now();
    const ping = await probe.waitForType(['ping'], wait, after);
    if (!ping) return fail(`ping within ${wait} ms`, probe.closeInfo ? `close ${probe.closeInfo.code} first` : 'no ping');
    return pass(`first ping after ${Date.now() - started} ms (heartbeat_ms ${heartbeat}); answered with pong`);
  },
};

const clientPing: Rule = {
  id: 'heartbeat.client_ping',
  title: 'a client ping gets a pong',
  async run(ctx) {
    const { probe, after } = await ctx.hello();
    probe.send({ type: 'ping', ts: 4242 });
    const pong = await probe.waitForType(['pong'], ctx.timeoutMs, after);
    if (!pong) return fail('pong', 'no pong');
    return pass(pong['ts'] === 4242 ? undefined : 'ts not echoed (optional)');
  },
};

const legacyJoin: Rule = {
  id: 'legacy.join',
  title: 'the legacy join gets joined',
  async run(ctx) {
    const probe = await ctx.open();
    probe.send({ type: 'join', agent_id: ctx.agentId, min_version: 1, max_version: ctx.info.range.max });
    const reply = await probe.waitForType(['joined', 'error', 'hello_error'], ctx.timeoutMs);
    if (reply?.['type'] !== 'joined') return fail('joined', describe(reply));
    const parsed = v.safeParse(JoinedFrame, reply);
    if (!parsed.success) return fail('joined matching the schema', `${parsed.issues[0]?.message ?? 'invalid'}: ${describe(reply)}`);
    return pass(`protocol_version ${String(reply['protocol_version'])}`);
  },
};

/** Method rules, in report order. */
export const methodRules: readonly Rule[] = [snapshot, ackDedupe, serverPing, clientPing, legacyJoin];
