// A session's live tail, through its own interface: sinks that take each event at once, sinks
// that take runs at the end of the tick (or once a batch is full), a sink that follows mid-tick,
// one that takes its run early (before a frame of its own), and one that leaves during a flush.
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/server/event-log.js';
import { createLiveTail, type LiveRun, type LiveSink } from '../../src/server/live-tail.js';

const event = (seq: number): StoredEvent => ({ seq, event: { type: 'tick', data: { seq } } });
const endOfTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A sink that records what it is handed: single events, and runs as the batch frames it would send. */
function recorder(batches: boolean, maxBatchFrames = 256, maxChars = Infinity) {
  const singles: string[] = [];
  const frames: string[] = [];
  const runs: number[][] = [];
  const sink: LiveSink = {
    batches,
    maxBatchFrames,
    sendEvent: (_, text) => void singles.push(text),
    sendRun(run: LiveRun, from, to) {
      runs.push(Array.from({ length: to - from }, (_, i) => run.event(from + i).seq));
      for (let i = from; i < to; ) {
        const batch = run.batch(i, to, maxBatchFrames, maxChars);
        frames.push(batch.text);
        i = batch.end;
      }
    },
  };
  return { sink, singles, frames, runs };
}

const seqsOf = (texts: readonly string[]): number[] =>
  texts.flatMap((text) => {
    const frame = JSON.parse(text) as { type: string; seq?: number; frames?: Array<{ seq: number }> };
    return frame.type === 'batch' ? (frame.frames ?? []).map((f) => f.seq) : [frame.seq ?? -1];
  });

describe('live tail', () => {
  it('hands each event at once to sinks that do not batch, as the event frame JSON.stringify writes', () => {
    const tail = createLiveTail();
    const a = recorder(false);
    const b = recorder(false);
    tail.follow(a.sink);
    tail.follow(b.sink);
    for (let seq = 1; seq <= 3; seq++) tail.append(event(seq));
    expect(a.singles).toEqual([1, 2, 3].map((seq) => JSON.stringify({ type: 'event', seq, event: event(seq).event })));
    expect(b.singles).toEqual(a.singles);
  });

  it('hands batching sinks one run at the end of the tick, from where each began to follow', async () => {
    const tail = createLiveTail();
    const early = recorder(true);
    const late = recorder(true);
    tail.follow(early.sink);
    tail.append(event(1));
    tail.append(event(2));
    tail.follow(late.sink);
    tail.append(event(3));
    expect(early.runs).toEqual([]);
    await endOfTick();
    expect(early.runs).toEqual([[1, 2, 3]]);
    expect(late.runs).toEqual([[3]]);
    expect(early.frames).toEqual([JSON.stringify({ type: 'batch', frames: [1, 2, 3].map((seq) => ({ type: 'event', seq, event: event(seq).event })) })]);
    // The next tick starts over for both.
    tail.append(event(4));
    await endOfTick();
    expect(early.runs).toEqual([[1, 2, 3], [4]]);
    expect(late.runs).toEqual([[3], [4]]);
  });

  it('hands a sink its run early when it takes it, and never the same event twice', async () => {
    const tail = createLiveTail();
    const taker = recorder(true);
    const other = recorder(true);
    const following = tail.follow(taker.sink);
    tail.follow(other.sink);
    tail.append(event(1));
    tail.append(event(2));
    following.take();
    following.take();
    tail.append(event(3));
    await endOfTick();
    expect(taker.runs).toEqual([[1, 2], [3]]);
    expect(other.runs).toEqual([[1, 2, 3]]);
  });

  it('hands over a full batch at once, and cuts runs by size', async () => {
    const tail = createLiveTail();
    const small = recorder(true, 3);
    const sized = recorder(true, 256, 1);
    tail.follow(small.sink);
    tail.follow(sized.sink);
    for (let seq = 1; seq <= 7; seq++) tail.append(event(seq));
    // Every 3 events (the smallest batch a sink wants), before the tick ends.
    expect(small.runs).toEqual([[1, 2, 3], [4, 5, 6]]);
    await endOfTick();
    expect(small.runs).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(seqsOf(small.frames)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // At most one event's worth of characters per frame: every event goes alone.
    expect(sized.frames.map((text) => (JSON.parse(text) as { type: string }).type)).toEqual(Array(7).fill('event'));
    expect(seqsOf(sized.frames)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('goes on with the others when a sink stops following during a flush', async () => {
    const tail = createLiveTail();
    const leaving = recorder(true);
    const staying = recorder(true);
    const following = tail.follow({ ...leaving.sink, sendRun: (run, from, to) => (leaving.sink.sendRun(run, from, to), following.unfollow()) });
    tail.follow(staying.sink);
    tail.append(event(1));
    await endOfTick();
    tail.append(event(2));
    await endOfTick();
    expect(leaving.runs).toEqual([[1]]);
    expect(staying.runs).toEqual([[1], [2]]);
  });
});
