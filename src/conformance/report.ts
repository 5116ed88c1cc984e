// Render results as the table people read, or as JSON for CI.
import type { RuleResult, RuleStatus } from './types.js';

const LABEL: { readonly [S in RuleStatus]: string } = { pass: 'pass', fail: 'FAIL', not_offered: 'not offered' };

/** One line per rule, then a summary line. */
export function formatTable(results: readonly RuleResult[]): string {
  const idWidth = Math.max(4, ...results.map((r) => r.id.length));
  const lines = [`${'STATUS'.padEnd(12)} ${'RULE'.padEnd(idWidth)}  DETAIL`];
  for (const r of results) {
    const detail = r.status === 'fail' ? `expected ${r.expected ?? '?'}; seen ${r.seen ?? '?'}${r.detail ? ` (${r.detail})` : ''}` : (r.detail ?? r.title);
    lines.push(`${LABEL[r.status].padEnd(12)} ${r.id.padEnd(idWidth)}  ${detail}`);
  }
  lines.push('', summarize(results));
  return `${lines.join('\n')}\n`;
}

/** `23 rules: 15 pass, 2 fail, 6 not offered`. */
export function summarize(results: readonly RuleResult[]): string {
  const count = (status: RuleStatus): number => results.filter((r) => r.status === status).length;
  return `${results.length} rules: ${count('pass')} pass, ${count('fail')} fail, ${count('not_offered')} not offered`;
}

/** The process exit code for a run: non-zero only when a rule failed. */
export function exitCode(results: readonly RuleResult[]): number {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}
