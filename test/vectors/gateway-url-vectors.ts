// Vectors for which node each attempt goes to (src/client/gateway-urls.ts), for other clients to
// replay: the `url` option's problems, the http(s) -> ws(s) mapping, and scripted chart runs
// through failures, drops, a drain and a shutdown, with the node a list picks at each attempt and
// the context a url function is given there; and where a token goes and how it is hidden
// (src/protocol/credentials.ts).
import { initialTransition, transition } from 'xstate';
import { connectFailure } from '../../src/client/connect-failure.js';
import { createUrlPicker, gatewayUrl, gatewayUrlProblem, type GatewayUrlContext } from '../../src/client/gateway-urls.js';
import { CloseCode, placeToken, redactTokens } from '../../src/protocol/index.js';
import { authRequiredHint, scrubSecret } from '../../src/protocol/credentials.js';
import { gatewayMachine, type GatewayMachineEvent, type GatewayMachineInput } from '../../machines/gateway-machine.js';
import { pendingDelayedEvents, type ChartSnapshot } from '../model/chart.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A script step: a chart event, or a delayed one named by its delay (fired from the one state that runs it). */
type ScriptEvent = GatewayMachineEvent | { readonly type: 'after'; readonly delay: string };

interface Script {
  readonly purpose: string;
  readonly urls: readonly string[];
  readonly events: readonly ScriptEvent[];
}

const INPUT = { reconnect: { initialDelayMs: 100, maxDelayMs: 1000, minUptimeMs: 500 }, random: 0.5 } as const;

const accepted = { type: 'hello.accepted', protocol: 2, heartbeatMs: 1000 } as const;
const after = (delay: string): ScriptEvent => ({ type: 'after', delay });

const SCRIPTS: readonly Script[] = [
  {
    purpose: 'a list of three, round and round: a refusal, a stable join, a drain, a shutdown, a handshake timeout, a drop before the join, a restart by the app',
    urls: ['ws://a.test:8001/ws', 'http://b.test:8002/ws', 'wss://c.test/ws'],
    events: [
      { type: 'user.connect' },
      { type: 'socket.closed', code: 1006, reason: 'ECONNREFUSED' },
      after('retryDelay'),
      { type: 'socket.opened' },
      accepted,
      { type: 'caught_up' },
      after('stableUptime'),
      { type: 'draining', reconnectAfterMs: 0 },
      after('retryDelay'),
      { type: 'socket.opened' },
      accepted,
      { type: 'socket.closed', code: 1001, reason: 'shutdown' },
      after('retryDelay'),
      after('handshakeTimeout'),
      after('retryDelay'),
      { type: 'socket.opened' },
      { type: 'socket.closed', code: 1006, reason: '' },
      after('retryDelay'),
      { type: 'user.disconnect' },
      { type: 'user.connect' },
    ],
  },
  {
    purpose: 'two nodes: a missed heartbeat, then a refusal that asks to wait',
    urls: ['ws://127.0.0.1:8787', 'HTTPS://NODE-B.test'],
    events: [
      { type: 'user.connect' },
      { type: 'socket.opened' },
      accepted,
      { type: 'heartbeat.missed' },
      after('retryDelay'),
      { type: 'socket.opened' },
      { type: 'hello.rejected', code: 'rate_limited', message: 'slow down', nextStep: 'wait_then_retry', retryAfterMs: 2000 },
      after('retryDelay'),
      { type: 'socket.opened' },
      accepted,
    ],
  },
];

/** The delayed event `after(delay)` stands for: exactly one running timer must have that delay. */
function chartEvent(snapshot: ChartSnapshot, event: ScriptEvent): GatewayMachineEvent {
  if (event.type !== 'after') return event;
  // One entry per guarded branch of the same delay: the same event.
  const pending = [...new Set(pendingDelayedEvents(snapshot).filter((type) => type.startsWith(`xstate.after.${event.delay}.`)))];
  if (pending.length !== 1) throw new Error(`gateway-url vectors: no single running ${event.delay} timer (${pending.join(', ')})`);
  return { type: pending[0] } as unknown as GatewayMachineEvent; // delayed events are valid input to `transition`
}

function runScript(script: Script): Json {
  const input: GatewayMachineInput = { reconnect: INPUT.reconnect, random: () => INPUT.random, nodes: script.urls.length };
  let [snapshot] = initialTransition(gatewayMachine, input);
  const list = createUrlPicker(script.urls);
  let previousUrl: string | null = null;
  const steps: Json[] = [];
  for (const event of script.events) {
    const [next, actions] = transition(gatewayMachine, snapshot, chartEvent(snapshot, event));
    snapshot = next;
    // Each `openSocket` (spawning the socket actor) is one attempt, and asks for a URL.
    const opened = actions.some((a) => a.type === 'xstate.spawnChild' && (a.params as { id?: string } | undefined)?.id === 'socket');
    let attempt: Json = null;
    if (opened) {
      const { attempt: failures, lastClose } = snapshot.context;
      // As create-gateway-client.ts builds it: 1001 (a drain or a shutdown) moves on without a failure.
      const context: GatewayUrlContext = { attempt: failures, previousUrl, lastClose, drain: lastClose?.code === CloseCode.GoingAway };
      // The chart goes round the list: the node is its choice.
      const url = list.next(context, snapshot.context.node);
      attempt = { url, context: JSON.parse(JSON.stringify(context)) as Json };
      previousUrl = url;
    }
    steps.push({ event: event as unknown as Json, value: leaf(snapshot.value), attempt });
  }
  return { purpose: script.purpose, input: INPUT as unknown as Json, urls: [...script.urls], steps };
}

