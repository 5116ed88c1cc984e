// The outbox stores: the localStorage one keeps order across a reload, ignores other keys and
// unreadable entries, and a store that cannot keep a message makes that send() fail, never vanish.
import { describe, expect, it } from 'vitest';
import { localStorageOutboxStore, memoryOutboxStore, type StorageLike } from '../../src/client/index.js';
import { createOutbox } from '../../src/client/outbox.js';

/** The Web Storage API over a Map, as a page's localStorage behaves. */
function mapStorage(): StorageLike & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    get length() {
      return items.size;
    },
    key: (i) => [...items.keys()][i] ?? null,
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => void items.set(k, v),
    removeItem: (k) => void items.delete(k),
  };
}

describe('outbox stores', () => {
  it('localStorage: a reload gets the unacknowledged messages back in send order, and only its own', () => {
    const storage = mapStorage();
    storage.setItem('other-app', 'x');
    storage.setItem('lifeline.outbox:junk', '{not json');
    const first = localStorageOutboxStore({ storage });
    first.load();
    for (const id of ['m3', 'm1', 'm2']) first.put({ id, content: { n: id } });
    first.delete('m1');
    const reloaded = localStorageOutboxStore({ storage }).load();
    expect(reloaded).toEqual([
      { id: 'm3', content: { n: 'm3' } },
      { id: 'm2', content: { n: 'm2' } },
    ]);
    expect(storage.items.has('other-app')).toBe(true);
    expect(storage.items.has('lifeline.outbox:junk')).toBe(false);
  });

  it('an outbox restores stored messages, drops what is over its bound, and deletes what settles', async () => {
    const store = memoryOutboxStore();
    for (const id of ['a', 'b', 'c']) store.put({ id, content: id });
    const outbox = createOutbox(2, undefined, store);
    expect([outbox.size, outbox.droppedOnLoad]).toEqual([2, 1]);
    const sent: string[] = [];
    outbox.flush((m) => sent.push(m.text) > 0, true);
    expect(sent.map((t) => (JSON.parse(t) as { id: string }).id)).toEqual(['a', 'b']);
    outbox.ack('a', true);
    expect(store.load().map((m) => m.id)).toEqual(['b']);
    const { done } = createOutbox(5, () => 'x', { load: () => [], put: () => { throw new Error('quota exceeded'); }, delete: () => undefined }).add('hi');
    await expect(done).rejects.toMatchObject({ code: 'outbox_store_failed' });
  });
});
