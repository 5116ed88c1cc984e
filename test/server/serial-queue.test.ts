// The session queue: tasks one at a time, in call order, whether queued with run() or started at
// once with runNow() (the publish path's way of appending without a queued task per event).
import { describe, expect, it } from 'vitest';
import { createSerialQueue } from '../../src/server/serial-queue.js';

/** A promise and the function that resolves it. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('serial queue', () => {
  it('runs tasks one at a time, in call order, never inside run() itself', async () => {
    const queue = createSerialQueue();
    const log: string[] = [];
    const gate = deferred();
    const first = queue.run(async () => {
      log.push('first starts');
      await gate.promise;
      log.push('first ends');
      return 1;
    });
    const second = queue.run(() => {
      log.push('second');
      return 2;
    });
    expect(log).toEqual([]);
    expect(queue.pending).toBe(2);
    gate.resolve();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(log).toEqual(['first starts', 'first ends', 'second']);
    expect(queue.pending).toBe(0);
  });

  it('goes on after a task that fails, which rejects only its own promise', async () => {
    const queue = createSerialQueue();
    const failed = queue.run(() => {
      throw new Error('boom');
    });
    const next = queue.run(() => 'still runs');
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe('still runs');
    expect(queue.pending).toBe(0);
  });

  it('runNow runs at once when idle, and returns the value itself', () => {
    const queue = createSerialQueue();
    const log: string[] = [];
    const value = queue.runNow(() => {
      log.push('ran');
      return 7;
    });
    expect(value).toBe(7);
    expect(log).toEqual(['ran']);
    expect(queue.pending).toBe(0);
    expect(() =>
      queue.runNow(() => {
        throw new Error('at once');
      }),
    ).toThrow('at once');
    expect(queue.pending).toBe(0);
  });

  it('runNow waits its turn behind queued or running tasks', async () => {
    const queue = createSerialQueue();
    const log: string[] = [];
    const gate = deferred();
    const first = queue.run(async () => {
      await gate.promise;
      log.push('first');
    });
    const now = queue.runNow(() => {
      log.push('now');
      return 'late';
    });
    expect(now).toBeInstanceOf(Promise);
    expect(log).toEqual([]);
    gate.resolve();
    await first;
    expect(await now).toBe('late');
    expect(log).toEqual(['first', 'now']);
  });

  it('a task runNow started that returns a promise holds the queue until it settles', async () => {
    const queue = createSerialQueue();
    const log: string[] = [];
    const gate = deferred<string>();
    const held = queue.runNow(() => gate.promise.then((v) => (log.push(v), v)));
    const after = queue.run(() => log.push('after'));
    const alsoNow = queue.runNow(() => log.push('also now'));
    expect(queue.pending).toBe(3);
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual([]);
    gate.resolve('held');
    await Promise.all([held, after, alsoNow]);
    expect(log).toEqual(['held', 'after', 'also now']);
    expect(queue.pending).toBe(0);
    // Idle again: the next runNow runs at once.
    expect(queue.runNow(() => 'idle')).toBe('idle');
  });

  it('keeps order through a long run of queued tasks (the array is compacted as it goes)', async () => {
    const queue = createSerialQueue();
    const seen: number[] = [];
    const all = Array.from({ length: 5000 }, (_, i) => queue.run(() => seen.push(i)));
    await Promise.all(all);
    expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });
});
