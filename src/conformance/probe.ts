// One raw WebSocket under test: records every frame the gateway sends, answers its heartbeat
// pings (so a slow run is never reaped), and lets rules wait for frames with bounded timeouts.
import WebSocket, { type RawData } from 'ws';
import { CloseCode } from '../protocol/close-codes.js';
import { redactTokens } from '../protocol/credentials.js';

/** A frame as received: the parsed JSON object, or the raw text when it was not a JSON object. */
export type Received = { readonly json: Record<string, unknown>; readonly text: string } | { readonly json?: undefined; readonly text: string };

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

/** A connection opened by a rule. Every wait is bounded; a close ends all waits early. */
export class Probe {
  readonly frames: Received[] = [];
  /** Set once the socket has closed. */
  closeInfo: CloseInfo | undefined;
  /** Heartbeat pings the gateway sent (answered with pong). */
  pings = 0;
  private readonly listeners = new Set<() => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: RawData, isBinary: boolean) => this.receive(data, isBinary));
    socket.on('close', (code: number, reason: Buffer) => {
      this.closeInfo = { code, reason: reason.toString() };
      this.notify();
    });
    // Errors after open end in 'close'; nothing to add here, but an unhandled 'error' would crash.
    socket.on('error', () => undefined);
  }

  /** Open a socket; rejects with a readable message when the upgrade fails or times out. */
  static open(url: string, timeoutMs: number): Promise<Probe> {
    return new Promise<Probe>((resolve, reject) => {
      const socket = new WebSocket(url, { handshakeTimeout: timeoutMs });
      socket.once('open', () => resolve(new Probe(socket)));
      socket.once('error', (error: Error) => reject(new Error(`cannot open ${redactTokens(url)}: ${error.message}`)));
      socket.once('unexpected-response', (_request, response) => {
        reject(new Error(`cannot open ${redactTokens(url)}: HTTP ${String(response.statusCode)}`));
        socket.terminate();
      });
    });
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Index of the next frame to arrive: pass it to `waitFor` to ignore earlier frames. */
  mark(): number {
    return this.frames.length;
  }

  send(frame: object): void {
    this.sendRaw(JSON.stringify(frame));
  }

  sendRaw(data: string | Buffer): void {
    if (this.isOpen) this.socket.send(data, { binary: typeof data !== 'string' });
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

  /** Resolve once the socket has closed, or undefined after `timeoutMs`. */
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

  /** Close politely, then hard after a short grace, and resolve when closed. */
  async close(): Promise<void> {
    if (this.closeInfo) return;
    this.socket.close(CloseCode.Normal);
    if (!(await this.waitForClose(1000))) this.socket.terminate();
  }

  private receive(data: RawData, isBinary: boolean): void {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
    let json: Record<string, unknown> | undefined;
    if (!isBinary) {
      try {
        const value: unknown = JSON.parse(text);
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) json = value as Record<string, unknown>;
      } catch {
        json = undefined;
      }
    }
    this.frames.push(json ? { json, text } : { text });
    if (json?.['type'] === 'ping') {
      this.pings++;
      this.send(json['ts'] === undefined ? { type: 'pong' } : { type: 'pong', ts: json['ts'] });
    }
    this.notify();
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

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
