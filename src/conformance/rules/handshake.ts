// Handshake and negotiation rules (PROTOCOL.md section 2).
import * as v from 'valibot';
import { CloseCode } from '../../protocol/close-codes.js';
import { HelloOkFrame } from '../../protocol/frames.js';
import { describe } from '../frames.js';
import { fail, notOffered, pass, type Rule, type RuleContext, type Verdict } from '../types.js';

/** Check a `hello_ok` against the schema; undefined when it conforms. */
function helloOkProblem(reply: Record<string, unknown> | undefined): Verdict | undefined {
  if (reply?.['type'] !== 'hello_ok') return fail('hello_ok', describe(reply));
  const parsed = v.safeParse(HelloOkFrame, reply);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    return fail('hello_ok matching the schema', `${issue ? `${v.getDotPath(issue) ?? 'frame'}: ${issue.message}` : 'invalid'} in ${describe(reply)}`);
  }
  return undefined;
}

/** Expect a `hello_error` refusing the version with `next_step`. */
async function expectVersionRefusal(ctx: RuleContext, fields: Record<string, unknown>, nextStep: string): Promise<Verdict> {
  const { probe, reply } = await ctx.hello(fields);
  if (reply?.['type'] !== 'hello_error' || reply['code'] !== 'protocol_unsupported') {
    return fail(`hello_error protocol_unsupported, next_step ${nextStep}`, describe(reply));
  }
  const notes: string[] = [];
  if (reply['server_min'] === undefined || reply['server_max'] === undefined) notes.push('no server_min/server_max in the refusal');
  if (reply['next_step'] !== nextStep) {
    return fail(`next_step ${nextStep}`, `next_step ${String(reply['next_step'])}`);
  }
  const closed = await probe.waitForClose(Math.min(ctx.timeoutMs, 1000));
  if (closed && closed.code !== CloseCode.ProtocolUnsupported) return fail('close 4006 after the refusal', `close ${closed.code}`);
  if (!closed) notes.push('socket left open after the refusal (PraisonAI behaviour; the client closes it)');
  return pass(notes.join('; ') || undefined);
}

const helloOk: Rule = {
  id: 'handshake.hello_ok',
  title: 'hello gets a hello_ok of the right shape',
  async run(ctx) {
    const { reply } = await ctx.hello();
    const problem = helloOkProblem(reply);
    if (problem) return problem;
    if (reply?.['resumed'] !== false) return fail('resumed:false for a new session', `resumed:${String(reply?.['resumed'])}`);
    if (reply['cursor'] !== 0) return fail('cursor 0 for a new session', `cursor ${String(reply['cursor'])}`);
    const extensions = [...ctx.info.extensions];
    return pass(`protocol ${String(reply['protocol'])}; extensions: ${extensions.length ? extensions.join(',') : 'none advertised'}`);
  },
};

const uniqueSessions: Rule = {
  id: 'handshake.session_ids',
  title: 'each new session gets its own unguessable id',
  async run(ctx) {
    const replies = await Promise.all([ctx.hello(), ctx.hello(), ctx.hello()]);
    const ids = replies.map((r) => r.reply?.['session_id']);
    if (!ids.every((id): id is string => typeof id === 'string' && id.length > 0)) return fail('three session ids', ids.map(String).join(', '));
    if (new Set(ids).size !== ids.length) return fail('distinct session ids', ids.join(', '));
    const short = ids.find((id) => id.length < 16);
    if (short !== undefined) return fail('crypto-random ids (16+ characters)', `"${short}"`);
    return pass();
  },
};

const highestCommon: Rule = {
  id: 'negotiation.highest_common',
  title: 'an overlapping range gets the highest common version',
  async run(ctx) {
    const { max, known } = ctx.info.range;
    const { reply } = await ctx.hello({ protocol_min: 1, protocol_max: max + 5 });
    const problem = helloOkProblem(reply);
    if (problem) return problem;
    if (reply?.['protocol'] !== max) return fail(`protocol ${max} for 1..${max + 5}`, `protocol ${String(reply?.['protocol'])}`);
    const single = await ctx.hello({ protocol_min: ctx.info.range.min, protocol_max: ctx.info.range.min });
    if (single.reply?.['protocol'] !== ctx.info.range.min) {
      return fail(`protocol ${ctx.info.range.min} for ${ctx.info.range.min}..${ctx.info.range.min}`, describe(single.reply));
    }
    return pass(known ? undefined : `server range not advertised; assumed max ${max}`);
  },
};

const tooNew: Rule = {
  id: 'negotiation.too_new',
  title: 'a range above the server is refused with downgrade_client',
  run(ctx) {
    const above = ctx.info.range.max + 1;
    return expectVersionRefusal(ctx, { protocol_min: above, protocol_max: above + 1 }, 'downgrade_client');
  },
};

const tooOld: Rule = {
  id: 'negotiation.too_old',
  title: 'a range below the server is refused with upgrade_client',
  async run(ctx) {
    const below = ctx.info.range.min - 1;
    if (below < 0) return notOffered('the gateway serves version 0, nothing is older');
    return expectVersionRefusal(ctx, { protocol_min: below, protocol_max: below }, 'upgrade_client');
  },
};

const inverted: Rule = {
  id: 'negotiation.inverted_range',
  title: 'protocol_min > protocol_max is refused',
  async run(ctx) {
    const { reply } = await ctx.hello({ protocol_min: 2, protocol_max: 1 });
    if (reply?.['type'] !== 'hello_error' || reply['code'] !== 'protocol_unsupported') {
      return fail('hello_error protocol_unsupported', describe(reply));
    }
    if (reply['next_step'] !== 'do_not_retry') {
      // Every refusal step except wait_then_retry stops a client, so this is only a nuance.
      return pass(`next_step ${String(reply['next_step'])}; the spec asks do_not_retry (either stops a client)`);
    }
    return pass();
  },
};

const legacySpelling: Rule = {
  id: 'negotiation.legacy_spelling',
  title: 'the older protocol:{min,max} spelling negotiates too',
  async run(ctx) {
    const { max } = ctx.info.range;
    const { reply } = await ctx.hello({ protocol_min: undefined, protocol_max: undefined, capabilities: undefined, protocol: { min: 1, max: max + 1 }, caps: ['ack'] });
    const problem = helloOkProblem(reply);
    if (problem) return problem;
    return reply?.['protocol'] === max ? pass() : fail(`protocol ${max}`, `protocol ${String(reply?.['protocol'])}`);
  },
};

const noRange: Rule = {
  id: 'negotiation.no_range',
  title: 'a hello without a range means version 1',
  async run(ctx) {
    if (ctx.info.range.min > 1) return notOffered(`the gateway starts at version ${ctx.info.range.min}`);
    const { reply } = await ctx.hello({ protocol_min: undefined, protocol_max: undefined, capabilities: undefined });
    const problem = helloOkProblem(reply);
    if (problem) return problem;
    return reply?.['protocol'] === 1 ? pass() : fail('protocol 1', `protocol ${String(reply?.['protocol'])}`);
  },
};

/** Handshake and negotiation rules, in report order. */
export const handshakeRules: readonly Rule[] = [helloOk, uniqueSessions, highestCommon, tooNew, tooOld, inverted, legacySpelling, noRange];
