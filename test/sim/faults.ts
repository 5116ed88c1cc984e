// The fault catalogue and the schedule: a fault is plain data (when, what, where, how long), drawn
// up front from the seed's fault stream. The rest of the world draws from other streams, so the
// shrinker can delete faults from a schedule and replay the same world without them.
import type { Rng } from '../chaos/prng.js';

/** Every kind of fault the world can inject. */
export type FaultKind =
  /** The client's connection dies: frames in flight are lost, both ends see 1006. */
  | 'cut'
  /** One end resets the connection (RST after the frames already delivered). */
  | 'reset'
  /** Half-open: nothing moves either way for a while, and no close arrives. */
  | 'stall'
  /** New connections from the client are refused for a while. */
  | 'refuse'
  /** A middlebox accepts the WebSocket and drops it at once, for a while (the current one is cut). */
  | 'flap'
  /** The client reads slowly: the gateway's `bufferedAmount` grows. */
  | 'slow'
  /** Latency spike. */
  | 'spike'
  /** The client's machine sleeps: timers and input wait, its monotonic clock skips the sleep. */
  | 'suspend'
  /** The client's wall clock steps (forward or back). */
  | 'wall-step'
  /** A hostile frame (from the fuzz catalogue) reaches the client on its live connection. */
  | 'hostile-frame'
  /** For a while the client's connections reach a hostile server (frames from the fuzz catalogue, then a close). */
  | 'hostile-server'
  /** Several clients lose the network at once (stall and refuse). */
  | 'partition'
  /** The gateway crashes and restarts with its log. */
  | 'crash'
  /** The gateway crashes and restarts with a fresh log (every history lost). */
  | 'crash-fresh'
  /** The gateway drains (draining hints, then 1001) and keeps running. */
  | 'drain'
  /** A hostile client connects and sends frames from the fuzz catalogue. */
  | 'hostile-client'
  /** The gateway's wall clock steps. */
  | 'gateway-wall-step'
  /** The app ends a client's session (`expireSession`): 4040, and the client starts a new one. */
  | 'expire'
  /** For a while a proxy on the client's path refuses WebSocket upgrades (HTTP goes through). HTTP worlds only. */
  | 'block-upgrade'
  /** For a while the client's POSTs are lost: the request, or its answer after the gateway handled it. HTTP worlds only. */
  | 'post-lost'
  /** The gateway loses the client's connection and the client is never told (its stream, or its socket, goes silent). HTTP worlds only. */
  | 'half-dead';

/** One scheduled fault. `target` is a client index (a bit mask for a partition). */
export interface Fault {
  readonly at: number;
  readonly kind: FaultKind;
  readonly target: number;
  readonly durationMs: number;
  /** Kind-specific: a speed, a latency, a wall step, a hostile frame index. */
  readonly param: number;
}

const CLIENT_FAULTS: readonly FaultKind[] = ['cut', 'cut', 'cut', 'reset', 'reset', 'stall', 'stall', 'refuse', 'flap', 'slow', 'spike', 'suspend', 'wall-step', 'hostile-frame', 'hostile-server'];
const WORLD_FAULTS: readonly FaultKind[] = ['partition', 'crash', 'crash-fresh', 'drain', 'drain', 'hostile-client', 'gateway-wall-step', 'expire'];
/** What an HTTP world adds: the faults of the HTTP transport, and the proxy that makes clients move to it. */
const HTTP_FAULTS: readonly FaultKind[] = ['block-upgrade', 'post-lost', 'post-lost', 'half-dead', 'half-dead'];

/** What the schedule is drawn for. */
export interface ScheduleOptions {
  readonly clients: number;
  readonly faults: number;
  /** Faults start after this (everyone has joined once) and are spread until `endMs`. */
  readonly startMs: number;
  readonly endMs: number;
  /** Share of world-wide faults (gateway, partition, hostile client). @default 0.06 */
  readonly worldShare?: number;
  /** Draw the HTTP faults too (clients that can fall back to HTTP). @default false */
  readonly http?: boolean;
}

