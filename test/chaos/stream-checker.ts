// The delivery invariant, checked online for one client against what was really published:
// every event arrives once, in order, and any event that never arrives lies inside a gap the
// client signalled (or was folded into a snapshot). Shared by the chaos engine and the
// property tests, so both judge the client by the same rule. No test framework imports here:
// `npm run soak` uses it outside Vitest.
import type { GapInfo, SessionSnapshot } from '../../src/client/index.js';

/** One published event: the publisher's own counter `n`, and where the gateway put it. */
export interface Published {
  readonly n: number;
  readonly epoch: string;
  readonly seq: number;
}

/** What one session really published, in publish order. */
export interface History {
  record(event: Published): void;
  byN(n: number): Published | undefined;
  readonly all: readonly Published[];
  /** The newest `n` (0 before the first publish). */
  readonly lastN: number;
  /** Epochs with events, in the order their first event was published. */
  readonly epochs: readonly string[];
}

export function createHistory(): History {
  const all: Published[] = [];
  const index = new Map<number, Published>();
  const epochs: string[] = [];
  return {
    record(event) {
      if (epochs[epochs.length - 1] !== event.epoch && !epochs.includes(event.epoch)) epochs.push(event.epoch);
      all.push(event);
      index.set(event.n, event);
    },
    epochs,
    byN: (n) => index.get(n),
    all,
    get lastN() {
      return all[all.length - 1]?.n ?? 0;
    },
  };
}

/** Final figures for one client. */
export interface StreamReport {
  readonly delivered: number;
  readonly gaps: number;
  readonly gapsByReason: Readonly<Record<GapInfo['reason'], number>>;
  /** Published events the signalled gaps name as missing. */
  readonly signalledMissing: number;
  /** Published events never delivered (and not folded into a snapshot): really missing. */
  readonly realMissing: number;
  /** Events skipped because a snapshot already reflected them. */
  readonly coveredBySnapshot: number;
  /** Published after the client's final position: not yet delivered when the run ended. */
  readonly notYetDelivered: number;
  readonly snapshots: number;
}

/** Feeds one client's onEvent/onGap/onSnapshot in the order the client emitted them. */
export interface StreamChecker {
  event(event: { readonly seq: number | null; readonly data: unknown }): void;
  /**
   * A signalled gap. `landing` is the epoch the client holds when it reports the gap: for a
   * handshake gap that is the new history's epoch, which tells an epoch change from a window gap.
   */
  gap(gap: GapInfo, landing?: string | null): void;
  /** The client joined (after `hello_ok` was applied) and now follows `epoch`. */
  handshake(epoch: string | null): void;
  snapshot(snapshot: SessionSnapshot): void;
  /** Every invariant breach so far, in words. Empty means the client behaved. */
  readonly violations: readonly string[];
  /** The app's state: the newest `n` it learnt, from an event or a snapshot. */
  readonly appliedN: number;
  readonly cursor: number;
  readonly epoch: string | null;
  /** Close the books: account for every published event. */
  finish(): StreamReport;
}

const key = (epoch: string, seq: number): string => `${epoch}#${seq}`;

function nOf(data: unknown): number | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const n = (data as { n?: unknown }).n;
  return typeof n === 'number' ? n : undefined;
}

/** A signalled gap whose far side (the epoch it lands in) is not known yet. */
interface OpenGap {
  readonly gap: GapInfo;
  readonly fromEpoch: string | null;
  readonly landing: string | null;
}

