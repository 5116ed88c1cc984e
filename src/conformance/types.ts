// The vocabulary of the conformance kit: what a rule is, what it is given, what it concludes, and
// what a run returns. It imports nothing of the kit but the probe's type, so every part may use it.
import type { Extension } from '../protocol/frames.js';
import type { Probe } from './probe.js';
import type { SseProbe } from './sse-probe.js';

/** How a rule ended. `not_offered`: an optional part the gateway does not advertise, or cannot be provoked. */
export type RuleStatus = 'pass' | 'fail' | 'not_offered';

/** A rule's conclusion, before the runner adds timing. */
export type Verdict =
  | { readonly status: 'pass'; readonly detail?: string }
  | { readonly status: 'fail'; readonly expected: string; readonly seen: string; readonly detail?: string }
  | { readonly status: 'not_offered'; readonly detail: string };

/** One row of the report. */
export interface RuleResult {
  /** Stable id, e.g. `negotiation.too_new`. */
  readonly id: string;
  /** One line saying what the rule checks. */
  readonly title: string;
  readonly status: RuleStatus;
  /** The optional extension the rule belongs to, when it belongs to one. */
  readonly extension?: Extension;
  readonly detail?: string;
  /** On `fail`: what PROTOCOL.md asks for. */
  readonly expected?: string;
  /** On `fail`: what the gateway did instead. */
  readonly seen?: string;
  readonly durationMs: number;
}

/** What the first `hello_ok` told us about the gateway. */
export interface ServerInfo {
  readonly helloOk: Record<string, unknown>;
  /** `features.extensions`; empty for a gateway (PraisonAI) that does not list any. */
  readonly extensions: ReadonlySet<string>;
  readonly policy: Record<string, unknown>;
  /** Advertised as `server_min`/`server_max` or `health.protocol`; else `known` is false. */
  readonly range: { readonly min: number; readonly max: number; readonly known: boolean };
}

/** A hello and the gateway's first answer to it (`hello_ok`, `hello_error`, `error`), if any. */
export interface HelloExchange {
  readonly probe: Probe;
  readonly reply: Record<string, unknown> | undefined;
  /** Index of the first frame after the reply. */
  readonly after: number;
}

export interface RuleContext {
  readonly agentId: string;
  readonly timeoutMs: number;
  readonly quietMs: number;
  readonly maxHeartbeatWaitMs: number;
  readonly maxProvokedEvents: number;
  readonly info: ServerInfo;
  /** The gateway's URL for the HTTP binding (`http(s)://`, the same path and query, token included). */
  readonly httpUrl: URL;
  /** The HTTP binding's rules fail, rather than report not offered, when the gateway does not serve it. */
  readonly requireHttp: boolean;
  /** Open a socket that is closed when the rule ends. */
  open(): Promise<Probe>;
  /** Open an HTTP-binding stream (`GET url`, Accept: text/event-stream) that is closed when the rule ends. */
  openStream(url: URL, headers?: Readonly<Record<string, string>>): Promise<SseProbe>;
  /** Open a socket and send `hello` (1..PROTOCOL_VERSION unless overridden; `undefined` removes a field). */
  hello(fields?: Record<string, unknown>): Promise<HelloExchange>;
  /**
   * Send a `message` and collect the numbered events it causes until the stream is quiet.
   * Assumption (documented in docs/conformance.md): the agent answers a message with at least
   * one numbered event, as Lifeline's demo agent and PraisonAI's echo agent do.
   */
  converse(probe: Probe | SseProbe, content: string, id?: string): Promise<number[]>;
  /** Run `make` once per kit run and share its result between rules. */
  memo<T>(key: string, make: () => Promise<T>): Promise<T>;
}

/** A protocol rule checked from outside, over raw WebSockets. */
export interface Rule {
  readonly id: string;
  readonly title: string;
  /** When set, the rule runs only if `hello_ok.features.extensions` lists this extension. */
  readonly extension?: Extension;
  /** Longest the whole rule may take; the runner gives up on it after this. @default 8 x timeoutMs */
  budgetMs?(ctx: RuleContext): number;
  run(ctx: RuleContext): Promise<Verdict>;
}

/** Options for {@link runConformance}. */
export interface ConformanceOptions {
  /** `ws://host:port[/path][?token=…]`. A path such as PraisonAI's `/ws` is kept. */
  readonly url: string;
  /** The agent to talk to (`hello.agent_id`). */
  readonly agentId: string;
  /** Sent as `?token=` on the URL (the spelling both Lifeline and PraisonAI accept). */
  readonly token?: string;
  /** Longest wait for any single answer. @default 5000 */
  readonly timeoutMs?: number;
  /**
   * How long the stream must stay silent before a burst of events counts as finished. Agents
   * answer a message with a burst of unknown length, so silence is the only end marker.
   * @default 300
   */
  readonly quietMs?: number;
  /** Longest wait for a server heartbeat ping (the rule waits `2 × heartbeat_ms`, capped here). @default 65000 */
  readonly maxHeartbeatWaitMs?: number;
  /** Most events the kit will generate to push a session out of its replay window. @default 400 */
  readonly maxProvokedEvents?: number;
  /** Only run rules whose id starts with one of these prefixes. */
  readonly only?: readonly string[];
  /** Called as each rule finishes, for live progress. */
  readonly onResult?: (result: RuleResult) => void;
  /**
   * The gateway must serve the HTTP binding (PROTOCOL.md section 9): its rules fail instead of
   * reporting not offered when a stream cannot be opened. @default false
   */
  readonly requireHttp?: boolean;
}

/** Shorthands for verdicts. */
export const pass = (detail?: string): Verdict => (detail === undefined ? { status: 'pass' } : { status: 'pass', detail });
export const fail = (expected: string, seen: string, detail?: string): Verdict =>
  detail === undefined ? { status: 'fail', expected, seen } : { status: 'fail', expected, seen, detail };
export const notOffered = (detail: string): Verdict => ({ status: 'not_offered', detail });
