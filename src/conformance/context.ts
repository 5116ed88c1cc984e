// What every rule gets: the gateway's answers to a first hello, and helpers that open probes,
// say hello and provoke events, all bounded by the configured timeouts and closed after the rule.
import { withUrlToken } from '../protocol/credentials.js';
import { PROTOCOL_VERSION } from '../protocol/versions.js';
import { isNumbered, seqsOf } from './frames.js';
import { Probe } from './probe.js';
import { httpUrlOf, SseProbe } from './sse-probe.js';
import type { ConformanceOptions, HelloExchange, RuleContext, ServerInfo } from './types.js';

const REPLY_TYPES = ['hello_ok', 'hello_error', 'error', 'joined'];

/**
 * Build the URL the kit connects to: the given path and query, plus `?token=` when given, on any
 * path (the kit's hellos vary on purpose, so the URL is the one place a token always reaches).
 */
export function targetUrl(url: string, token: string | undefined): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new Error(`expected a ws:// or wss:// URL, got ${parsed.protocol}`);
  return withUrlToken(parsed.toString(), token);
}

/** The default hello, with overrides; an override of `undefined` drops the field. */
export function helloFrame(agentId: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  const frame: Record<string, unknown> = {
    type: 'hello',
    agent_id: agentId,
    protocol_min: 1,
    protocol_max: PROTOCOL_VERSION,
    capabilities: ['ack', 'batch', 'epoch'],
    ...fields,
  };
  return Object.fromEntries(Object.entries(frame).filter(([, value]) => value !== undefined));
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

/** Read extensions, policy and protocol range from a `hello_ok`. */
export function serverInfo(helloOk: Record<string, unknown>): ServerInfo {
  const features = (helloOk['features'] ?? {}) as Record<string, unknown>;
  const extensions = Array.isArray(features['extensions']) ? features['extensions'].filter((e): e is string => typeof e === 'string') : [];
  const health = (helloOk['health'] ?? {}) as Record<string, unknown>;
  const healthRange = (typeof health === 'object' && health !== null ? health['protocol'] : undefined) as Record<string, unknown> | undefined;
  const min = num(helloOk['server_min']) ?? num(healthRange?.['min']);
  const max = num(helloOk['server_max']) ?? num(healthRange?.['max']);
  const negotiated = num(helloOk['protocol']) ?? 1;
  return {
    helloOk,
    extensions: new Set(extensions),
    policy: (helloOk['policy'] ?? {}) as Record<string, unknown>,
    // Without an advertised range, the version agreed for 1..PROTOCOL_VERSION is the best guess
    // of the top; the negotiation rules probe above it to confirm.
    range: { min: min ?? 1, max: max ?? negotiated, known: min !== undefined && max !== undefined },
  };
}

/** Mutable parts of a context, owned by the runner. */
export interface ContextHandle {
  readonly ctx: RuleContext;
  /** Close every probe opened since the last call. */
  closeProbes(): Promise<void>;
}

export interface ContextSettings {
  readonly url: string;
  readonly agentId: string;
  readonly timeoutMs: number;
  readonly quietMs: number;
  readonly maxHeartbeatWaitMs: number;
  readonly maxProvokedEvents: number;
  readonly requireHttp: boolean;
}

/** Resolve option defaults. */
export function contextSettings(options: ConformanceOptions): ContextSettings {
  return {
    url: targetUrl(options.url, options.token),
    agentId: options.agentId,
    timeoutMs: options.timeoutMs ?? 5000,
    quietMs: options.quietMs ?? 300,
    maxHeartbeatWaitMs: options.maxHeartbeatWaitMs ?? 65_000,
    maxProvokedEvents: options.maxProvokedEvents ?? 400,
    requireHttp: options.requireHttp ?? false,
  };
}

/** Open a probe and say hello; a `rate_limited` refusal is retried once after its hint, as a client would. */
async function sayHello(settings: ContextSettings, open: () => Promise<Probe>, fields: Record<string, unknown>): Promise<HelloExchange> {
  for (let attempt = 0; ; attempt++) {
    const probe = await open();
    const mark = probe.mark();
    probe.send(helloFrame(settings.agentId, fields));
    const reply = await probe.waitForType(REPLY_TYPES, settings.timeoutMs, mark);
    const retryMs = (num(reply?.['retry_after_seconds']) ?? 1) * 1000;
    if (reply?.['code'] === 'rate_limited' && attempt === 0 && retryMs <= settings.timeoutMs) {
      await probe.close();
      await new Promise((resolve) => setTimeout(resolve, retryMs));
      continue;
    }
    const index = reply ? probe.frames.findIndex((f) => f.json === reply) : probe.frames.length - 1;
    return { probe, reply, after: index + 1 };
  }
}

/** Create the context shared by all rules of one run. */
export function createContext(settings: ContextSettings, info: ServerInfo): ContextHandle {
  const probes: Array<Probe | SseProbe> = [];
  const memos = new Map<string, Promise<unknown>>();
  const open = async (): Promise<Probe> => {
    const probe = await Probe.open(settings.url, settings.timeoutMs);
    probes.push(probe);
    return probe;
  };
  const ctx: RuleContext = {
    ...settings,
    info,
    httpUrl: httpUrlOf(settings.url),
    open,
    async openStream(url, headers = {}) {
      const probe = await SseProbe.open(url, headers, settings.timeoutMs);
      probes.push(probe);
      return probe;
    },
    hello: (fields = {}) => sayHello(settings, open, fields),
    async converse(probe, content, id) {
      const mark = probe.mark();
      probe.send(id === undefined ? { type: 'message', content } : { type: 'message', id, content });
      const first = await probe.waitFor(isNumbered, settings.timeoutMs, mark);
      if (!first) return [];
      return seqsOf(await probe.settle(isNumbered, settings.quietMs, settings.timeoutMs, mark));
    },
    memo<T>(key: string, make: () => Promise<T>): Promise<T> {
      let value = memos.get(key) as Promise<T> | undefined;
      if (!value) {
        value = make();
        memos.set(key, value);
      }
      return value;
    },
  };
  return {
    ctx,
    async closeProbes() {
      const open = probes.splice(0);
      await Promise.all(open.map((probe) => probe.close()));
    },
  };
}
