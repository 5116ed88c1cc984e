// The story timeline: one ordered record of what the client went through (chart transitions from
// the XState inspector, delivered events, gaps, resyncs, backoff delays, errors) and what the
// script did. The CLI prints it, the page draws it, and stories assert on it. Isomorphic.
import type { InspectionEvent } from 'xstate';
import type { GatewayClient } from '../../src/client/index.js';
import { activeStateIds, eventLabel, guardName, stateLabel, transitionKey } from './chart-keys.js';

interface Base {
  /** Milliseconds since the timeline started. */
  readonly at: number;
  /** One readable line, the same in the CLI and the page. */
  readonly text: string;
}

/** One thing that happened. */
export type TimelineEntry =
  | (Base & { readonly kind: 'step' })
  /** What the story did to the gateway or the network; `fault` when it breaks the link on purpose. */
  | (Base & { readonly kind: 'server'; readonly fault?: boolean })
  | (Base & { readonly kind: 'check' })
  | (Base & {
      readonly kind: 'transition';
      readonly from: string;
      readonly to: string;
      /** The event that caused it (`socket.closed`, `after retryDelay`, …). */
      readonly event: string;
      /** Active state ids afterwards, parents first, for highlighting. */
      readonly active: readonly string[];
      /** Keys (see `transitionKey`) of the arrows taken. */
      readonly edges: readonly string[];
    })
  | (Base & { readonly kind: 'joined'; readonly protocol: number | null; readonly resume: string })
  /** The client joined a different gateway node than last time (failover, or a drain moved it). */
  | (Base & { readonly kind: 'node'; readonly url: string; readonly previous: string })
  /** `data` is the event's payload, whole (`text` carries a short rendering of it). */
  | (Base & { readonly kind: 'event'; readonly seq: number | null; readonly type: string; readonly replayed: boolean; readonly data: unknown })
  | (Base & { readonly kind: 'gap'; readonly expected: number; readonly received: number; readonly reason: string })
  | (Base & { readonly kind: 'resync'; readonly cursor: number })
  | (Base & { readonly kind: 'backoff'; readonly delayMs: number; readonly attempt: number })
  /**
   * `fault`: the story's fault that was in effect (from the `server` entry that broke the link to
   * the next join), so this error is the intended consequence, not a misconfiguration.
   */
  | (Base & { readonly kind: 'error'; readonly code: string; readonly nextStep: string; readonly retryAfterMs: number | null; readonly fault?: string })
  | (Base & { readonly kind: 'ack'; readonly duplicate: boolean });

/** The kinds of entry, for filters and styling. */
export type TimelineKind = TimelineEntry['kind'];

/** Distributes over the union so each variant keeps its own fields. */
type EntryInput<E> = E extends TimelineEntry ? Omit<E, 'at'> : never;

/** A recorder. Create it before the client (its `inspect` goes into the client options), then `attach`. */
export interface Timeline {
  readonly entries: readonly TimelineEntry[];
  /** The observer to pass as `createGatewayClient({ inspect })`. */
  readonly inspect: (event: InspectionEvent) => void;
  /** Follow a client's events, gaps, snapshots, errors and joins. Returns the detach function. */
  attach(client: GatewayClient): () => void;
  add(entry: EntryInput<TimelineEntry>): void;
  /** Called for every new entry; returns an unsubscribe. */
  subscribe(listener: (entry: TimelineEntry) => void): () => void;
  /** Top-level states entered, in order, e.g. `['connecting', 'negotiating', 'joined', …]`. */
  states(): string[];
  /** Seqs of delivered events, in delivery order. */
  seqs(): Array<number | null>;
  of<K extends TimelineKind>(kind: K): Array<Extract<TimelineEntry, { kind: K }>>;
}

/** A short, stable rendering of a payload for one-line output. */
function brief(data: unknown): string {
  const text = JSON.stringify(data) ?? '';
  return text.length > 48 ? `${text.slice(0, 45)}...` : text;
}

/** Entries a timeline keeps by default; the oldest go first (a story stays far below). */
export const TIMELINE_MAX_ENTRIES = 10_000;

/** Options of {@link createTimeline}. */
export interface TimelineOptions {
  /** Entries kept; past it the oldest are dropped from `entries` (listeners saw them). @default 10_000 */
  readonly maxEntries?: number;
}

