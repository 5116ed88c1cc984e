// Resume, replay, caught_up, epoch and gap rules (PROTOCOL.md sections 3 and 4). Events are
// created by sending `message` frames; a gateway that answers with no numbered event cannot be
// checked here, which the rules report as not offered rather than as a failure.
import { describe, describeSeqs, isNumbered, numbered } from '../frames.js';
import type { Received } from '../probe.js';
import { fail, notOffered, pass, type HelloExchange, type Rule, type RuleContext, type Verdict } from '../types.js';

/** A session with some history, left by its first socket. */
interface History {
  readonly sessionId: string;
  readonly epoch: string | undefined;
  /** Seqs seen live, in order. */
  readonly seqs: readonly number[];
  readonly head: number;
}

/** The replay after a resuming hello: the reply, replayed seqs and the caught_up frame. */
interface Resumed {
  readonly exchange: HelloExchange;
  readonly replayed: readonly number[];
  readonly caughtUp: Record<string, unknown> | undefined;
  /** True when a numbered frame arrived after caught_up but belonged to the replay. */
  readonly replayAfterCaughtUp: boolean;
}

const NO_EVENTS = 'the agent answered `message` with no numbered event, so there is no history to replay (see docs/conformance.md)';

/** Open a session and give it history by sending messages until it holds `minEvents` events. */
async function makeHistory(ctx: RuleContext, minEvents: number): Promise<History | undefined> {
  const { probe, reply } = await ctx.hello();
  if (reply?.['type'] !== 'hello_ok' || typeof reply['session_id'] !== 'string') throw new Error(`no hello_ok: ${describe(reply)}`);
  const seqs: number[] = [];
  const deadline = Date.now() + ctx.timeoutMs * 4;
  for (let i = 0; seqs.length < minEvents && Date.now() < deadline; i++) {
    const got = await ctx.converse(probe, `conformance ${i}`);
    if (got.length === 0) break;
    seqs.push(...got);
  }
  await probe.close();
  if (seqs.length === 0) return undefined;
  const epoch = typeof reply['epoch'] === 'string' ? reply['epoch'] : undefined;
  return { sessionId: reply['session_id'], epoch, seqs, head: Math.max(...seqs) };
}

/**
 * Fill a session fast: send messages without waiting for each burst to end, until the head
 * passes `target` or the budget runs out. Used to push `since` out of the replay window.
 */
async function makeLongHistory(ctx: RuleContext, target: number): Promise<History | undefined> {
  const { probe, reply } = await ctx.hello();
  if (reply?.['type'] !== 'hello_ok' || typeof reply['session_id'] !== 'string') throw new Error(`no hello_ok: ${describe(reply)}`);
  const head = (): number => Math.max(0, ...probe.frames.flatMap((f) => (f.json ? numbered(f.json).map((n) => n.seq) : [])));
  const deadline = Date.now() + ctx.timeoutMs * 4;
  for (let i = 0; head() < target && Date.now() < deadline && probe.isOpen; i++) {
    const mark = probe.mark();
    probe.send({ type: 'message', content: `conformance fill ${i}` });
    if (!(await probe.waitFor(isNumbered, ctx.timeoutMs, mark))) break;
  }
  await probe.settle(isNumbered, ctx.quietMs, ctx.timeoutMs);
  const seqs = probe.frames.flatMap((f) => (f.json ? numbered(f.json).map((n) => n.seq) : []));
  await probe.close();
  if (seqs.length === 0) return undefined;
  const epoch = typeof reply['epoch'] === 'string' ? reply['epoch'] : undefined;
  return { sessionId: reply['session_id'], epoch, seqs, head: Math.max(...seqs) };
}

