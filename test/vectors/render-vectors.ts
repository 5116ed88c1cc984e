// Test vectors from the TypeScript code, for other clients to replay (clients/python/tests/vectors):
// the model-based paths of test/model (events and the state after each), backoff delays for
// given random draws, the retry schedule's tiers (probe window included), gap-tracker decisions, outbox behaviour, the node each attempt goes to
// (gateway-url-vectors.ts), and the frame router on the recorded PraisonAI transcripts. Deterministic: seeded PRNG, fixed ids.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transition } from 'xstate';
import { backoffDelay, planRetry, type ReconnectOptions, type RetryTier } from '../../machines/backoff.js';
import { connectError } from '../../src/client/errors.js';
import { createGapTracker, type HandshakeAnswer } from '../../src/client/gap-tracker.js';
import { createOutbox, type OutboundMessage } from '../../src/client/outbox.js';
import { createFrameRouter } from '../../src/client/frame-router.js';
import type { SendResult } from '../../src/client/types.js';
import { gatewayMachine, type GatewayMachineEvent } from '../../machines/gateway-machine.js';
import { CLOSE_CODE_FOR_ERROR, CLOSE_CODE_TABLE, ERROR_INFO, MAX_SERVER_FRAME_BYTES, MAX_SERVER_FRAME_DEPTH, classifyClose, closeAsksToWait, closeMeansTooBig, isTerminal } from '../../src/protocol/index.js';
import { createRng, type Rng } from '../chaos/prng.js';
import { ACTION_TABLE } from '../model/actions.js';
import { gatewayUrlVectors } from './gateway-url-vectors.js';
import { nestingCases } from './frame-limit-vectors.js';
import type { ChartSnapshot } from '../model/chart.js';
import { MODEL_PROFILES } from '../model/profiles.js';
import { planPaths, type Plan } from '../model/paths.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A chart event as data; delayed events become `{type: "after", delay}`. */
function eventData(event: { readonly type: string } & Record<string, unknown>): Json {
  const after = /^xstate\.after\.([^.]+)\./.exec(event.type);
  if (after) return { type: 'after', delay: after[1] ?? '' };
  const { variant: _variant, ...rest } = event;
  return JSON.parse(JSON.stringify(rest)) as Json;
}

/** The state after a step: its dotted leaf, and the context a second implementation must agree on. */
function stateData(snapshot: ChartSnapshot): Json {
  const { attempt, retryInMs, backoffLeftMs, lastClose, failure, error, handshake, protocol, heartbeatMs, online, outage, tokenRefresh } = snapshot.context;
  return JSON.parse(JSON.stringify({ value: leaf(snapshot.value), context: { attempt, retryInMs, backoffLeftMs, lastClose, failure, error, handshake, protocol, heartbeatMs, online, outage, tokenRefresh } })) as Json;
}

function leaf(value: unknown): string {
  if (typeof value === 'string') return value;
  const [key, child] = Object.entries(value as Record<string, unknown>)[0] ?? ['', ''];
  return `${key}.${leaf(child)}`;
}

/** The model-path vector file: every path of `plan`, replayed from the initial state with the chart's own `transition`. */
export function renderModelVectors(plan: Plan = planPaths(ACTION_TABLE, MODEL_PROFILES)): string {
  return `${JSON.stringify(modelVectors(plan))}\n`;
}

function modelVectors(plan: Plan): Json {
  return plan.paths.map((path) => {
    const input = path.profile.input;
    const random = input.random?.() ?? 0.5;
    return {
      profile: path.profile.name,
      purpose: path.purpose,
      input: JSON.parse(JSON.stringify({ reconnect: input.reconnect ?? {}, handshakeTimeoutMs: input.handshakeTimeoutMs ?? null, online: input.online ?? true, refreshableToken: input.refreshableToken ?? false, random })) as Json,
      steps: path.steps.map((step) => {
        const [after] = transition(gatewayMachine, step.before, step.event as unknown as GatewayMachineEvent);
        return { event: eventData(step.event as unknown as { type: string } & Record<string, unknown>), after: stateData(after) };
      }),
    };
  });
}

