// What a story is: a gateway setup, plus a script that drives a real client against it and
// asserts the outcome. Isomorphic: the same script runs in Node (CLI, tests) and in the inspector
// page; only the `StageControl` behind it differs (direct calls, or HTTP to `npm start`).
import type { ProtocolRange } from '../../src/protocol/index.js';
import type { GatewayClient, GatewayClientOptions } from '../../src/client/index.js';
import type { RateLimit } from '../../src/server/index.js';
import type { Timeline } from '../support/timeline.js';

/** How the story's gateway starts. Plain data, so the page can send it to `npm start`. */
export interface GatewaySetup {
  /** @default {min: 1, max: 2} */
  readonly protocol?: ProtocolRange;
  /** Events kept per session. @default 1000 */
  readonly replayWindow?: number;
  /** Gateway ping interval; the client presumes a half-open socket after twice this. @default 1000 */
  readonly heartbeatMs?: number;
  /** Per-address connection limit, or false. @default false */
  readonly rateLimit?: RateLimit | false;
  /** Answer messages to agent `demo` like `npm start` does (echo, tokens, reply). @default true */
  readonly demoAgent?: boolean;
}

/** Server-side counters a story asserts on, summed over every gateway the stage has run. */
export interface StageStats {
  /** Sockets the gateways accepted (refused ones included). */
  readonly accepted: number;
  /** Refusals by error code, e.g. `{rate_limited: 1}`. */
  readonly refused: Readonly<Record<string, number>>;
  /** Client messages handed to the app, once per message id, in arrival order. */
  readonly messages: readonly unknown[];
  /** Resends the gateways recognised by id and did not apply again. */
  readonly duplicates: number;
  /** Connections currently open through the fault proxy. */
  readonly connections: number;
}

/**
 * The server side of a story: a gateway behind a TCP fault proxy. Every method is a side effect a
 * story scripts; all of them are async because in the page they are HTTP calls to `npm start`.
 */
export interface StageControl {
  /** Reset every connection through the proxy (both peers see 1006). */
  drop(): Promise<void>;
  /** Stop forwarding but keep sockets open: a half-open link. */
  stall(): Promise<void>;
  /** Heal a stall; held bytes are delivered in order. */
  resume(): Promise<void>;
  /** While on, new connections are reset as soon as they open (the network is down). */
  refuse(on: boolean): Promise<void>;
  /** Kill the gateway without close frames, like a crash. Clients see 1006. */
  crashGateway(): Promise<void>;
  /** Start a gateway again behind the proxy, with the old log or a fresh one (a new epoch). */
  bootGateway(options: { readonly keepLog: boolean; readonly protocol?: ProtocolRange }): Promise<void>;
  /** A deploy: start the new gateway (same log), route new connections to it, drain and close the old one. */
  deploy(options: { readonly protocol?: ProtocolRange; readonly spreadMs?: number }): Promise<void>;
  /** Publish `count` events of `type` to a session; resolves with their seqs. */
  publish(sessionId: string, count: number, type?: string): Promise<number[]>;
  /** Set what `resync` snapshots return for a session. */
  setState(sessionId: string, state: unknown): Promise<void>;
  stats(): Promise<StageStats>;
}

/** Client options a story may set; the url, inspector and WebSocket come from the runner. */
export type StoryClientOptions = Omit<GatewayClientOptions, 'url' | 'agentId' | 'inspect' | 'WebSocket'> & {
  readonly agentId?: string;
};

/** What a story script gets. */
export interface StoryContext {
  readonly stage: StageControl;
  /** Every transition, event, gap, resync, backoff and error so far; stories assert on it. */
  readonly timeline: Timeline;
  /** Create the story's client (story timings, inspected, disconnected when the story ends). */
  client(options?: StoryClientOptions): GatewayClient;
  /** Narrate the next step; the page may pause here so a person can follow. */
  step(text: string): Promise<void>;
  /** Resolve with `check()` once it is truthy; re-checked on every timeline entry. Throws after `timeoutMs`. */
  until<T>(label: string, check: () => T | undefined | false | null, timeoutMs?: number): Promise<T>;
  /** Assert that nothing matching `happened` is recorded for `ms` (e.g. no retry after a refusal). */
  quietFor(label: string, ms: number, happened: () => boolean): Promise<void>;
  /** Record a passed check, or throw `StoryAssertionError`. */
  expect(condition: boolean, label: string, detail?: unknown): void;
}

/** A scripted scenario. */
export interface Story {
  /** CLI name, e.g. `flaky-network`. */
  readonly name: string;
  readonly title: string;
  /** One or two sentences: what happens and what a user should notice. */
  readonly summary: string;
  readonly gateway: GatewaySetup;
  run(ctx: StoryContext): Promise<void>;
}

/** A story's expectation did not hold. */
export class StoryAssertionError extends Error {
  override readonly name = 'StoryAssertionError';
  constructor(
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
  }
}
