// A TCP proxy that sits between a client and a gateway and breaks the network on demand:
// drops (RST), stalls (half-open), latency, refused connections, re-targeting and tiny chunks.
// Pure node:net, so it breaks real sockets the way a real network does, below WebSocket framing.
// Part of `agent-lifeline/testing`: apps test against it, and the CLI's `proxy` command runs it.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { listenOn } from '../server/listen.js';
import { WaitTimeoutError } from './wait-for.js';

/** Where the proxy forwards to. */
export interface ProxyTarget {
  readonly host: string;
  readonly port: number;
}

/** Options for {@link createFaultProxy}. */
export interface FaultProxyOptions {
  /** The upstream (usually the gateway). Change it later with `setTarget`. */
  readonly target: ProxyTarget;
  /** Interface to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Port to listen on. @default 0 (a free port) */
  readonly port?: number;
}

/**
 * A running fault proxy. Faults apply to every connection, current and future, until undone.
 * The four a network does most are `drop()`, `stall()`, `refuse(true)` and `pass()`.
 */
export interface FaultProxy {
  /** `ws://127.0.0.1:PORT`: point a WebSocket client here instead of at the gateway. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Client connections currently open through the proxy. */
  readonly connections: number;
  /** Destroy every current connection on both sides with a TCP RST (the peers see 1006). */
  drop(): void;
  /**
   * Stop forwarding in both directions while keeping the sockets open: a half-open link. Reading
   * stops too, so the senders' kernel buffers fill up as they would behind a dead route. New
   * connections are accepted but stalled as well. `'down'` stalls only what the upstream sends
   * (a client that stopped reading: its own frames still go up, its reads pile up upstream).
   * @default 'both'
   */
  stall(direction?: 'both' | 'down'): void;
  /** Undo `stall()`: held bytes are delivered in order, as TCP would after the route heals. */
  resume(): void;
  /** Forward normally again: undo `stall()`, `refuse()`, `delay()` and `split()` (held bytes go on, in order). */
  pass(): void;
  /** Hold every chunk `ms` before forwarding it (latency, not a bandwidth cap). 0 turns it off. */
  delay(ms: number): void;
  /** While on, new connections are accepted and immediately reset; existing ones are untouched. */
  refuse(on: boolean): void;
  /** New connections go to `target`; existing ones stay where they are. */
  setTarget(target: ProxyTarget): void;
  /** Forward in pieces of at most `bytes` bytes, written separately, to exercise frame reassembly. 0 turns it off. */
  split(bytes: number): void;
  /** Resolve once exactly `count` connections are open; reject with a `WaitTimeoutError` after `timeoutMs` (default 2000). */
  waitForConnections(count: number, timeoutMs?: number): Promise<void>;
  /** Reset every connection and stop listening. */
  close(): Promise<void>;
}

interface Chunk {
  readonly data: Buffer;
  readonly readyAt: number;
}

interface Settings {
  stalled: 'none' | 'both' | 'down';
  delayMs: number;
  splitBytes: number;
}

/** One direction of a proxied connection: an ordered queue drained under the current faults. */
class Pipe {
  private readonly queue: Chunk[] = [];
  private busy = false;
  private ended = false;

  constructor(
    from: Socket,
    private readonly to: Socket,
    private readonly settings: Settings,
    /** Upstream to client. */
    private readonly down: boolean,
  ) {
    from.on('data', (data: Buffer) => this.push(data));
    from.on('end', () => {
      this.ended = true;
      this.pump();
    });
  }

  push(data: Buffer): void {
    this.queue.push({ data, readyAt: performance.now() + this.settings.delayMs });
    this.pump();
  }

  pump(): void {
    const stalled = this.settings.stalled === 'both' || (this.settings.stalled === 'down' && this.down);
    if (this.busy || stalled || this.to.destroyed) return;
    const head = this.queue[0];
    if (!head) {
      // Half-close only once everything before the FIN has gone out.
      if (this.ended && !this.to.writableEnded) this.to.end();
      return;
    }
    const wait = head.readyAt - performance.now();
    if (wait > 0) {
      this.busy = true;
      setTimeout(() => this.release(), wait);
      return;
    }
    const size = this.settings.splitBytes;
    let piece = head.data;
    if (size > 0 && piece.length > size) {
      this.queue[0] = { data: piece.subarray(size), readyAt: head.readyAt };
      piece = piece.subarray(0, size);
    } else {
      this.queue.shift();
    }
    if (size > 0) {
      // Wait for the write to reach the kernel, then yield, so pieces leave as separate segments.
      this.busy = true;
      this.to.write(piece, () => setImmediate(() => this.release()));
    } else {
      this.to.write(piece);
      this.pump();
    }
  }