/** `backoffDelay` for a grid of options, attempts and random draws. */
export function backoffVectors(): Json {
  const rng = createRng(12);
  const optionSets: ReconnectOptions[] = [
    {},
    { initialDelayMs: 250, maxDelayMs: 5000, jitter: 1 },
    { initialDelayMs: 100, maxDelayMs: 30_000, multiplier: 1.5, jitter: 0.3 },
    { initialDelayMs: 1000, maxDelayMs: 1000, jitter: 0 },
    { initialDelayMs: 7, maxDelayMs: 123_456, multiplier: 3.7, jitter: 0.55 },
  ];
  const cases: Json[] = [];
  for (const options of optionSets) {
    for (const attempt of [0, 1, 2, 3, 5, 8, 13, 40, 2000]) {
      for (const random of [0, 0.5, 0.999999, rng.next(), rng.next()]) {
        cases.push({ options: options as Json, attempt, random, delay: backoffDelay(attempt, options, () => random) });
      }
    }
  }
  return cases;
}

/** `planRetry` for a grid of options, tiers, failure counts, carried backoff, draws and floors. */
export function retryVectors(): Json {
  const rng = createRng(20);
  const optionSets: ReconnectOptions[] = [
    {},
    { probeWindowMs: 0, suspendedMaxDelayMs: 60_000 },
    { initialDelayMs: 1000, multiplier: 1, jitter: 0 },
    { initialDelayMs: 100, maxDelayMs: 400, multiplier: 1.5, jitter: 0.3 },
  ];
  const tiers: RetryTier[] = ['probing', 'young', 'old'];
  const cases: Json[] = [];
  for (const options of optionSets) {
    for (const tier of tiers) {
      for (const failures of [1, 2, 3, 7, 40]) {
        for (const leftMs of [0, 90, 1500]) {
          for (const floorMs of [0, 700]) {
            // Two draws: the backoff step (when none is carried), then the probe.
            const randoms = [rng.next(), rng.next()];
            const queue = [...randoms];
            const plan = planRetry(failures, leftMs, tier, options, () => queue.shift() ?? 0, floorMs);
            cases.push({ options: options as Json, tier, failures, leftMs, floorMs, randoms, waitMs: plan.waitMs, planLeftMs: plan.leftMs });
          }
        }
      }
    }
  }
  return cases;
}

type TrackerOp =
  | { op: 'resumeRequest' }
  | { op: 'handshake'; answer: HandshakeAnswer }
  | { op: 'accept'; seq: number; replayed: boolean; epoch: string | null }
  | { op: 'caughtUp'; epoch: string | null }
  | { op: 'snapshot'; cursor: number | null; epoch: string | null }
  | { op: 'forgetSession' };

function randomTrackerOp(rng: Rng, state: { cursor: number; session: string | null }): TrackerOp {
  const epochs = ['A', 'A', 'A', 'B', 'C'];
  const roll = rng.int(0, 19);
  if (roll < 11) return { op: 'accept', seq: rng.int(1, Math.max(3, state.cursor + 4)), replayed: rng.chance(0.3), epoch: rng.chance(0.7) ? null : rng.pick(epochs) };
  if (roll < 13) return { op: 'resumeRequest' };
  if (roll < 16) {
    const head = rng.int(0, state.cursor + 6);
    const answer: HandshakeAnswer = {
      sessionId: rng.chance(0.8) ? (state.session ?? 's1') : rng.pick(['s1', 's2', 's3']),
      resumed: rng.chance(0.8),
      head,
      epoch: rng.chance(0.8) ? rng.pick(epochs) : undefined,
      oldest: rng.chance(0.5) ? rng.int(0, head + 1) : undefined,
      gap: rng.chance(0.2) ? { expected: rng.int(1, head + 2), received: rng.int(1, head + 2) } : undefined,
      resyncRequired: rng.chance(0.2),
    };
    return { op: 'handshake', answer };
  }
  if (roll < 17) return { op: 'caughtUp', epoch: rng.chance(0.5) ? null : rng.pick(epochs) };
  if (roll < 19) return { op: 'snapshot', cursor: rng.chance(0.8) ? rng.int(0, state.cursor + 5) : null, epoch: rng.chance(0.5) ? null : rng.pick(epochs) };
  return { op: 'forgetSession' };
}