/** Resume `history` with `since` (and an epoch), and collect the replay. */
async function resume(ctx: RuleContext, history: History, since: number, epoch: string | undefined): Promise<Resumed> {
  const exchange = await ctx.hello({ session_id: history.sessionId, since, epoch });
  const { probe, after } = exchange;
  const offersCaughtUp = ctx.info.extensions.has('caught_up');
  const cursor = exchange.reply?.['cursor'];
  // Without caught_up, only silence ends a replay; skip the wait when nothing can be replayed.
  const nothingToReplay = exchange.reply?.['type'] !== 'hello_ok' || cursor === 0 || cursor === since;
  if (offersCaughtUp) await probe.waitForType(['caught_up'], ctx.timeoutMs, after);
  else if (!nothingToReplay) await probe.waitFor(isNumbered, ctx.timeoutMs, after);
  await probe.settle(isNumbered, ctx.quietMs, ctx.timeoutMs, after);
  const frames: Received[] = probe.frames.slice(after);
  const caughtUpAt = frames.findIndex((f) => f.json?.['type'] === 'caught_up');
  const replayed: number[] = [];
  let replayAfterCaughtUp = false;
  frames.forEach((f, index) => {
    for (const n of f.json ? numbered(f.json) : []) {
      if (!n.replay) continue;
      replayed.push(n.seq);
      if (caughtUpAt >= 0 && index > caughtUpAt) replayAfterCaughtUp = true;
    }
  });
  return { exchange, replayed, caughtUp: caughtUpAt >= 0 ? frames[caughtUpAt]?.json : undefined, replayAfterCaughtUp };
}