  private release(): void {
    this.busy = false;
    this.pump();
  }
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly pipes: readonly [Pipe, Pipe];
}

function reset(socket: Socket): void {
  if (!socket.destroyed) socket.resetAndDestroy();
}

/**
 * Start a fault proxy on 127.0.0.1 (port 0 by default) in front of `options.target`. Rejects with
 * a `GatewayError` (`address_in_use`, `address_unavailable`) when it cannot listen.
 * @example
 * const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: gateway.port } });
 * const client = createGatewayClient({ url: proxy.url, agentId: 'demo' });
 * proxy.drop(); // the client sees 1006 and reconnects through the proxy
 */
export async function createFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  let target = options.target;
  let refusing = false;
  const settings: Settings = { stalled: 'none', delayMs: 0, splitBytes: 0 };
  const pairs = new Set<Pair>();
  const watchers = new Set<() => void>();
  const notify = (): void => watchers.forEach((watch) => watch());

  // Stop reading what a stalled direction would carry, so its sender's kernel buffers fill up.
  const applyStall = (pair: Pair): void => {
    if (settings.stalled === 'both') pair.client.pause();
    else pair.client.resume();
    if (settings.stalled === 'none') pair.upstream.resume();
    else pair.upstream.pause();
  };

  const server: Server = createServer((client) => {
    if (refusing) {
      reset(client);
      return;
    }
    client.setNoDelay(true);
    const upstream = connect({ host: target.host, port: target.port });
    upstream.setNoDelay(true);
    const pair: Pair = {
      client,
      upstream,
      pipes: [new Pipe(client, upstream, settings, false), new Pipe(upstream, client, settings, true)],
    };
    pairs.add(pair);
    if (settings.stalled !== 'none') applyStall(pair);
    // An error on one side (including a refused upstream) resets the other, like a dead route.
    client.on('error', () => reset(upstream));
    upstream.on('error', () => reset(client));
    // A clean close travels as a FIN through the pipe (after the bytes queued before it); an
    // abrupt one resets the other side at once.
    client.on('close', (hadError) => {
      if (hadError) reset(upstream);
      pairs.delete(pair);
      notify();
    });
    upstream.on('close', (hadError) => {
      if (hadError) reset(client);
    });
    notify();
  });

  // A busy port rejects with address_in_use; a later accept error (EMFILE) must not crash the host.
  const port = await listenOn(server, options.host ?? '127.0.0.1', options.port ?? 0, () => undefined);

  const pumpAll = (): void => pairs.forEach((pair) => pair.pipes.forEach((pipe) => pipe.pump()));
  const resume = (): void => {
    settings.stalled = 'none';
    pairs.forEach(applyStall);
    pumpAll();
  };

  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    get connections() {
      return pairs.size;
    },
    drop() {
      for (const pair of pairs) {
        reset(pair.client);
        reset(pair.upstream);
      }
    },
    stall(direction = 'both') {
      settings.stalled = direction;
      pairs.forEach(applyStall);
      // Chunks held for an up direction that is no longer stalled go on.
      pumpAll();
    },
    resume,
    pass() {
      refusing = false;
      settings.delayMs = 0;
      settings.splitBytes = 0;
      resume();
    },
    delay(ms) {
      settings.delayMs = Math.max(0, ms);
    },
    refuse(on) {
      refusing = on;
    },
    setTarget(next) {
      target = next;
    },
    split(bytes) {
      settings.splitBytes = Math.max(0, Math.floor(bytes));
    },
    waitForConnections(count, timeoutMs = 2000) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (pairs.size !== count) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new WaitTimeoutError(`fault proxy: expected ${count} connections, have ${pairs.size} after ${timeoutMs} ms`, `${count} connections`, timeoutMs));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        watchers.add(check);
        check();
      });
    },
    async close() {
      refusing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const pair of pairs) {
        reset(pair.client);
        reset(pair.upstream);
      }
      await closed;
    },
  };
}