/** Seeded random scripts against the gap tracker: each op, what it emitted, and the tracker after it. */
export function gapTrackerVectors(): Json {
  const rng = createRng(2024);
  const scripts: Json[] = [];
  for (let s = 0; s < 60; s++) {
    const out: Json[] = [];
    const startSession = rng.chance(0.3) ? 's1' : undefined;
    const tracker = createGapTracker(
      {
        event: (e) => out.push({ event: e.seq, replayed: e.replayed }),
        gap: (g) => out.push({ gap: { expected: g.expected, received: g.received, reason: g.reason } }),
      },
      startSession,
    );
    const steps: Json[] = [];
    for (let i = 0; i < rng.int(4, 30); i++) {
      const op = randomTrackerOp(rng, { cursor: tracker.cursor, session: tracker.sessionId });
      out.length = 0;
      let result: Json = null;
      switch (op.op) {
        case 'resumeRequest':
          result = tracker.resumeRequest() as Json;
          break;
        case 'handshake':
          tracker.handshake(op.answer);
          break;
        case 'accept':
          tracker.accept(op.seq, { type: 't', data: op.seq }, op.replayed, op.epoch ?? undefined, null);
          break;
        case 'caughtUp':
          tracker.caughtUp(op.epoch ?? undefined);
          break;
        case 'snapshot':
          tracker.snapshot(op.cursor ?? undefined, op.epoch ?? undefined);
          break;
        case 'forgetSession':
          tracker.forgetSession();
          break;
      }
      const opData = JSON.parse(JSON.stringify(op, (_k, v: unknown) => (v === undefined ? null : v))) as Json;
      steps.push({
        op: opData,
        result,
        out: [...out],
        after: { sessionId: tracker.sessionId, cursor: tracker.cursor, epoch: tracker.epoch, resume: tracker.resume as Json },
      });
    }
    scripts.push({ sessionId: startSession ?? null, steps });
  }
  return scripts;
}

type OutboxOp =
  | { op: 'add'; content: number; maxBytes?: number }
  | { op: 'flush'; okWrites: number; acks: boolean; maxBytes?: number }
  | { op: 'writeOne'; pick: number; acks: boolean; ok: boolean }
  | { op: 'ack'; pick: number; duplicate: boolean }
  | { op: 'fail'; pick: number }
  | { op: 'rejectAll' }
  | { op: 'tooBig'; closeCode: number };

/**
 * Seeded random scripts against the outbox: frames written, sends settled, the size after each op,
 * and the limit a 1009/4009 close taught it. `maxBytes` is the announced policy.max_payload; the
 * contents are small numbers, so their frames (ids m1, m2, ...) are 40 to 42 bytes.
 */