/** The shared scenario: a session with history, resumed from its first event. */
function resumeScenario(ctx: RuleContext): Promise<{ history: History; resumed: Resumed } | undefined> {
  return ctx.memo('resume', async () => {
    const history = await makeHistory(ctx, 3);
    if (!history) return undefined;
    const since = history.seqs[0] ?? 0;
    return { history, resumed: await resume(ctx, history, since, history.epoch) };
  });
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

const replay: Rule = {
  id: 'replay.resume',
  title: 'resume with since replays since+1..cursor, in order',
  async run(ctx) {
    const scenario = await resumeScenario(ctx);
    if (!scenario) return notOffered(NO_EVENTS);
    const { history, resumed } = scenario;
    const reply = resumed.exchange.reply;
    if (reply?.['type'] !== 'hello_ok') return fail('hello_ok', describe(reply));
    if (reply['resumed'] !== true && reply['cursor'] === 0) {
      return notOffered('the gateway did not keep the session after its socket closed (resumed:false, cursor 0)');
    }
    if (reply['resumed'] !== true) return fail('resumed:true', `resumed:${String(reply['resumed'])}`);
    if (reply['cursor'] !== history.head) return fail(`cursor ${history.head} (the head)`, `cursor ${String(reply['cursor'])}`);
    const since = history.seqs[0] ?? 0;
    const expected = range(since + 1, history.head);
    if (resumed.replayed.join() !== expected.join()) return fail(`replay ${describeSeqs(expected)}`, `replay ${describeSeqs(resumed.replayed)}`);
    return pass(`since ${since}, replayed ${describeSeqs(resumed.replayed)}`);
  },
};

const caughtUp: Rule = {
  id: 'replay.caught_up',
  title: 'caught_up ends the replay, also when nothing was replayed',
  extension: 'caught_up',
  async run(ctx) {
    const fresh = await ctx.hello();
    const first = await fresh.probe.waitForType(['caught_up'], ctx.timeoutMs, fresh.after);
    if (first?.['cursor'] !== 0) return fail('caught_up {cursor:0} on a new session', describe(first));
    const scenario = await resumeScenario(ctx);
    if (!scenario) return pass('checked on a new session only; ' + NO_EVENTS);
    const { caughtUp: frame, replayAfterCaughtUp } = scenario.resumed;
    if (!frame) return fail('caught_up after the replay', 'no caught_up');
    if (replayAfterCaughtUp) return fail('every replay before caught_up', 'a replay after caught_up');
    if (frame['cursor'] !== scenario.history.head) return fail(`caught_up cursor ${scenario.history.head}`, describe(frame));
    return pass();
  },
};

/** Check a hello_ok that must signal a gap with `expected`, and a `received` among `allowed`. */
function expectGap(reply: Record<string, unknown> | undefined, expected: number, allowed: readonly number[]): Verdict {
  if (reply?.['type'] !== 'hello_ok') return fail('hello_ok with a gap', describe(reply));
  const gap = reply['gap'] as Record<string, unknown> | undefined;
  const shape = `resync_required:true, gap {expected:${expected}, received:${allowed.join(' or ')}}`;
  if (reply['resync_required'] !== true || gap?.['expected'] !== expected || !allowed.includes(gap['received'] as number)) {
    return fail(shape, `resync_required:${String(reply['resync_required'])}, gap ${JSON.stringify(gap)}`);
  }
  return pass(`gap ${JSON.stringify(gap)}`);
}

const epochStable: Rule = {
  id: 'epoch.stable',
  title: 'hello_ok carries an epoch, unchanged on resume',
  extension: 'epoch',
  async run(ctx) {
    const epoch = ctx.info.helloOk['epoch'];
    if (typeof epoch !== 'string' || epoch.length === 0) return fail('hello_ok.epoch', describe(ctx.info.helloOk));
    const scenario = await resumeScenario(ctx);
    if (!scenario) return pass('checked on a new session only; ' + NO_EVENTS);
    const reply = scenario.resumed.exchange.reply;
    if (reply?.['epoch'] !== scenario.history.epoch) return fail(`epoch ${String(scenario.history.epoch)}`, `epoch ${String(reply?.['epoch'])}`);
    if (reply === undefined) return fail('hello_ok', 'nothing');
    if (reply['resync_required'] === true || reply['gap'] !== undefined) return fail('no gap on a same-epoch resume', describe(reply));
    return pass();
  },
};

/**
 * Resume the shared session from a position it cannot serve as current and expect a gap.
 * `received` may be any of `allowed(history, oldest_cursor)`: PROTOCOL.md section 4 lets it be
 * the oldest held seq or the head + 1, depending on the case.
 */
async function gapOnResume(
  ctx: RuleContext,
  since: (history: History) => number,
  epoch: (history: History) => string | undefined,
  allowed: (history: History, oldest: number) => number[],
): Promise<Verdict> {
  const scenario = await resumeScenario(ctx);
  if (!scenario) return notOffered(NO_EVENTS);
  const { history } = scenario;
  const from = since(history);
  const { exchange } = await resume(ctx, history, from, epoch(history));
  const oldest = exchange.reply?.['oldest_cursor'];
  return expectGap(exchange.reply, from + 1, allowed(history, typeof oldest === 'number' ? oldest : 1));
}

const epochMismatch: Rule = {
  id: 'epoch.mismatch',
  title: 'a cursor from another epoch is never replayed as current',
  extension: 'epoch',
  run: (ctx) =>
    gapOnResume(
      ctx,
      (h) => h.head,
      () => 'conformance-foreign-epoch',
      (h, oldest) => [oldest, h.seqs[0] ?? 1, h.head + 1],
    ),
};

const sinceAhead: Rule = {
  id: 'gap.since_ahead',
  title: 'since beyond the head signals resync_required and a gap',
  extension: 'gap',
  run: (ctx) =>
    gapOnResume(
      ctx,
      (h) => h.head + 50,
      (h) => h.epoch,
      (h, oldest) => [oldest, h.head + 1],
    ),
};

const beyondWindow: Rule = {
  id: 'gap.beyond_window',
  title: 'since older than the replay window signals a gap and replays what is left',
  extension: 'gap',
  async run(ctx) {
    const window = ctx.info.policy['replay_window'];
    if (typeof window !== 'number') return notOffered('policy.replay_window not advertised, so the window cannot be overrun on purpose');
    if (window + 3 > ctx.maxProvokedEvents) return notOffered(`replay_window ${window} is larger than the ${ctx.maxProvokedEvents} events the kit will generate`);
    const history = await makeLongHistory(ctx, window + 3);
    if (!history) return notOffered(NO_EVENTS);
    if (history.head < window + 2) return notOffered(`could only generate ${history.head} events, not ${window + 2}`);
    const since = history.seqs[0] ?? 1;
    const resumed = await resume(ctx, history, since, history.epoch);
    const oldest = history.head - window + 1;
    const verdict = expectGap(resumed.exchange.reply, since + 1, [oldest]);
    if (verdict.status !== 'pass') return verdict;
    const expected = range(oldest, history.head);
    if (resumed.replayed.join() !== expected.join()) return fail(`replay ${describeSeqs(expected)}`, `replay ${describeSeqs(resumed.replayed)}`);
    return pass(`window ${window}, head ${history.head}, ${verdict.detail ?? ''}`);
  },
};

/** Resume, replay, epoch and gap rules, in report order. */
export const resumeRules: readonly Rule[] = [replay, caughtUp, epochStable, epochMismatch, sinceAhead, beyondWindow];
