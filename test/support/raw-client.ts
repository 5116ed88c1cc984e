// A raw `ws` test client: sends whatever it is told (valid or not) and records every frame, so
// tests can wait on frames and closes with bounded timeouts instead of sleeping.
import { WebSocket } from 'ws';

/** A received frame: a parsed JSON object, or `{type: '__text__', text}` when it was not JSON. */
export type Frame = Record<string, unknown> & { readonly type: string };

/** How a socket closed. */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

/** Options for {@link connectRaw}. */
export interface RawClientOptions {
  /** Sent as the Origin header. */
  readonly origin?: string;
  /** Extra request headers (as a proxy would add `X-Forwarded-For`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Answer gateway pings with pongs (off by default: a raw client does only what it is told). */
  readonly autoPong?: boolean;
  /** Bound on the connection itself. @default 2000 */
  readonly timeoutMs?: number;
}

/** A connected raw client. */
export interface RawClient {
  readonly ws: WebSocket;
  /** Every frame received so far, in order. */
  readonly frames: readonly Frame[];
  /** Send a frame (objects are JSON-encoded; strings go as is). */
  send(frame: object | string): void;
  sendBinary(data: Uint8Array): void;
  /** The next not-yet-consumed frame of `type` (any type when omitted); earlier frames of other types are skipped. */
  next(type?: string, timeoutMs?: number): Promise<Frame>;
  /** Resolves once `predicate(frames)` holds; re-checked on every frame. */
  until(predicate: (frames: readonly Frame[]) => boolean, timeoutMs?: number, description?: string): Promise<void>;
  /** Resolves when the socket closes. */
  closed(timeoutMs?: number): Promise<CloseInfo>;
  /** Round-trip a ping: every frame the gateway sent before its pong is then in `frames`. */
  sync(timeoutMs?: number): Promise<void>;
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 2000;
let syncCounter = 0;

function parse(text: string): Frame {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { type?: unknown }).type === 'string') {
      return value as Frame;
    }
  } catch {
    // fall through: record the raw text
  }
  return { type: '__text__', text };
}

/** Open a raw client on `url`; rejects if the socket does not open within the timeout. */
export async function connectRaw(url: string, options: RawClientOptions = {}): Promise<RawClient> {
  const ws = new WebSocket(url, { ...(options.origin === undefined ? {} : { origin: options.origin }), ...(options.headers === undefined ? {} : { headers: { ...options.headers } }) });
  const frames: Frame[] = [];
  let readIndex = 0;
  let closeInfo: CloseInfo | undefined;
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of [...listeners]) listener();
  };

  ws.on('message', (data, isBinary) => {
    const frame = isBinary ? { type: '__binary__' } : parse(String(data));
    frames.push(frame);
    if (options.autoPong && frame.type === 'ping') ws.send(JSON.stringify({ type: 'pong', ts: frame['ts'] }));
    notify();
  });
  ws.on('close', (code, reason) => {
    closeInfo = { code, reason: reason.toString() };
    notify();
  });
  ws.on('error', () => {
    // Surfaced through `close` and the open timeout; an unhandled 'error' would crash the worker.
  });

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connect to ${url} timed out`)), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`socket closed (${code}) before opening`));
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`upgrade refused with HTTP ${String(res.statusCode)}`));
    });
  });

  const waitFor = <T>(check: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> =>
    new Promise((resolve, reject) => {
      // `check` may throw (the socket closed first); that rejects the wait.
      const attempt = (): boolean => {
        try {
          const value = check();
          if (value === undefined) return false;
          resolve(value);
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
        return true;
      };
      if (attempt()) return;
      const listener = (): void => {
        if (attempt()) cleanup();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${describe()}; received: ${frames.map((f) => f.type).join(', ') || 'nothing'}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        listeners.delete(listener);
      };
      listeners.add(listener);
    });

  const client: RawClient = {
    ws,
    frames,
    send(frame) {
      ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    },
    sendBinary(data) {
      ws.send(data, { binary: true });
    },
    next(type, timeoutMs = DEFAULT_TIMEOUT_MS) {
      return waitFor(
        () => {
          for (let i = readIndex; i < frames.length; i++) {
            const frame = frames[i];
            if (frame && (type === undefined || frame.type === type)) {
              readIndex = i + 1;
              return frame;
            }
          }
          if (closeInfo) throw new Error(`socket closed (${closeInfo.code} ${closeInfo.reason}) while waiting for ${type ?? 'a frame'}`);
          return undefined;
        },
        timeoutMs,
        () => `frame ${type ?? '(any)'}`,
      );
    },
    async until(predicate, timeoutMs = DEFAULT_TIMEOUT_MS, description = 'condition') {
      await waitFor(() => (predicate(frames) ? true : undefined), timeoutMs, () => description);
    },
    closed(timeoutMs = DEFAULT_TIMEOUT_MS) {
      return waitFor(() => closeInfo, timeoutMs, () => 'close');
    },
    async sync(timeoutMs = DEFAULT_TIMEOUT_MS) {
      const ts = ++syncCounter + 0.5;
      client.send({ type: 'ping', ts });
      await waitFor(() => frames.find((f) => f.type === 'pong' && f['ts'] === ts), timeoutMs, () => `pong ${ts}`);
    },
    close() {
      ws.close();
    },
  };
  return client;
}
