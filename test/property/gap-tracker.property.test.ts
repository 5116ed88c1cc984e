// The gap tracker behind the real frame router, fed wire text: arbitrary frame sequences give
// exactly the reference model's delivered stream and gap signals; the tracker and the gateway's
// resume rule agree on every handshake; and whole resume scenarios (drops, duplicates,
// reordered replay, batches, restarts with and without the log) lose nothing silently.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GapInfo } from '../../src/client/index.js';
import { createMemoryLog, type AppendResult, type EventLog, type LogPosition, type LogRead } from '../../src/server/index.js';
import { planResume } from '../../src/server/resume-plan.js';
import { createHistory, createStreamChecker } from '../chaos/stream-checker.js';
import { createHarness, helloOk, type Output } from './router-harness.js';

interface Item {
  readonly seq: number;
  readonly kind: 'event' | 'replay';
  readonly epoch: 'A' | 'B' | 'C' | undefined;
}

type Expected = { readonly kind: 'event'; readonly seq: number; readonly n: number } | { readonly kind: 'gap'; readonly gap: GapInfo };

/**
 * The rule of PROTOCOL.md section 4, written as directly as possible: within one history only
 * record-breaking seqs are delivered, a jump is a gap, and a frame from another epoch starts a
 * new history right before its seq.
 */
function referenceModel(items: readonly Item[], startEpoch: string): Expected[] {
  const out: Expected[] = [];
  let history = startEpoch;
  let high = 0;
  items.forEach((item, n) => {
    if (item.epoch !== undefined && item.epoch !== history) {
      out.push({ kind: 'gap', gap: { expected: high + 1, received: item.seq, reason: 'epoch' } });
      history = item.epoch;
      high = item.seq - 1;
    }
    if (item.seq <= high) return;
    if (item.seq > high + 1) out.push({ kind: 'gap', gap: { expected: high + 1, received: item.seq, reason: item.kind === 'replay' ? 'window' : 'live' } });
    out.push({ kind: 'event', seq: item.seq, n });
    high = item.seq;
  });
  return out;
}

function observed(outputs: readonly Output[]): Expected[] {
  return outputs.flatMap((o): Expected[] => {
    if (o.kind === 'gap') return [{ kind: 'gap', gap: o.gap }];
    if (o.kind === 'event') return [{ kind: 'event', seq: o.seq ?? -1, n: (o.data as { n: number }).n }];
    return [];
  });
}

const itemArb: fc.Arbitrary<Item> = fc.record({
  seq: fc.integer({ min: 1, max: 40 }),
  kind: fc.constantFrom('event' as const, 'replay' as const),
  epoch: fc.option(fc.constantFrom('A' as const, 'B' as const, 'C' as const), { nil: undefined, freq: 6 }),
});