export async function outboxVectors(): Promise<Json> {
  const rng = createRng(77);
  const scripts: Json[] = [];
  for (let s = 0; s < 40; s++) {
    const max = rng.int(1, 5);
    let counter = 0;
    const outbox = createOutbox(max, () => `m${++counter}`);
    const settled: Json[] = [];
    const steps: Json[] = [];
    let content = 0;
    for (let i = 0; i < rng.int(5, 30); i++) {
      const roll = rng.int(0, 12);
      const maxBytes = (): { maxBytes?: number } => (rng.chance(0.2) ? { maxBytes: rng.int(39, 42) } : {});
      const op: OutboxOp =
        roll < 4
          ? { op: 'add', content: ++content, ...maxBytes() }
          : roll < 7
            ? { op: 'flush', okWrites: rng.int(0, 4), acks: rng.chance(0.8), ...maxBytes() }
            : roll < 8
              ? { op: 'writeOne', pick: rng.int(1, counter + 1), acks: rng.chance(0.8), ok: rng.chance(0.8) }
              : roll < 10
                ? { op: 'ack', pick: rng.int(1, counter + 1), duplicate: rng.chance(0.3) }
                : roll < 11
                  ? { op: 'fail', pick: rng.int(1, counter + 1) }
                  : roll < 12
                    ? { op: 'tooBig', closeCode: rng.chance(0.5) ? 1009 : 4009 }
                    : { op: 'rejectAll' };
      const written: Json[] = [];
      let budget = op.op === 'flush' ? op.okWrites : op.op === 'writeOne' && op.ok ? 1 : 0;
      const write = (frame: OutboundMessage): boolean => {
        if (budget <= 0) return false;
        budget -= 1;
        written.push({ id: frame.id, content: (JSON.parse(frame.text) as { content: Json }).content });
        return true;
      };
      settled.length = 0;
      let learned: number | null = null;
      switch (op.op) {
        case 'add': {
          const { id, done } = outbox.add(op.content, op.maxBytes);
          const label = id === '' ? `rejected:${op.content}` : id;
          done.then(
            (r: SendResult) => settled.push({ id: label, resolved: { id: r.id, duplicate: r.duplicate, acknowledged: r.acknowledged } }),
            (e: { code: string; closeCode?: number }) => settled.push({ id: label, rejected: e.code, ...(e.closeCode === undefined ? {} : { closeCode: e.closeCode }) }),
          );
          break;
        }
        case 'flush':
          outbox.flush(write, op.acks, op.maxBytes);
          break;
        case 'writeOne':
          outbox.writeOne(`m${op.pick}`, write, op.acks);
          break;
        case 'ack':
          outbox.ack(`m${op.pick}`, op.duplicate);
          break;
        case 'fail':
          outbox.fail(`m${op.pick}`, connectError('payload_too_large', 'too big'));
          break;
        case 'rejectAll':
          outbox.rejectAll(connectError('client_closed', 'closed'));
          break;
        case 'tooBig':
          learned = outbox.refuseLargestInFlight(op.closeCode) ?? null;
          break;
      }
      // Let the promise callbacks run, so each step records what it settled.
      await new Promise((resolve) => setImmediate(resolve));
      steps.push({ op: op as unknown as Json, written, settled: [...settled], size: outbox.size, learned });
    }
    scripts.push({ maxMessages: max, steps });
  }
  return scripts;
}

/** The protocol tables a client mirrors: close codes by name and their reactions, error codes and their steps, the limits on frames it reads. */
export function protocolVectors(): Json {
  // Every named code, and codes no table names (1005, an unknown 4xxx), which must back off.
  const codes = [...CLOSE_CODE_TABLE.map((row) => row.code), 1005, 4001, 4999];
  const steps = [undefined, 'reauthenticate', 'upgrade_client', 'downgrade_client', 'wait_then_retry', 'do_not_retry', 'something_new'];
  const errorCodes = [...Object.keys(ERROR_INFO), 'a_code_from_the_future'];
  return {
    closeCodeForError: CLOSE_CODE_FOR_ERROR as Json,
    // Each close code's name, so other clients use the same names (Python: CLOSE_ + SCREAMING_SNAKE).
    closeCodeNames: Object.fromEntries(CLOSE_CODE_TABLE.map((row) => [row.name, row.code])),
    classifyClose: Object.fromEntries(codes.map((code) => [String(code), classifyClose(code)])),
    closeAsksToWait: codes.filter((code) => closeAsksToWait(code)) as Json,
    closeMeansTooBig: codes.filter((code) => closeMeansTooBig(code)).sort((a, b) => a - b) as Json,
    errorInfo: Object.fromEntries(Object.entries(ERROR_INFO).map(([code, info]) => [code, { recoverable: info.recoverable, nextStep: info.nextStep }])),
    isTerminal: errorCodes.flatMap((code) => steps.map((step) => ({ code, nextStep: step ?? null, terminal: isTerminal(code, step) }))),
    frameLimits: { maxServerFrameBytes: MAX_SERVER_FRAME_BYTES, maxServerFrameDepth: MAX_SERVER_FRAME_DEPTH },
    nesting: nestingCases() as unknown as Json,
  };
}

