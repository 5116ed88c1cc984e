// agent-lifeline conformance kit: checks any gateway against PROTOCOL.md over raw WebSockets.
// Black-box on purpose: it imports only the protocol contract, never our client or gateway.
export { runConformance, RULES } from './run.js';
export { formatTable, summarize, exitCode } from './report.js';
export type { ConformanceOptions, RuleContext, RuleResult, RuleStatus, Rule, ServerInfo, Verdict } from './types.js';