function leaf(value: unknown): string {
  if (typeof value === 'string') return value;
  const [key, child] = Object.entries(value as Record<string, unknown>)[0] ?? ['', ''];
  return `${key}.${leaf(child)}`;
}

const OPTIONS: readonly unknown[] = [
  'ws://127.0.0.1:8787',
  'wss://gw.example/ws?token=t',
  'http://x/ws',
  'HTTPS://X',
  'ftp://x',
  'mailto:ops',
  'not a url',
  '',
  [],
  ['ws://a.test', 'ftp://b.test'],
  ['ws://a.test', 'not a url'],
  ['http://a.test', 'https://b.test/ws'],
];

/** URL and token option pairs: PraisonAI's /ws (bare, behind a prefix, with a query), other paths, the URL's own token. */
const PLACEMENTS: ReadonlyArray<readonly [string, string | null]> = [
  ['ws://127.0.0.1:8765/ws', 'peer-token'],
  ['wss://gw.example/praison/ws/', 'a b&c=d/é!*()'],
  ['ws://127.0.0.1:8765/ws?agent=echo#top', 'tok'],
  ['ws://127.0.0.1:8765/ws?', 'tok'],
  ['ws://127.0.0.1:8787', 'tok'],
  ['ws://127.0.0.1:8787/wss', 'tok'],
  ['ws://127.0.0.1:8787/ws', null],
  ['ws://127.0.0.1:8765/ws?token=mine', 'other'],
  ['ws://127.0.0.1:8765/ws?token=mine', null],
];

/** Texts a message may carry, and what either client shows of them. */
const SECRETS: readonly string[] = [
  'Could not connect to ws://127.0.0.1:1/ws?token=peer-test-token-1: refused',
  'wss://gw.example/ws?a=1&TOKEN=abc#frag and ws://x/?token=',
  'ws://alice:s3cret@gw.example:8080/ws?token=t%20u',
  'no URL here, token=plain stays',
];

/** Causes of a failed attempt, as Node's `ws` reports them (code, message), for the words both clients use. */
const FAILURES: ReadonlyArray<readonly [string | null, string, string]> = [
  ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8790', 'ws://127.0.0.1:8790'],
  [null, 'Unexpected server response: 200', 'ws://127.0.0.1:8790/ws?token=peer-test-token-1'],
  [null, 'Unexpected server response: 403', 'wss://gw.example/agents'],
  ['ENOTFOUND', 'getaddrinfo ENOTFOUND gateway.invalid', 'wss://gateway.invalid/ws'],
  ['EAI_AGAIN', 'getaddrinfo EAI_AGAIN gw.example', 'ws://gw.example:8080'],
  ['ETIMEDOUT', 'connect ETIMEDOUT 10.0.0.1:443', 'wss://10.0.0.1'],
  ['EHOSTUNREACH', 'connect EHOSTUNREACH', 'ws://user:pw@10.0.0.2:8787/ws'],
  ['ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number', 'wss://127.0.0.1:8790'],
  ['CERT_HAS_EXPIRED', 'certificate has expired', 'wss://gw.example/ws?token=abc'],
  ['EPIPE', 'write EPIPE ws://127.0.0.1:8790/ws?token=abc', 'ws://127.0.0.1:8790/ws?token=abc'],
  [null, 'InvalidURI: ws://x/ws?token=abc is not a valid URI', 'ws://x/ws?token=abc'],
];

/** The `gateway-urls.json` vector file's content. */
export function gatewayUrlVectors(): Json {
  return {
    problems: OPTIONS.map((url) => ({ url: url as Json, problem: gatewayUrlProblem(url) })),
    mapped: ['http://x/ws', 'https://x', 'HTTPS://X:1', 'Http://x', 'ws://x', 'wss://x'].map((url) => ({ url, mapped: gatewayUrl(url) })),
    failover: SCRIPTS.map(runScript),
    tokens: PLACEMENTS.map(([url, token]) => {
      const placement = placeToken(url, token ?? undefined);
      return { url, token, opened: placement.url, inHello: placement.inHello, inUrl: placement.inUrl, authHint: authRequiredHint(placement) };
    }),
    redacted: SECRETS.map((text) => ({ text, redacted: redactTokens(text), scrubbed: scrubSecret(text, 'peer-test-token-1') })),
    failures: FAILURES.map(([code, message, url]) => {
      const cause = { error: Object.assign(new Error(message), code === null ? {} : { code }), message };
      const { error, short } = connectFailure(cause, url, 1006);
      return { code, message, url, closeCode: 1006, error: { code: error.code, message: error.message, nextStep: error.nextStep, closeCode: error.closeCode ?? null }, short };
    }),
  };
}
