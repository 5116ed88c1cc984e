// Run every rule against one gateway, each isolated: its own sockets, a try/catch and a time
// budget, so one broken rule (or gateway) can never stop the report.
import { contextSettings, createContext, serverInfo } from './context.js';
import { describe } from './frames.js';
import { redactTokens } from '../protocol/credentials.js';
import { Probe } from './probe.js';
import { errorRules } from './rules/errors.js';
import { handshakeRules } from './rules/handshake.js';
import { httpRules } from './rules/http.js';
import { methodRules } from './rules/methods.js';
import { resumeRules } from './rules/resume.js';
import { helloFrame } from './context.js';
import type { ConformanceOptions, Rule, RuleResult, Verdict } from './types.js';

/** Every rule, in report order. */
export const RULES: readonly Rule[] = [...handshakeRules, ...resumeRules, ...methodRules, ...errorRules, ...httpRules];

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Race `work` against a timer; the loser is ignored (the rule's sockets are closed afterwards). */
async function withBudget(work: Promise<Verdict>, budgetMs: number): Promise<Verdict> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<Verdict>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'fail', expected: `an answer within ${budgetMs} ms`, seen: 'the rule timed out' }), budgetMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function result(rule: Rule, verdict: Verdict, durationMs: number): RuleResult {
  return { id: rule.id, title: rule.title, ...(rule.extension ? { extension: rule.extension } : {}), ...verdict, durationMs: Math.round(durationMs) };
}

/** Say hello once to learn the gateway's extensions, policy and range. */
async function preflight(url: string, agentId: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const probe = await Probe.open(url, timeoutMs);
  try {
    probe.send(helloFrame(agentId));
    const reply = await probe.waitForType(['hello_ok', 'hello_error', 'error'], timeoutMs);
    if (reply?.['type'] !== 'hello_ok') {
      // Say what did come back: a refusal, a frame that is not JSON, or a close.
      const last = reply ?? probe.frames.at(-1);
      const closed = probe.closeInfo ? `close ${probe.closeInfo.code}` : undefined;
      throw new Error(`expected hello_ok, saw ${last || !closed ? describe(last) : closed}`);
    }
    return reply;
  } finally {
    await probe.close();
  }
}

/**
 * Check a gateway against PROTOCOL.md from outside, over raw WebSockets. Resolves with one
 * result per rule and never rejects for anything the gateway does; it throws only for options
 * that cannot work (a URL that is not ws:// or wss://).
 */
export async function runConformance(options: ConformanceOptions): Promise<RuleResult[]> {
  const settings = contextSettings(options);
  const only = options.only;
  const rules = RULES.filter((rule) => !only?.length || only.some((prefix) => rule.id.startsWith(prefix)));
  const results: RuleResult[] = [];
  const report = (r: RuleResult): void => {
    results.push(r);
    options.onResult?.(r);
  };

  const started = performance.now();
  let helloOk: Record<string, unknown>;
  try {
    helloOk = await preflight(settings.url, settings.agentId, settings.timeoutMs);
  } catch (error) {
    const seen = message(error);
    for (const rule of rules) {
      const verdict: Verdict = rule.id === 'handshake.hello_ok' ? { status: 'fail', expected: 'hello_ok', seen } : { status: 'fail', expected: 'a handshake to run on', seen: `not run: the first hello to ${redactTokens(settings.url)} failed` };
      report(result(rule, verdict, performance.now() - started));
    }
    return results;
  }

  const { ctx, closeProbes } = createContext(settings, serverInfo(helloOk));
  for (const rule of rules) {
    const ruleStarted = performance.now();
    let verdict: Verdict;
    if (rule.extension && !ctx.info.extensions.has(rule.extension)) {
      verdict = { status: 'not_offered', detail: `extension "${rule.extension}" not advertised in features.extensions` };
    } else {
      try {
        verdict = await withBudget(rule.run(ctx), rule.budgetMs?.(ctx) ?? settings.timeoutMs * 8);
      } catch (error) {
        verdict = { status: 'fail', expected: 'the rule to complete', seen: message(error) };
      } finally {
        await closeProbes().catch(() => undefined);
      }
    }
    report(result(rule, verdict, performance.now() - ruleStarted));
  }
  return results;
}