/** Create a checker for one client of one session. `label` prefixes violations. */
export function createStreamChecker(history: History, label: string, maxViolations = 20): StreamChecker {
  const violations: string[] = [];
  const delivered = new Set<string>();
  const signalled = new Set<string>();
  // Old-epoch tails lost with an epoch change: every seq >= from in that epoch.
  const lostTails: Array<{ epoch: string; from: number }> = [];
  const snapshotCovered = new Set<string>();
  const byReason: Record<GapInfo['reason'], number> = { window: 0, epoch: 0, live: 0 };
  let epoch: string | null = null;
  let cursor = 0;
  let appliedN = 0;
  let gaps = 0;
  let snapshots = 0;
  let open: OpenGap | null = null;

  const fail = (message: string): void => {
    if (violations.length < maxViolations) violations.push(`${label}: ${message}`);
  };

  /** Record which published events a gap names, once we know the epoch it lands in. */
  function closeGap(seen: string | null): void {
    if (open === null) return;
    const { gap, fromEpoch } = open;
    const landing = open.landing ?? seen;
    open = null;
    if (landing !== null) epoch = landing;
    // Without a landing epoch yet, the gap's own reason says whether the history changed.
    const newHistory = landing !== null ? fromEpoch !== null && landing !== fromEpoch : gap.reason === 'epoch';
    if (!newHistory) {
      const where = fromEpoch ?? landing;
      if (where === null) return;
      for (let s = gap.expected; s < gap.received; s++) {
        const k = key(where, s);
        if (delivered.has(k)) fail(`gap ${gap.expected}..${gap.received - 1} names seq ${s}, which was delivered`);
        signalled.add(k);
      }
      return;
    }
    // A new history: the old one's tail is gone, and the new one starts at `received`.
    if (fromEpoch !== null) lostTails.push({ epoch: fromEpoch, from: gap.expected });
    // Histories born and lost while the client was away (a join it never heard back from, then
    // another log loss) are covered by the same gap: the client could never have named them.
    const order = history.epochs;
    const first = fromEpoch === null ? -1 : order.indexOf(fromEpoch);
    const last = landing === null ? -1 : order.indexOf(landing);
    for (let i = first + 1; i < (last < 0 ? order.length : last); i++) {
      const lost = order[i];
      if (lost !== undefined && lost !== landing) lostTails.push({ epoch: lost, from: 1 });
    }
    if (landing !== null) for (let s = 1; s < gap.received; s++) signalled.add(key(landing, s));
  }

  return {
    event(event) {
      const n = nOf(event.data);
      const published = n === undefined ? undefined : history.byN(n);
      if (!published) return fail(`delivered an event that was never published: ${JSON.stringify(event.data)}`);
      if (event.seq !== published.seq) fail(`event n=${published.n} has seq ${String(event.seq)}, published as ${published.seq}`);
      const k = key(published.epoch, published.seq);
      if (delivered.has(k)) return fail(`duplicate delivery of seq ${published.seq} (n=${published.n})`);
      if (open !== null) {
        const { gap } = open;
        if (published.seq !== gap.received) fail(`after gap {expected ${gap.expected}, received ${gap.received}} the next event was seq ${published.seq}`);
        closeGap(published.epoch);
      } else if (epoch !== null && (published.epoch !== epoch || published.seq !== cursor + 1)) {
        fail(`expected seq ${cursor + 1} in ${epoch}, got seq ${published.seq} in ${published.epoch} with no gap signalled`);
      } else if (epoch === null && published.seq !== cursor + 1) {
        fail(`first event should be seq ${cursor + 1}, got ${published.seq}`);
      }
      delivered.add(k);
      epoch = published.epoch;
      cursor = published.seq;
      appliedN = Math.max(appliedN, published.n);
    },
    gap(gap, landing = null) {
      gaps++;
      byReason[gap.reason]++;
      if (gap.expected !== cursor + 1) fail(`gap says expected ${gap.expected} but the last delivered seq was ${cursor}`);
      // A gap right after another one: the first lands where the second starts.
      if (open !== null) closeGap(null);
      open = { gap, fromEpoch: epoch, landing };
      cursor = gap.received - 1;
    },
    handshake(joinedEpoch) {
      if (open !== null) return closeGap(joinedEpoch);
      if (epoch !== null && joinedEpoch !== null && joinedEpoch !== epoch) {
        // Without a gap, a new history is honest only if the old one held nothing past the cursor
        // (a session expired with 4040 before its first event: the client starts afresh, losing nothing).
        const from = epoch;
        if (history.all.some((p) => p.epoch === from && p.seq > cursor)) fail(`the history changed from ${epoch} to ${joinedEpoch} with no gap signalled`);
        cursor = 0;
      }
      if (joinedEpoch !== null) epoch = joinedEpoch;
    },
    snapshot(snap) {
      snapshots++;
      const n = nOf(snap.state);
      if (n !== undefined) {
        const published = history.byN(n);
        if (!published) fail(`snapshot state n=${n} was never published`);
        else if (published.seq !== snap.cursor || published.epoch !== snap.epoch) {
          fail(`snapshot (n=${n}) claims cursor ${snap.cursor} in ${String(snap.epoch)}, but n=${n} is seq ${published.seq} in ${published.epoch}`);
        } else appliedN = Math.max(appliedN, n);
      }
      if (snap.epoch === null) return;
      if (snap.epoch !== epoch || open !== null) {
        closeGap(snap.epoch);
        if (snap.epoch !== epoch) cursor = 0;
        epoch = snap.epoch;
      }
      for (let s = cursor + 1; s <= snap.cursor; s++) snapshotCovered.add(key(snap.epoch, s));
      cursor = Math.max(cursor, snap.cursor);
    },
    get violations() {
      return violations;
    },
    get appliedN() {
      return appliedN;
    },
    get cursor() {
      return cursor;
    },
    get epoch() {
      return epoch;
    },
    finish() {
      closeGap(null);
      let signalledMissing = 0;
      let realMissing = 0;
      let covered = 0;
      let notYet = 0;
      for (const p of history.all) {
        const k = key(p.epoch, p.seq);
        if (delivered.has(k)) continue;
        if (snapshotCovered.has(k)) {
          covered++;
          continue;
        }
        const inTail = lostTails.some((t) => t.epoch === p.epoch && p.seq >= t.from);
        if (signalled.has(k) || inTail) {
          signalledMissing++;
          realMissing++;
          continue;
        }
        if (p.epoch === epoch && p.seq > cursor) {
          notYet++;
          continue;
        }
        realMissing++;
        fail(`seq ${p.seq} in ${p.epoch} (n=${p.n}) was never delivered and no gap named it`);
      }
      return { delivered: delivered.size, gaps, gapsByReason: { ...byReason }, signalledMissing, realMissing, coveredBySnapshot: covered, notYetDelivered: notYet, snapshots };
    },
  };
}