/**
 * Every vector file but `model-paths.json`, by name, as written by `npm run chart`. The model
 * paths take seconds to plan, so test/model/model.test.ts checks that file with its own plan.
 */
export async function renderVectors(): Promise<Record<string, string>> {
  const files: Record<string, Json> = {
    'backoff.json': backoffVectors(),
    'retry.json': retryVectors(),
    'gap-tracker.json': gapTrackerVectors(),
    'gateway-urls.json': gatewayUrlVectors(),
    'outbox.json': await outboxVectors(),
    'praisonai-transcripts.json': praisonaiVectors(),
    'protocol.json': protocolVectors(),
  };
  return Object.fromEntries(Object.entries(files).map(([name, data]) => [name, `${JSON.stringify(data)}\n`]));
}

interface TranscriptEntry {
  readonly dir: string;
  readonly conn?: string;
  readonly frame?: Record<string, unknown>;
}

/**
 * The PraisonAI transcripts (test/fixtures/praisonai-gateway), connection by connection, through
 * the real frame router and tracker: what each `recv` frame produced. The tracker starts where the
 * recorded client claimed to be (its handshake's `session_id` and `since`).
 */
export function praisonaiVectors(): Json {
  const dir = join(import.meta.dirname, '../fixtures/praisonai-gateway');
  const cases: Json[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const entries = (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { transcript: TranscriptEntry[] }).transcript;
    const conns = [...new Set(entries.map((e) => e.conn).filter((c): c is string => c !== undefined))];
    for (const conn of conns) {
      const mine = entries.filter((e) => e.conn === conn);
      const handshake = mine.find((e) => e.dir === 'send' && (e.frame?.['type'] === 'hello' || e.frame?.['type'] === 'join'))?.frame;
      const out: Json[] = [];
      const sessionId = typeof handshake?.['session_id'] === 'string' ? handshake['session_id'] : undefined;
      const since = typeof handshake?.['since'] === 'number' ? handshake['since'] : 0;
      const tracker = createGapTracker(
        {
          event: (e) => out.push({ event: { seq: e.seq, type: e.type, data: (e.data ?? null) as Json, eventId: e.eventId ?? null, timestamp: e.timestamp ?? null, source: e.source ?? null, replayed: e.replayed } }),
          gap: (g) => out.push({ gap: { expected: g.expected, received: g.received, reason: g.reason } }),
        },
        sessionId,
        { cursor: since },
      );
      tracker.resumeRequest();
      const mode = handshake?.['type'] === 'join' ? 'join' : 'hello';
      const route = createFrameRouter(
        {
          tracker,
          send: (frame) => out.push({ send: frame as Json }),
          lifecycle: (event) => out.push({ lifecycle: event as Json }),
          sendJoin: () => out.push({ send: { type: 'join' } }),
          stopped: () => false,
          accepted: () => undefined,
          ack: (id, duplicate) => out.push({ ack: { id, duplicate } }),
          messageError: (id, e) => out.push({ messageError: { id, code: e.code } }),
          messageRetry: (id, afterMs) => out.push({ messageRetry: { id, afterMs } }),
          snapshot: (s) => out.push({ snapshot: s.cursor }),
          error: (e) => out.push({ error: e.code }),
        },
        mode,
      );
      const frames = mine.filter((e) => e.dir === 'recv' && e.frame).map((e) => JSON.stringify(e.frame));
      for (const text of frames) route(text);
      const protocol = handshake?.['type'] === 'join' ? [handshake['min_version'] ?? 1, handshake['max_version'] ?? 1] : [handshake?.['protocol_min'] ?? 1, handshake?.['protocol_max'] ?? 2];
      cases.push({
        case: `${file.replace(/\.json$/, '')}/${conn}`,
        handshake: mode,
        protocol: protocol as Json,
        sessionId: sessionId ?? null,
        since,
        frames,
        out,
        after: { sessionId: tracker.sessionId, cursor: tracker.cursor, epoch: tracker.epoch, resume: tracker.resume as Json },
      });
    }
  }
  return cases;
}
