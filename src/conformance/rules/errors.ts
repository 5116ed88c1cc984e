// Bad input gets typed errors and the gateway keeps serving (PROTOCOL.md sections 1 and 5).
import { CloseCode } from '../../protocol/close-codes.js';
import { describe, describeSeqs, isNumbered, seqsOf } from '../frames.js';
import type { Probe } from '../probe.js';
import { fail, notOffered, pass, type HelloExchange, type Rule, type RuleContext, type Verdict } from '../types.js';

/** What came back instead of the typed error: the default description of what was seen. */
function seenInstead(probe: Probe, error: Record<string, unknown> | undefined): string {
  if (error) return describe(error);
  return probe.closeInfo ? `close ${probe.closeInfo.code} without an error frame` : 'no answer (ignored)';
}

/**
 * After `send`, expect `{type:"error", code}` and a connection that still answers ping.
 * `explain` may describe what happened instead more precisely than {@link seenInstead}.
 */
async function expectTypedError(
  ctx: RuleContext,
  exchange: HelloExchange,
  code: string,
  send: (probe: Probe) => void,
  explain: (probe: Probe, mark: number) => string | undefined = () => undefined,
): Promise<Verdict> {
  const { probe, reply } = exchange;
  if (reply?.['type'] !== 'hello_ok') return fail('hello_ok', describe(reply));
  const mark = probe.mark();
  send(probe);
  const error = await probe.waitForType(['error'], ctx.timeoutMs, mark);
  if (error?.['code'] !== code) {
    return fail(`{"type":"error","code":"${code}"} and the connection stays open`, explain(probe, mark) ?? seenInstead(probe, error));
  }
  const pingMark = probe.mark();
  probe.send({ type: 'ping' });
  if (!(await probe.waitForType(['pong'], ctx.timeoutMs, pingMark))) {
    return fail('the connection stays open after the error', probe.closeInfo ? `close ${probe.closeInfo.code}` : 'no pong');
  }
  return pass();
}

const notJoined: Rule = {
  id: 'errors.not_joined',
  title: 'a method before hello gets not_joined',
  async run(ctx) {
    const probe = await ctx.open();
    probe.send({ type: 'message', content: 'before hello' });
    const error = await probe.waitForType(['error', 'hello_error'], ctx.timeoutMs);
    if (error?.['code'] === 'not_joined') return pass();
    // PraisonAI answers {"type":"error","message":"Not joined to any session"}: right idea, no code.
    const uncoded = error?.['type'] === 'error' && error['code'] === undefined;
    return fail('{"type":"error","code":"not_joined"}', uncoded ? `${describe(error)}: an error without a code, so a client cannot tell it means not_joined` : describe(error));
  },
};

const badJson: Rule = {
  id: 'errors.bad_json',
  title: 'malformed JSON gets bad_frame; the connection stays open',
  async run(ctx) {
    return expectTypedError(ctx, await ctx.hello(), 'bad_frame', (probe) => probe.sendRaw('this is not json {'));
  },
};

const unknownType: Rule = {
  id: 'errors.unknown_type',
  title: 'an unknown type gets bad_frame; the connection stays open',
  async run(ctx) {
    return expectTypedError(ctx, await ctx.hello(), 'bad_frame', (probe) => probe.send({ type: 'conformance_frobnicate', x: 1 }));
  },
};

const wrongTypes: Rule = {
  id: 'errors.wrong_field_types',
  title: 'a hello with wrongly typed fields gets hello_error bad_frame',
  async run(ctx) {
    const { probe, reply } = await ctx.hello({ protocol_min: '1', protocol_max: '2' });
    if (reply?.['type'] === 'hello_error' && reply['code'] === 'bad_frame') return pass();
    const closed = reply ? undefined : await probe.waitForClose(ctx.timeoutMs);
    return fail('{"type":"hello_error","code":"bad_frame"}', closed ? `close ${closed.code} without a hello_error` : describe(reply));
  },
};

const binary: Rule = {
  id: 'errors.binary',
  title: 'a binary frame gets bad_frame: close 4000 before hello, only that frame lost after',
  async run(ctx) {
    const frame = Buffer.from(JSON.stringify({ type: 'ping' }));
    const early = await ctx.open();
    early.sendRaw(frame);
    const refusal = await early.waitForType(['hello_error', 'error', 'pong'], ctx.timeoutMs);
    const closed = await early.waitForClose(ctx.timeoutMs);
    if (refusal?.['code'] !== 'bad_frame' || closed?.code !== CloseCode.BadFrame) {
      return fail('before hello: bad_frame, then close 4000', `${describe(refusal)}, ${closed ? `close ${closed.code}` : 'no close'}`);
    }
    return expectTypedError(ctx, await ctx.hello(), 'bad_frame', (probe) => probe.sendRaw(frame));
  },
};

const tooLarge: Rule = {
  id: 'errors.payload_too_large',
  title: 'a frame over policy.max_payload gets payload_too_large',
  async run(ctx) {
    const max = ctx.info.policy['max_payload'];
    if (typeof max !== 'number') return fail('policy.max_payload', describe(ctx.info.policy));
    if (max > 8 * 1024 * 1024) return notOffered(`max_payload ${max} is too large to send on purpose`);
    // Over the limit but under twice it, where the gateway must answer rather than close (1009).
    const content = 'x'.repeat(max + Math.min(1024, Math.floor(max / 2)));
    return expectTypedError(ctx, await ctx.hello(), 'payload_too_large', (probe) => probe.send({ type: 'message', id: 'conformance-big', content }), processedAnyway);
  },
};

/**
 * A gateway that does not enforce `max_payload` processes the frame: its agent answers with
 * numbered events. PraisonAI then closes 1013 `slow_consumer`, because the agent's echo of the
 * text overflows its own `max_buffered_bytes`: the client is evicted for the gateway's answer.
 */
function processedAnyway(probe: Probe, mark: number): string | undefined {
  const answers = probe.frames.slice(mark).filter(isNumbered);
  if (answers.length === 0) return undefined;
  const accepted = `the frame was accepted and answered (events ${describeSeqs(seqsOf(answers))}): max_payload is not enforced`;
  const closed = probe.closeInfo;
  if (!closed) return accepted;
  const evicted = closed.code === CloseCode.TryAgainLater || closed.code === CloseCode.SlowConsumer || closed.reason === 'slow_consumer';
  return `${accepted}; then close ${closed.code}${closed.reason ? ` ${closed.reason}` : ''}${evicted ? ': the client was evicted as a slow consumer, because its own answer was bigger than its max_buffered_bytes' : ''}`;
}

/** Error-handling rules, in report order. */
export const errorRules: readonly Rule[] = [notJoined, badJson, unknownType, wrongTypes, binary, tooLarge];
