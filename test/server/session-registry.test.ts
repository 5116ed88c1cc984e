// The session registry keeps a count of loaded sessions and an index by agent (so a join's health
// and presence do not scan every session): both must always say what a scan would.
import { describe, expect, it } from 'vitest';
import type { SessionRecord } from '../../src/server/event-log.js';
import { createSessionRegistry, type SessionRegistry, type Subscriber } from '../../src/server/session-registry.js';

const record = (sessionId: string, agentId: string): SessionRecord => ({ sessionId, agentId, epoch: 'e1' });
const subscriber: Subscriber = { expire: () => undefined, restart: () => undefined };

/** What a scan of every entry says: the loaded sessions, and the presence of one agent. */
function scanned(registry: SessionRegistry, agentId: string): { count: number; presence: string[] } {
  const loaded = [...registry.all()].filter((s) => s.record !== undefined);
  const presence = loaded.filter((s) => s.record?.agentId === agentId && s.subscribers.size > 0).map((s) => s.id);
  return { count: loaded.length, presence };
}

describe('session registry', () => {
  it('counts and indexes loaded sessions as a scan would, through loads, reloads, removals and stale entries', () => {
    const registry = createSessionRegistry();
    const check = (): void => {
      const scan = scanned(registry, 'a');
      expect(registry.sessionCount()).toBe(scan.count);
      expect(registry.summaries()).toHaveLength(scan.count);
      expect(registry.presence('a').map((p) => p.session_id)).toEqual(scan.presence);
    };
    // Entries made in one order, loaded in another: presence keeps the registry's order.
    const s1 = registry.entry('s1');
    const s2 = registry.entry('s2');
    const s3 = registry.entry('s3');
    check();
    s3.record = record('s3', 'a');
    s1.record = record('s1', 'a');
    s2.record = record('s2', 'b');
    for (const s of [s1, s2, s3]) s.subscribers.add(subscriber);
    check();
    expect(registry.presence('a').map((p) => p.session_id)).toEqual(['s1', 's3']);
    // A join sets the record again: counted once.
    s1.record = record('s1', 'a');
    check();
    expect(registry.sessionCount()).toBe(3);
    // Removed, then loaded again through a task that still held the old entry: not counted.
    registry.remove('s1');
    check();
    s1.record = record('s1', 'a');
    check();
    expect(registry.sessionCount()).toBe(2);
    // A new entry under the same id counts anew.
    registry.entry('s1').record = record('s1', 'a');
    registry.entry('s1').subscribers.add(subscriber);
    check();
    expect(registry.presence('a').map((p) => p.session_id)).toEqual(['s3', 's1']);
    // An entry never loaded is discarded without touching the count; a session without connections is not present.
    registry.entry('s4');
    registry.discardIfUnused('s4');
    s3.subscribers.clear();
    check();
    expect(registry.sessionCount()).toBe(3);
    expect(registry.presence('b').map((p) => p.session_id)).toEqual(['s2']);
  });
});
