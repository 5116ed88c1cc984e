// Drives the client's real frame router and gap tracker with wire text, no socket: one tracker
// that outlives "connections", one router per connection, and every output recorded in order.
import type { GapInfo, GatewayEvent, SessionSnapshot } from '../../src/client/index.js';
import { createFrameRouter } from '../../src/client/frame-router.js';
import { createGapTracker, type GapTracker } from '../../src/client/gap-tracker.js';
import { EXTENSIONS } from '../../src/protocol/index.js';

/** One thing the tracker emitted, in emission order. */
export type Output =
  | { readonly kind: 'event'; readonly seq: number | null; readonly data: unknown; readonly replayed: boolean }
  | { readonly kind: 'gap'; readonly gap: GapInfo; readonly landing: string | null }
  | { readonly kind: 'snapshot'; readonly snapshot: SessionSnapshot };

export interface Harness {
  readonly tracker: GapTracker;
  readonly outputs: Output[];
  /** Client-side errors (bad frames) reported by the router. */
  readonly errors: string[];
  /** Start a new connection; returns its router. */
  connect(): (frame: object | string) => void;
  /** Extra listeners (e.g. a stream checker) called with each output as it happens. */
  onOutput(listener: (output: Output) => void): void;
}

export function createHarness(sessionId?: string): Harness {
  const outputs: Output[] = [];
  const errors: string[] = [];
  const listeners: Array<(o: Output) => void> = [];
  const emit = (o: Output): void => {
    outputs.push(o);
    for (const l of listeners) l(o);
  };
  // The sink runs inside tracker calls, after the tracker has adopted a handshake's epoch.
  const tracker: GapTracker = createGapTracker(
    {
      event: (e: GatewayEvent) => emit({ kind: 'event', seq: e.seq, data: e.data, replayed: e.replayed }),
      gap: (gap) => emit({ kind: 'gap', gap, landing: tracker.epoch }),
    },
    sessionId,
  );
  return {
    tracker,
    outputs,
    errors,
    onOutput: (l) => void listeners.push(l),
    connect() {
      const route = createFrameRouter(
        {
          tracker,
          send: () => undefined,
          lifecycle: () => undefined,
          sendJoin: () => undefined,
          stopped: () => false,
          accepted: () => undefined,
          ack: () => undefined,
          messageError: () => undefined,
          messageRetry: () => undefined,
          snapshot: (snapshot) => emit({ kind: 'snapshot', snapshot }),
          error: (e) => void errors.push(`${e.code}: ${e.message}`),
        },
        'hello',
      );
      return (frame) => route(typeof frame === 'string' ? frame : JSON.stringify(frame));
    },
  };
}

/** A `hello_ok` as the reference gateway sends it, with the fields resume depends on. */
export function helloOk(fields: {
  session_id: string;
  cursor: number;
  epoch: string;
  oldest_cursor: number;
  resumed: boolean;
  gap?: { expected: number; received: number } | undefined;
}): object {
  const { gap, ...rest } = fields;
  return {
    type: 'hello_ok',
    protocol: 2,
    features: { methods: ['message', 'resync', 'leave', 'ping'], events: [], extensions: [...EXTENSIONS] },
    policy: { max_payload: 1_048_576, heartbeat_ms: 15_000, max_buffered_bytes: 4_194_304, replay_window: 1000 },
    resync_required: gap !== undefined,
    ...(gap === undefined ? {} : { gap }),
    ...rest,
  };
}
