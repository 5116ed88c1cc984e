// What every probe of the kit shares, whatever it travels over (a WebSocket, the HTTP binding):
// the frames received in order, how the connection closed, and bounded waits on both.
import { CloseCode } from '../protocol/close-codes.js';

/** A frame as received: the parsed JSON object, or the raw text when it was not a JSON object. */
export type Received = { readonly json: Record<string, unknown>; readonly text: string } | { readonly json?: undefined; readonly text: string };

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

/** Read a frame's text as the kit records it. */
export function received(text: string, isBinary = false): Received {
  if (!isBinary) {
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { json: value as Record<string, unknown>, text };
    } catch {
      // recorded as text
    }
  }
  return { text };
}

/** Frames and a close, with waits that are all bounded and that a close ends early. */
export class FrameRecorder {
  readonly frames: Received[] = [];
  /** Set once the connection has closed. */
  closeInfo: CloseInfo | undefined;
  private readonly listeners = new Set<() => void>();

  /** Index of the next frame to arrive: pass it to `waitFor` to ignore earlier frames. */
  mark(): number {
    return this.frames.length;
  }

  /** The first frame from index `from` on that matches, or undefined on timeout or close. */
  waitFor(match: (frame: Received) => boolean, timeoutMs: number, from = 0): Promise<Received | undefined> {
    return this.wait(() => this.frames.slice(from).find(match), timeoutMs);
  }

  /** Like `waitFor`, for a JSON frame of one of the given types. */
  async waitForType(types: readonly string[], timeoutMs: number, from = 0): Promise<Record<string, unknown> | undefined> {
    const frame = await this.waitFor((f) => typeof f.json?.['type'] === 'string' && types.includes(f.json['type']), timeoutMs, from);
    return frame?.json;
  }

  /** Resolve once the connection has closed, or undefined after `timeoutMs`. */
  waitForClose(timeoutMs: number): Promise<CloseInfo | undefined> {
    return this.wait(() => this.closeInfo, timeoutMs, true);
  }

  /**
   * Resolve when no frame matching `match` has arrived for `quietMs` (a burst is over), or at
   * `maxMs`. Returns the matching frames from `from` on.
   */
  async settle(match: (frame: Received) => boolean, quietMs: number, maxMs: number, from = 0): Promise<Received[]> {
    const deadline = Date.now() + maxMs;
    let seen = -1;
    for (;;) {
      const matching = this.frames.slice(from).filter(match);
      if (matching.length === seen || this.closeInfo || Date.now() >= deadline) return matching;
      seen = matching.length;
      const count = seen;
      await this.wait(() => (this.frames.slice(from).filter(match).length > count ? true : undefined), Math.min(quietMs, Math.max(0, deadline - Date.now())));
    }
  }

  /** Record a frame and wake the waits. */
  protected record(frame: Received): void {
    this.frames.push(frame);
    this.notify();
  }

  /** Record the close (the first one counts): `code` 1006 when the connection just dropped. */
  protected closed(info: CloseInfo = { code: CloseCode.Abnormal, reason: '' }): void {
    this.closeInfo ??= info;
    this.notify();
  }

  protected notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private wait<T>(check: () => T | undefined, timeoutMs: number, evenIfClosed = false): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve) => {
      const done = (value: T | undefined): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(value);
      };
      const listener = (): void => {
        const value = check();
        if (value !== undefined) done(value);
        else if (this.closeInfo && !evenIfClosed) done(undefined);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.listeners.add(listener);
      listener();
    });
  }
}