describe('gap tracker: arbitrary frames against the reference model', () => {
  it('delivers exactly the reference stream and gaps, with batches, duplicates and epoch changes', () => {
    fc.assert(
      fc.property(fc.array(fc.array(itemArb, { minLength: 1, maxLength: 4 }), { maxLength: 40 }), (groups) => {
        const harness = createHarness();
        const send = harness.connect();
        send(helloOk({ session_id: 's', cursor: 0, epoch: 'A', oldest_cursor: 0, resumed: false }));
        const items: Item[] = [];
        for (const group of groups) {
          const frames = group.map((item) => {
            const n = items.push(item) - 1;
            return { type: item.kind, seq: item.seq, event: { type: 'tick', data: { n } }, ...(item.epoch === undefined ? {} : { epoch: item.epoch }) };
          });
          send(frames.length === 1 ? (frames[0] ?? {}) : { type: 'batch', frames });
        }
        expect(harness.errors).toEqual([]);
        expect(observed(harness.outputs)).toEqual(referenceModel(items, 'A'));
        // Whatever came in, what went out is strictly increasing within each history.
        const last = referenceModel(items, 'A').filter((e) => e.kind === 'event').at(-1);
        expect(harness.tracker.cursor).toBe(last?.seq ?? 0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('gap tracker and the gateway resume rule agree on every handshake', () => {
  it('lands on the replay start the gateway chose, and signals a gap exactly when it does', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 80 }),
        fc.constantFrom('S', 'X'),
        (head, window, since, clientEpoch) => {
          const oldest = head === 0 ? 0 : Math.max(1, head - window + 1);
          const harness = createHarness('sess');
          // First connection: bring the client to `since` in `clientEpoch`.
          const first = harness.connect();
          first(helloOk({ session_id: 'sess', cursor: since, epoch: clientEpoch, oldest_cursor: since === 0 ? 0 : 1, resumed: true }));
          for (let s = 1; s <= since; s++) first({ type: 'replay', seq: s, event: { type: 'tick', data: { n: s } } });
          first({ type: 'caught_up', cursor: since, epoch: clientEpoch });
          const before = harness.outputs.length;

          const request = harness.tracker.resumeRequest();
          expect(request).toEqual({ session_id: 'sess', since, epoch: clientEpoch });
          const plan = planResume({ since: request.since, epoch: request.epoch }, { epoch: 'S', oldest, head, movedUnseen: false });
          const second = harness.connect();
          second(helloOk({ session_id: 'sess', cursor: head, epoch: 'S', oldest_cursor: oldest, resumed: true, gap: plan.gap }));
          expect(harness.tracker.cursor).toBe(plan.replayAfter);
          for (let s = plan.replayAfter + 1; s <= head; s++) second({ type: 'replay', seq: s, event: { type: 'tick', data: { n: 1000 + s } } });
          second({ type: 'caught_up', cursor: head, epoch: 'S' });

          const after = harness.outputs.slice(before);
          const gaps = after.filter((o) => o.kind === 'gap');
          expect(gaps.map((o) => (o.kind === 'gap' ? { expected: o.gap.expected, received: o.gap.received } : null))).toEqual(plan.gap ? [plan.gap] : []);
          const seqs = after.flatMap((o) => (o.kind === 'event' ? [o.seq] : []));
          expect(seqs).toEqual(Array.from({ length: Math.max(0, head - plan.replayAfter) }, (_, i) => plan.replayAfter + 1 + i));
          expect(harness.tracker.epoch).toBe('S');
          expect(harness.tracker.resume?.mode).toBe(plan.gap ? (head >= plan.gap.received ? 'partial' : 'none') : 'full');
        },
      ),
      { numRuns: 400 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Whole scenarios against the real memory log and resume rule.

type Op =
  | { readonly op: 'publish'; readonly count: number }
  | { readonly op: 'connect'; readonly cut: number; readonly dupes: number; readonly batch: number; readonly swap: boolean; readonly live: number; readonly snapshot: boolean }
  | { readonly op: 'restart'; readonly keepLog: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('publish' as const), count: fc.integer({ min: 1, max: 12 }) }),
  fc.record({
    op: fc.constant('connect' as const),
    cut: fc.integer({ min: 0, max: 40 }),
    dupes: fc.integer({ min: 0, max: 4 }),
    batch: fc.integer({ min: 1, max: 5 }),
    swap: fc.boolean(),
    live: fc.integer({ min: 0, max: 6 }),
    snapshot: fc.boolean(),
  }),
  fc.record({ op: fc.constant('restart' as const), keepLog: fc.boolean() }),
);

/** Group frames into v2 batches of `size` (a batch of one is sent bare, as the gateway does). */
function batched(frames: readonly object[], size: number): object[] {
  const out: object[] = [];
  for (let i = 0; i < frames.length; i += size) {
    const chunk = frames.slice(i, i + size);
    out.push(chunk.length === 1 ? (chunk[0] ?? {}) : { type: 'batch', frames: chunk });
  }
  return out;
}

function runScenario(ops: readonly Op[], window: number, rand: () => number) {
  const SESSION = 'sess-1';
  let log: EventLog = createMemoryLog({ replayWindow: window });
  const history = createHistory();
  const harness = createHarness();
  const checker = createStreamChecker(history, 'scenario');
  harness.onOutput((o) => {
    if (o.kind === 'event') checker.event(o);
    else if (o.kind === 'gap') checker.gap(o.gap, o.landing);
    else checker.snapshot(o.snapshot);
  });
  let n = 0;
  const publish = (): { seq: number; n: number } | undefined => {
    if (log.getSession(SESSION) === undefined) return undefined; // the gateway refuses: session_not_found
    n++;
    const stored = (log.append(SESSION, [{ event: { type: 'tick', data: { n } } }]) as readonly AppendResult[])[0]!;
    const epoch = (log.position(SESSION) as { epoch: string }).epoch;
    history.record({ n, epoch, seq: stored.seq });
    log.setState(SESSION, { n });
    return { seq: stored.seq, n };
  };

  const connect = (op: Extract<Op, { op: 'connect' }>): void => {
    const request = harness.tracker.resumeRequest();
    const id = request.session_id ?? SESSION;
    const existing = log.getSession(id);
    if (!existing) log.createSession(id, 'demo');
    const position = log.position(id) as LogPosition;
    const plan = planResume({ since: request.since, epoch: request.epoch }, position);
    const backlog = (log.readAfter(id, plan.replayAfter) as LogRead).events.map((e) => ({ type: 'replay', seq: e.seq, event: e.event }));
    if (op.swap) {
      // Reordering within the replay: swap neighbours here and there.
      for (let i = 0; i + 1 < backlog.length; i += 2) if (rand() < 0.3) [backlog[i], backlog[i + 1]] = [backlog[i + 1] as (typeof backlog)[number], backlog[i] as (typeof backlog)[number]];
    }
    for (let d = 0; d < op.dupes && backlog.length > 0; d++) {
      const copy = backlog[Math.floor(rand() * backlog.length)];
      if (copy) backlog.splice(Math.floor(rand() * (backlog.length + 1)), 0, copy);
    }
    const frames: object[] = [
      helloOk({ session_id: id, cursor: position.head, epoch: position.epoch, oldest_cursor: position.oldest, resumed: existing !== undefined, gap: plan.gap }),
      ...batched(backlog, op.batch),
      { type: 'caught_up', cursor: position.head, epoch: position.epoch },
    ];
    for (let i = 0; i < op.live; i++) {
      const p = publish();
      if (p) frames.push({ type: 'event', seq: p.seq, event: { type: 'tick', data: { n: p.n } } });
    }
    if (op.snapshot) {
      const state = log.getState(id) as { state: unknown; cursor: number } | undefined;
      frames.push({ type: 'snapshot', state: state?.state ?? null, cursor: state?.cursor ?? position.head, epoch: position.epoch });
    }
    const send = harness.connect();
    const delivered = frames.slice(0, op.cut === 0 ? frames.length : op.cut);
    delivered.forEach((frame, i) => {
      send(frame);
      if (i === 0) checker.handshake(harness.tracker.epoch);
    });
  };

  for (const op of ops) {
    if (op.op === 'publish') for (let i = 0; i < op.count; i++) publish();
    else if (op.op === 'restart') {
      if (!op.keepLog) log = createMemoryLog({ replayWindow: window });
    } else connect(op);
  }
  // Faults over: one clean connection must bring the client to the head.
  connect({ op: 'connect', cut: 0, dupes: 0, batch: 1, swap: false, live: 0, snapshot: false });
  return { harness, checker, report: checker.finish(), history };
}

describe('gap tracker: whole resume scenarios lose nothing silently', () => {
  it('every published event is delivered once, in order, or named by a signalled gap', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 12 }), fc.integer(), (ops, window, seed) => {
        let s = seed >>> 0;
        const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
        const { harness, checker, report } = runScenario([{ op: 'connect', cut: 0, dupes: 0, batch: 1, swap: false, live: 0, snapshot: false }, ...ops], window, rand);
        expect(harness.errors).toEqual([]);
        expect(checker.violations).toEqual([]);
        expect(report.notYetDelivered).toBe(0);
        expect(report.realMissing).toBe(report.signalledMissing);
      }),
      { numRuns: 300 },
    );
  });

  it('the checker itself catches a silent loss, a duplicate and a wrong gap (it can fail)', () => {
    const history = createHistory();
    for (let n = 1; n <= 5; n++) history.record({ n, epoch: 'E', seq: n });
    const lossy = createStreamChecker(history, 'lossy');
    for (const n of [1, 2, 4, 5]) lossy.event({ seq: n, data: { n } });
    expect(lossy.violations.join()).toMatch(/expected seq 3/);
    const dup = createStreamChecker(history, 'dup');
    for (const n of [1, 2, 2]) dup.event({ seq: n, data: { n } });
    expect(dup.violations.join()).toMatch(/duplicate/);
    const wrongGap = createStreamChecker(history, 'gap');
    wrongGap.event({ seq: 1, data: { n: 1 } });
    wrongGap.gap({ expected: 3, received: 4, reason: 'live' });
    expect(wrongGap.violations.join()).toMatch(/last delivered seq was 1/);
    const unreported = createStreamChecker(history, 'end');
    for (const n of [1, 2]) unreported.event({ seq: n, data: { n } });
    unreported.gap({ expected: 3, received: 5, reason: 'live' });
    unreported.event({ seq: 5, data: { n: 5 } });
    expect(unreported.finish()).toMatchObject({ realMissing: 2, signalledMissing: 2 });
    expect(unreported.violations).toEqual([]);
  });
});