/** Create an empty timeline whose clock starts now. */
export function createTimeline(now: () => number = () => Date.now(), options: TimelineOptions = {}): Timeline {
  const start = now();
  const maxEntries = options.maxEntries ?? TIMELINE_MAX_ENTRIES;
  const entries: TimelineEntry[] = [];
  const listeners = new Set<(entry: TimelineEntry) => void>();
  let lastLabel = 'disconnected';
  // The story's fault in effect, from the server entry that broke the link until the next join.
  let fault: string | null = null;

  function add(input: EntryInput<TimelineEntry>): void {
    if (input.kind === 'server' && input.fault) fault = input.text;
    if (input.kind === 'joined') fault = null;
    const stamped = input.kind === 'error' && fault !== null && input.fault === undefined ? { ...input, fault } : input;
    const entry = { ...stamped, at: now() - start } as TimelineEntry;
    entries.push(entry);
    if (entries.length > maxEntries) entries.splice(0, entries.length - maxEntries);
    for (const listener of listeners) listener(entry);
  }

  function inspect(event: InspectionEvent): void {
    // Only the chart itself takes microsteps; its socket child (and the transport probe) are callbacks.
    if (event.type !== '@xstate.microstep') return;
    const taken = event._transitions.filter((t) => t.target !== undefined);
    if (taken.length === 0) return;
    const value: unknown = 'value' in event.snapshot ? event.snapshot.value : undefined;
    const to = stateLabel(value);
    const first = taken[0];
    const trigger = first ? eventLabel(first.eventType) : event.event.type;
    const guard = first ? guardName(first) : undefined;
    const rootId = first ? first.source.machine.root.id : 'gateway';
    const from = lastLabel;
    lastLabel = to;
    add({
      kind: 'transition',
      text: `${from} -> ${to}  on ${trigger}${guard === undefined ? '' : ` [${guard}]`}`,
      from,
      to,
      event: trigger,
      active: activeStateIds(value, rootId),
      edges: taken.flatMap((t) => (t.target ?? []).map((_, i) => transitionKey(t, i))),
    });
  }

  function attach(client: GatewayClient): () => void {
    // The node of the last join: a join elsewhere is a move worth a line of its own.
    let joinedOn: string | null = null;
    const offs = [
      client.onEvent((e) =>
        add({
          kind: 'event',
          seq: e.seq,
          type: e.type,
          replayed: e.replayed,
          data: e.data,
          text: `event #${e.seq ?? '-'} ${e.type}${e.replayed ? ' (replayed)' : ''} ${brief(e.data)}`,
        }),
      ),
      client.onGap((g) =>
        add({
          kind: 'gap',
          ...g,
          text: `gap (${g.reason}): expected #${g.expected}, got #${g.received}`,
        }),
      ),
      client.onSnapshot((s) => add({ kind: 'resync', cursor: s.cursor, text: `snapshot at cursor ${s.cursor}: ${brief(s.state)}` })),
      client.onError((e) =>
        add({
          kind: 'error',
          code: e.code,
          nextStep: e.nextStep,
          retryAfterMs: e.retryAfterMs ?? null,
          text: `error ${e.code} (${e.nextStep}${e.retryAfterMs === undefined ? '' : `, retry after ${e.retryAfterMs} ms`}): ${e.message}`,
        }),
      ),
      client.onState((state) => {
        const info = client.info;
        if (state === 'joined') {
          if (joinedOn !== null && info.url !== null && info.url !== joinedOn) {
            add({ kind: 'node', url: info.url, previous: joinedOn, text: `now on ${info.url} (was ${joinedOn})` });
          }
          joinedOn = info.url;
          const r = info.resume;
          const resume = r === null ? 'new session' : `resume ${r.mode}${r.from <= r.to ? ` #${r.from}..#${r.to}` : ''}`;
          add({ kind: 'joined', protocol: info.protocol, resume, text: `joined: protocol v${info.protocol ?? '?'}, ${resume}, cursor ${info.cursor}` });
        } else if ((state === 'reconnecting' || state === 'suspended') && info.retryInMs !== null) {
          const close = info.lastClose ? ` after close ${info.lastClose.code} ${info.lastClose.reason}`.trimEnd() : '';
          add({
            kind: 'backoff',
            delayMs: info.retryInMs,
            attempt: info.attempt,
            text: `backoff ${info.retryInMs} ms (failed attempts: ${info.attempt})${close}`,
          });
        }
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  function of<K extends TimelineKind>(kind: K): Array<Extract<TimelineEntry, { kind: K }>> {
    return entries.filter((e): e is Extract<TimelineEntry, { kind: K }> => e.kind === kind);
  }

  return {
    entries,
    inspect,
    attach,
    add,
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    states: () =>
      of('transition')
        .map((t) => t.to.split('.')[0] ?? t.to)
        // joined.replaying -> joined.live is one stay in `joined`.
        .filter((state, i, all) => i === 0 || all[i - 1] !== state),
    seqs: () => of('event').map((e) => e.seq),
    of,
  };
}

/** `  1.234s  text`, for terminals. An error the story's fault caused says so. */
export function formatEntry(entry: TimelineEntry): string {
  const expected = entry.kind === 'error' && entry.fault !== undefined;
  const tag = (expected ? 'expected' : entry.kind).padEnd(10);
  const text = expected ? `${entry.code}, as the story's fault intends (${entry.fault ?? ''})` : entry.text;
  return `${(entry.at / 1000).toFixed(3).padStart(7)}s  ${tag} ${text}`;
}