function draw(kind: FaultKind, at: number, rng: Rng, clients: number): Fault {
  const target = rng.int(0, clients - 1);
  const fault = (durationMs: number, param = 0, t = target): Fault => ({ at, kind, target: t, durationMs, param });
  switch (kind) {
    case 'cut':
    case 'reset':
      return fault(0, rng.int(0, 1));
    case 'stall':
      return fault(rng.int(50, 1500));
    case 'refuse':
      return fault(rng.int(50, 1000));
    case 'flap':
      return fault(rng.int(200, 1500));
    case 'hostile-server':
      return fault(rng.int(200, 1500), rng.int(0, 1_000_000));
    case 'slow':
      return fault(rng.int(500, 8000), rng.int(1, 20));
    case 'spike':
      return fault(rng.int(50, 1000), rng.int(20, 400));
    case 'suspend':
      return fault(rng.int(50, 1500));
    case 'wall-step':
    case 'gateway-wall-step':
      // Up to an hour either way.
      return fault(0, rng.pick([-1, 1]) * rng.int(1000, 3_600_000));
    case 'hostile-frame':
    case 'hostile-client':
      return fault(0, rng.int(0, 1_000_000));
    case 'partition': {
      let mask = 0;
      for (let i = 0; i < clients; i++) if (rng.chance(0.5)) mask |= 1 << i;
      return fault(rng.int(100, 1500), 0, mask === 0 ? 1 : mask);
    }
    case 'crash':
    case 'crash-fresh':
      // Downtime before the new process listens.
      return fault(rng.int(0, 1000), 0, 0);
    case 'drain':
      return fault(0, rng.int(0, 600), 0);
    case 'expire':
    case 'half-dead':
      return fault(0);
    case 'block-upgrade':
      // Long enough that clients settle on HTTP and, past 60 s, try the WebSocket again.
      return fault(rng.int(1000, 40_000));
    case 'post-lost':
      return fault(rng.int(50, 1500), rng.int(0, 1));
  }
}

/** Draw a schedule: `faults` faults at seeded times in `startMs..endMs`, in time order. */
export function drawSchedule(rng: Rng, options: ScheduleOptions): Fault[] {
  const worldShare = options.worldShare ?? 0.06;
  const times: number[] = [];
  for (let i = 0; i < options.faults; i++) times.push(rng.int(options.startMs, options.endMs));
  times.sort((a, b) => a - b);
  const clientFaults = options.http === true ? [...CLIENT_FAULTS, ...HTTP_FAULTS] : CLIENT_FAULTS;
  return times.map((at) => draw(rng.chance(worldShare) ? rng.pick(WORLD_FAULTS) : rng.pick(clientFaults), at, rng, options.clients));
}

/** When the last fault is over: the network is healthy from here on. */
export function healTime(schedule: readonly Fault[], endMs: number): number {
  return schedule.reduce((t, f) => Math.max(t, f.at + f.durationMs), endMs);
}

/** One line per fault, for the shrinker's output. */
export function describeFault(f: Fault): string {
  const who = f.kind === 'partition' ? `clients ${maskList(f.target)}` : f.kind === 'expire' ? `the session of client ${f.target}` : ['crash', 'crash-fresh', 'drain', 'hostile-client', 'gateway-wall-step'].includes(f.kind) ? 'gateway' : `client ${f.target}`;
  const extra = f.durationMs > 0 ? ` for ${f.durationMs} ms` : '';
  const param =
    f.kind === 'slow'
      ? `, ${f.param / 20} B/ms`
      : f.kind === 'spike'
        ? `, +${f.param} ms`
        : f.kind.endsWith('wall-step')
          ? `, ${f.param > 0 ? '+' : ''}${f.param} ms`
          : f.kind === 'drain'
            ? `, spread ${f.param} ms`
            : f.kind === 'post-lost'
              ? `, the ${f.param === 0 ? 'request' : 'answer'}`
              : '';
  return `${f.kind} ${who}${extra}${param}`;
}

function maskList(mask: number): string {
  const out: number[] = [];
  for (let i = 0; i < 31; i++) if (mask & (1 << i)) out.push(i);
  return out.join(',');
}
