// The timeline panel: one row per entry, coloured by kind, newest at the bottom. Rows carry
// `data-kind` (and `data-seq` for events) so tests can read what the page shows. An event shows
// its payload in full below its line (a reply's text as text), up to a bound; an error that a
// story's own fault caused reads as expected, not as advice to fix a setup. Before anything runs,
// the panel says what will happen and how to start.
import type { TimelineEntry } from '../support/timeline.js';

/** A timeline panel. */
export interface TimelineView {
  add(entry: TimelineEntry): void;
  /** Empty the panel and show `hint` (what will happen, how to start) until the first entry. */
  clear(hint?: string): void;
}

/** Options of {@link createTimelineView}. */
export interface TimelineViewOptions {
  /** Applied to every text shown (the page hides tokens with it). @default identity */
  readonly redact?: (text: string) => string;
  /** Rows kept; past it the oldest go. @default 2000 */
  readonly maxRows?: number;
  /** Characters of one event's payload shown; the rest is counted, not drawn. @default 4000 */
  readonly maxPayloadChars?: number;
}

const BADGE: Record<TimelineEntry['kind'], string> = {
  step: 'story',
  server: 'server',
  check: 'check',
  transition: 'transition',
  joined: 'joined',
  node: 'node',
  event: 'event',
  gap: 'gap',
  resync: 'resync',
  backoff: 'backoff',
  error: 'error',
  ack: 'ack',
};

/** Fields that hold a reply's words in the payloads agents send (PraisonAI's `content`, streamed `delta`s, …). */
const TEXT_FIELDS = ['content', 'text', 'delta', 'message'] as const;

/**
 * What an event carries, for reading: the words of a reply (its first text field), with the
 * other fields as compact JSON after them; anything else as JSON.
 */
export function payloadText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    const record = data as Record<string, unknown>;
    const field = TEXT_FIELDS.find((key) => typeof record[key] === 'string');
    if (field !== undefined) {
      const { [field]: words, ...rest } = record;
      const others = Object.keys(rest).length > 0 ? `\n${JSON.stringify(rest)}` : '';
      return `${String(words)}${others}`;
    }
  }
  return JSON.stringify(data) ?? String(data);
}

function span(className: string, text: string): HTMLSpanElement {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}

/** Render entries into `list` (an `<ol>`). */
export function createTimelineView(list: HTMLOListElement, options: TimelineViewOptions = {}): TimelineView {
  const redact = options.redact ?? ((text: string) => text);
  const maxRows = options.maxRows ?? 2000;
  const maxPayload = options.maxPayloadChars ?? 4000;

  function body(entry: TimelineEntry, row: HTMLLIElement): HTMLElement {
    if (entry.kind === 'event') {
      const text = span('text', redact(`event #${entry.seq ?? '-'} ${entry.type}${entry.replayed ? ' (replayed)' : ''}`));
      const full = redact(payloadText(entry.data));
      const shown = full.length > maxPayload ? `${full.slice(0, maxPayload)}\n… (${full.length - maxPayload} more characters)` : full;
      if (shown !== '') text.append(span('payload', shown));
      return text;
    }
    if (entry.kind === 'error' && entry.fault !== undefined) {
      // The story broke the link on purpose: say so, and keep the client's own words for a hover.
      row.classList.add('expected');
      const text = span('text', redact(`${entry.code}: expected, the story's fault is in effect (${entry.fault}). The client retries.`));
      text.title = redact(entry.text);
      return text;
    }
    return span('text', redact(entry.text));
  }

  return {
    add(entry) {
      list.querySelector(':scope > li.placeholder')?.remove();
      const row = document.createElement('li');
      row.className = `entry ${entry.kind}`;
      row.dataset['kind'] = entry.kind;
      if (entry.kind === 'event') {
        row.dataset['seq'] = String(entry.seq);
        if (entry.replayed) row.classList.add('replayed');
      }
      if (entry.kind === 'check' && entry.text.startsWith('FAILED')) row.classList.add('failed');
      const time = span('time', `${(entry.at / 1000).toFixed(2)}s`);
      const expected = entry.kind === 'error' && entry.fault !== undefined;
      const badge = span('badge', entry.kind === 'event' && entry.replayed ? 'replayed' : expected ? 'expected' : BADGE[entry.kind]);
      row.append(time, badge, body(entry, row));
      // Follow the newest entry unless the reader scrolled up to look at something.
      const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
      list.append(row);
      if (list.querySelectorAll(':scope > li.entry').length > maxRows) {
        list.querySelector(':scope > li.entry')?.remove();
        // Say that the list is no longer the whole story.
        if (!list.querySelector(':scope > li.trimmed')) {
          const notice = document.createElement('li');
          notice.className = 'trimmed';
          notice.textContent = `Older entries were dropped: this list keeps the last ${maxRows}.`;
          list.prepend(notice);
        }
      }
      if (atBottom) list.scrollTop = list.scrollHeight;
    },
    clear(hint) {
      list.replaceChildren();
      if (hint === undefined) return;
      const row = document.createElement('li');
      row.className = 'placeholder';
      row.textContent = redact(hint);
      list.append(row);
    },
  };
}
