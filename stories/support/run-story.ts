// Runs one story: builds its context (client factory with story timings, bounded waits, checks),
// narrates every stage call on the timeline, and always disconnects its clients. Isomorphic: the
// CLI and tests pass a Node stage, the page passes one that calls `npm start` over HTTP.
import { createGatewayClient, type GatewayClient, type WebSocketClass } from '../../src/client/index.js';
import { StoryAssertionError, type StageControl, type Story, type StoryContext } from '../scenarios/story.js';
import { createTimeline, type Timeline } from './timeline.js';

/** Client timings for stories: fast enough for CI, slow enough to watch a backoff happen. */
export const STORY_CLIENT_DEFAULTS = {
  reconnect: { initialDelayMs: 150, maxDelayMs: 1000, minUptimeMs: 2000 },
  handshakeTimeoutMs: 2000,
} as const;

/** Default budget of `until`. */
const UNTIL_MS = 5000;
/** `until` also re-checks on this period, for conditions no timeline entry announces. */
const POLL_MS = 25;

/** How to run a story. */
export interface RunStoryOptions {
  readonly stage: StageControl;
  /** Where the client connects: the stage's fault proxy. */
  readonly url: string;
  /** The WebSocket class for the client. @default isomorphic-ws (browser WebSocket in the page) */
  readonly WebSocket?: WebSocketClass;
  /** A timeline to record into, e.g. one the page already listens to. @default a new one */
  readonly timeline?: Timeline;
  /** Pause after each narrated step so a person can follow along. @default 0 */
  readonly stepPauseMs?: number;
  /** Called with each client the story creates (the page shows its `info`). */
  readonly onClient?: (client: GatewayClient) => void;
}

/** The outcome of a run. */
export interface StoryResult {
  readonly name: string;
  readonly ok: boolean;
  /** Why it failed: an assertion, a timeout, or an unexpected error. */
  readonly error?: { readonly name: string; readonly message: string };
  readonly durationMs: number;
  readonly timeline: Timeline;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Wrap the stage so each side effect appears on the timeline before it happens. */
function narrated(stage: StageControl, timeline: Timeline): StageControl {
  const say = (text: string): void => timeline.add({ kind: 'server', text });
  // Errors until the next join are what the story meant to cause, and the timeline marks them so.
  const fault = (text: string): void => timeline.add({ kind: 'server', text, fault: true });
  const range = (p: { min: number; max: number } | undefined): string => (p ? ` (protocol ${p.min}..${p.max})` : '');
  return {
    drop: () => (fault('network: drop every connection (TCP reset)'), stage.drop()),
    stall: () => (fault('network: stall (half-open: sockets stay open, nothing flows)'), stage.stall()),
    resume: () => (say('network: heal the stall'), stage.resume()),
    refuse: (on) => ((on ? fault : say)(on ? 'network: down (new connections are reset)' : 'network: up again'), stage.refuse(on)),
    crashGateway: () => (fault('gateway: crash (no close frames)'), stage.crashGateway()),
    bootGateway: (o) => (say(`gateway: start ${o.keepLog ? 'with its log' : 'with a fresh, empty log'}${range(o.protocol)}`), stage.bootGateway(o)),
    deploy: (o) => (say(`gateway: deploy a new instance${range(o.protocol)}, drain the old one`), stage.deploy(o)),
    publish: async (sessionId, count, type) => {
      const seqs = await stage.publish(sessionId, count, type);
      say(`gateway: published ${count} ${type ?? 'tick'} event(s), #${seqs[0] ?? '?'}..#${seqs[seqs.length - 1] ?? '?'}`);
      return seqs;
    },
    setState: (sessionId, state) => (say(`gateway: set session state ${JSON.stringify(state)}`), stage.setState(sessionId, state)),
    stats: () => stage.stats(),
  };
}

/** Run `story` and report; never throws for a story failure. */
export async function runStory(story: Story, options: RunStoryOptions): Promise<StoryResult> {
  const timeline = options.timeline ?? createTimeline();
  const clients: GatewayClient[] = [];
  const detach: Array<() => void> = [];
  const started = Date.now();
  const pauseMs = options.stepPauseMs ?? 0;

  const ctx: StoryContext = {
    stage: narrated(options.stage, timeline),
    timeline,
    client(overrides = {}) {
      const client = createGatewayClient({
        ...STORY_CLIENT_DEFAULTS,
        agentId: 'demo',
        ...overrides,
        url: options.url,
        inspect: timeline.inspect,
        ...(options.WebSocket === undefined ? {} : { WebSocket: options.WebSocket }),
      });
      clients.push(client);
      detach.push(timeline.attach(client));
      options.onClient?.(client);
      return client;
    },
    async step(text) {
      timeline.add({ kind: 'step', text });
      if (pauseMs > 0) await delay(pauseMs);
    },
    until(label, check, timeoutMs = UNTIL_MS) {
      return new Promise((resolve, reject) => {
        let done = false;
        const finish = (fn: () => void): void => {
          if (done) return;
          done = true;
          clearTimeout(deadline);
          clearInterval(poll);
          unsubscribe();
          fn();
        };
        const probe = (): void => {
          let value;
          try {
            value = check();
          } catch (error) {
            finish(() => reject(error));
            return;
          }
          if (value !== undefined && value !== false && value !== null) finish(() => resolve(value));
        };
        const deadline = setTimeout(() => finish(() => reject(new StoryAssertionError(`timed out after ${timeoutMs} ms waiting for ${label}`))), timeoutMs);
        const poll = setInterval(probe, POLL_MS);
        const unsubscribe = timeline.subscribe(probe);
        probe();
      });
    },
    async quietFor(label, ms, happened) {
      // An observation window, not a sleep: the claim is that nothing happens during it.
      await delay(ms);
      ctx.expect(!happened(), `${label} (watched for ${ms} ms)`);
    },
    expect(condition, label, detail) {
      if (!condition) throw new StoryAssertionError(`expected ${label}`, detail);
      timeline.add({ kind: 'check', text: `ok: ${label}` });
    },
  };

  let error: StoryResult['error'];
  try {
    await story.run(ctx);
  } catch (caught) {
    error = caught instanceof Error ? { name: caught.name, message: caught.message } : { name: 'Error', message: String(caught) };
    timeline.add({ kind: 'check', text: `FAILED: ${error.message}` });
  } finally {
    await Promise.all(clients.map((client) => client.disconnect()));
    detach.forEach((off) => off());
  }
  return { name: story.name, ok: error === undefined, ...(error === undefined ? {} : { error }), durationMs: Date.now() - started, timeline };
}
