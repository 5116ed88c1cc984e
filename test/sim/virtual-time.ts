// Virtual time for the simulation: one timer queue for the whole world, ordered by (due, seq),
// so the same schedule always runs in the same order. Time jumps straight to the next timer.
// Each node (a client process, the gateway) gets its own clock on it, which can be suspended
// (its timers and its network input wait until it wakes; its monotonic time skips the sleep)
// and whose wall clock can be stepped.

/** Something that can hold a timer back: a sleeping node, a stalled network path. */
export interface Gate {
  /** Timers behind this gate wait until this virtual time. */
  readonly heldUntil: number;
}

/** A scheduled callback. */
interface Timer {
  due: number;
  seq: number;
  readonly fn: () => void;
  readonly node: Gate | null;
  readonly path: Gate | null;
  cancelled: boolean;
}

/** A binary min-heap of timers by (due, seq). */
class TimerHeap {
  private readonly items: Timer[] = [];
  get size(): number {
    return this.items.length;
  }
  private less(a: Timer, b: Timer): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }
  push(t: Timer): void {
    const items = this.items;
    items.push(t);
    let i = items.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p] as Timer;
      if (!this.less(t, parent)) break;
      items[i] = parent;
      i = p;
    }
    items[i] = t;
  }
  pop(): Timer | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    const n = items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(items[r] as Timer, items[l] as Timer) ? r : l;
      const child = items[c] as Timer;
      if (!this.less(child, last)) break;
      items[i] = child;
      i = c;
    }
    items[i] = last;
    return top;
  }
}

/** Let every pending microtask (promise continuation) run: the only real-loop yield in a step. */
const flushMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The world's time. */
export class VirtualTime {
  now = 0;
  /** Callbacks run so far: the simulation's step count. */
  steps = 0;
  private seq = 0;
  private readonly heap = new TimerHeap();
  /** A thrown callback stops the run: the simulation must not swallow a crash. */
  failure: unknown = undefined;

  schedule(fn: () => void, delayMs: number, node: Gate | null = null, path: Gate | null = null): Timer {
    const timer: Timer = { due: this.now + Math.max(0, delayMs), seq: this.seq++, fn, node, path, cancelled: false };
    this.heap.push(timer);
    return timer;
  }

  /**
   * Run timers in order until `stop()` holds after a step, virtual time passes `untilMs`, or no
   * timer is left. Microtasks are flushed after every callback, as Node does between timers.
   */
  async run(untilMs: number, stop: () => boolean = () => false): Promise<void> {
    await flushMicrotasks();
    while (this.failure === undefined && !stop()) {
      const timer = this.heap.pop();
      if (timer === undefined) return;
      if (timer.cancelled) continue;
      if (timer.due > untilMs) {
        this.heap.push(timer);
        this.now = Math.max(this.now, untilMs);
        return;
      }
      this.now = Math.max(this.now, timer.due);
      // A sleeping node or a stalled path: re-queue behind what is already waiting, so order holds.
      const held = Math.max(timer.node?.heldUntil ?? 0, timer.path?.heldUntil ?? 0);
      if (held > this.now) {
        timer.due = held;
        timer.seq = this.seq++;
        this.heap.push(timer);
        continue;
      }
      this.steps++;
      try {
        timer.fn();
      } catch (error) {
        this.failure = error;
      }
      await flushMicrotasks();
    }
  }
}

/** One process of the world, with its own view of time. */
export class SimNode implements Gate {
  /** Monotonic time skipped while suspended (a monotonic clock does not count a sleep). */
  private slept = 0;
  /** Wall-clock offset from steps (NTP, an admin, a VM resume). */
  wallOffset = 0;
  /** While set, nothing of this node runs before this virtual time. */
  suspendedUntil = 0;

  constructor(
    readonly time: VirtualTime,
    readonly name: string,
  ) {}

  /** Monotonic ms as this node sees it. */
  now(): number {
    return this.time.now - this.slept;
  }

  /** Wall-clock ms since the Unix epoch as this node sees it (starts at a fixed date). */
  wallNow(): number {
    return 1_767_225_600_000 + this.time.now + this.wallOffset;
  }

  /** Sleep for `ms` from now: timers and input wait, and the monotonic clock skips the gap. */
  suspend(ms: number): void {
    const until = Math.max(this.suspendedUntil, this.time.now + ms);
    this.slept += until - Math.max(this.suspendedUntil, this.time.now);
    this.suspendedUntil = until;
  }

  get heldUntil(): number {
    return this.suspendedUntil;
  }

  /** A clock for both the client (`ClientClock`) and the gateway (`GatewayClock`). */
  clock(): SimClock {
    return {
      now: () => this.now(),
      wallNow: () => this.wallNow(),
      setTimeout: (fn: (...args: unknown[]) => void, ms: number) => this.time.schedule(() => fn(), ms, this),
      clearTimeout: (handle: unknown) => {
        if (handle !== null && typeof handle === 'object' && 'cancelled' in handle) (handle as Timer).cancelled = true;
      },
    };
  }
}

/** The clock handed to the real client and gateway. */
export interface SimClock {
  now(): number;
  wallNow(): number;
  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type { Timer };
