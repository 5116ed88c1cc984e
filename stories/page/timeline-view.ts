// The timeline panel: one row per entry, coloured by kind, newest at the bottom. Rows carry
// `data-kind` (and `data-seq` for events) so tests can read what the page shows.
import type { TimelineEntry } from '../support/timeline.js';

/** A timeline panel. */
export interface TimelineView {
  add(entry: TimelineEntry): void;
  clear(): void;
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

/** Render entries into `list` (an `<ol>`). */
export function createTimelineView(list: HTMLOListElement): TimelineView {
  return {
    add(entry) {
      const row = document.createElement('li');
      row.className = `entry ${entry.kind}`;
      row.dataset['kind'] = entry.kind;
      if (entry.kind === 'event') {
        row.dataset['seq'] = String(entry.seq);
        if (entry.replayed) row.classList.add('replayed');
      }
      if (entry.kind === 'check' && entry.text.startsWith('FAILED')) row.classList.add('failed');
      const time = document.createElement('span');
      time.className = 'time';
      time.textContent = `${(entry.at / 1000).toFixed(2)}s`;
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = entry.kind === 'event' && entry.replayed ? 'replayed' : BADGE[entry.kind];
      const text = document.createElement('span');
      text.className = 'text';
      text.textContent = entry.text;
      row.append(time, badge, text);
      // Follow the newest entry unless the reader scrolled up to look at something.
      const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
      list.append(row);
      if (atBottom) list.scrollTop = list.scrollHeight;
    },
    clear() {
      list.replaceChildren();
    },
  };
}
