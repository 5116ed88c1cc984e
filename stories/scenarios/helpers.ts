// Small assertions several stories share: the session id, and "every event exactly once, in order".
import type { GatewayClient } from '../../src/client/index.js';
import type { TimelineEntry, TimelineKind } from '../support/timeline.js';
import type { StoryContext } from './story.js';

/** The joined client's session id (stories publish to it). */
export function sessionOf(ctx: StoryContext, client: GatewayClient): string {
  const id = client.info.sessionId;
  ctx.expect(id !== null, 'a session id after joining');
  return id ?? '';
}

/** `[from, from+1, …, to]`. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/** Assert the delivered seqs are exactly `expected`: nothing lost, nothing twice, in order. */
export function expectSeqs(ctx: StoryContext, expected: readonly number[], label = 'every event exactly once, in order'): void {
  const seqs = ctx.timeline.seqs();
  ctx.expect(JSON.stringify(seqs) === JSON.stringify(expected), `${label}: ${JSON.stringify(expected)}`, { delivered: seqs });
}

/** Wait until at least `count` events were delivered. */
export function eventsDelivered(ctx: StoryContext, count: number, timeoutMs?: number): Promise<true> {
  return ctx.until(`${count} delivered events`, () => ctx.timeline.of('event').length >= count, timeoutMs);
}

/** A position in the timeline, to ask what happened after it. */
export function mark(ctx: StoryContext): number {
  return ctx.timeline.entries.length;
}

/** The first entry of `kind` recorded after `position`, if any. */
export function since<K extends TimelineKind>(ctx: StoryContext, position: number, kind: K): Extract<TimelineEntry, { kind: K }> | undefined {
  return ctx.timeline.entries.slice(position).find((e): e is Extract<TimelineEntry, { kind: K }> => e.kind === kind);
}
