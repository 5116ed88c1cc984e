// Deliberate bugs for the deterministic simulation (docs/simulation.md): each breaks one promise on
// purpose, so mutations.test.ts can prove the simulation notices. None is a switch that production
// code reads: each comes in through a seam the product has, chosen once when the world is built
// (the chart's provide(), the parts a client or a gateway is assembled from, the event log).
import { assign } from 'xstate';
import { clientMachine, type ClientMachine } from '../../src/client/client-machine.js';
import { DEFAULT_CLIENT_PARTS, type ClientParts } from '../../src/client/client-parts.js';
import { createGapTracker } from '../../src/client/gap-tracker.js';
import { failureOf } from '../../machines/gateway-machine.js';
import type { EventLog, MessageClaim } from '../../src/server/event-log.js';
import { DEFAULT_GATEWAY_PARTS, type GatewayParts } from '../../src/server/gateway-parts.js';
import { createOutbox } from '../../src/server/outbox.js';
import { planResume } from '../../src/server/resume-plan.js';

/** The mutations, by name: the bug each plants. */
export const MUTATIONS = {
  resumeOffByOne: 'the resume plan replays from since + 2: one event silently skipped on every resume',
  dedupeOff: 'the log forgets that a message was applied, so the gateway applies a resent one again',
  gapSignalDropped: "the client's tracker never tells the app about a gap",
  unboundedQueue: "the gateway's outbox has no byte bound: a slow consumer is never evicted",
  backoffResetOnOpen: 'a failure after the socket opened counts as the first again (resetting the backoff on open)',
} as const;

/** The name of one mutation. */
export type Mutation = keyof typeof MUTATIONS;

export function isMutation(name: string): name is Mutation {
  return Object.hasOwn(MUTATIONS, name);
}

/** What a world is built from: the clients' parts, the gateway's parts, and a wrapper for each log it creates. */
export interface WorldParts {
  readonly client: ClientParts;
  readonly gateway: GatewayParts;
  readonly log: (log: EventLog) => EventLog;
}

/** The correct parts: what `createGatewayClient`, `createGateway` and the memory log use. */
export const CORRECT_PARTS: WorldParts = { client: DEFAULT_CLIENT_PARTS, gateway: DEFAULT_GATEWAY_PARTS, log: (log) => log };

/** The parts of a world with `mutation` planted; the correct parts when it is undefined. */
export function partsFor(mutation: Mutation | undefined): WorldParts {
  const { client, gateway } = CORRECT_PARTS;
  switch (mutation) {
    case undefined:
      return CORRECT_PARTS;
    case 'resumeOffByOne':
      return {
        ...CORRECT_PARTS,
        gateway: {
          ...gateway,
          planResume(request, position) {
            const plan = planResume(request, position);
            // Only a resume the gateway can serve in full: the others replay everything held anyway.
            return request.since !== undefined && !plan.resyncRequired ? { ...plan, replayAfter: plan.replayAfter + 1 } : plan;
          },
        },
      };
    case 'dedupeOff':
      return { ...CORRECT_PARTS, log: forgetAppliedMessages };
    case 'gapSignalDropped':
      return {
        ...CORRECT_PARTS,
        client: { ...client, createTracker: (sink, ...rest) => createGapTracker({ event: (event) => sink.event(event), gap: () => undefined }, ...rest) },
      };
    case 'unboundedQueue':
      return { ...CORRECT_PARTS, gateway: { ...gateway, createOutbox: (ws, options) => createOutbox(ws, { ...options, maxBufferedBytes: Infinity }) } };
    case 'backoffResetOnOpen':
      return { ...CORRECT_PARTS, client: { ...client, machine: resetOnOpenMachine() } };
  }
}

/** A log whose message-id memory answers "never seen" for an id it recorded as applied. */
function forgetAppliedMessages(log: EventLog): EventLog {
  const forget = (claim: MessageClaim): MessageClaim => (claim.status === 'applied' ? { status: 'claimed', takenOver: false } : claim);
  return {
    ...log,
    claimMessage(sessionId, messageId, holder) {
      const claim = log.claimMessage(sessionId, messageId, holder);
      return claim instanceof Promise ? claim.then(forget) : forget(claim);
    },
  };
}

// provide() builds a whole machine, so the variant is made once per process.
let resetOnOpen: ClientMachine | undefined;

/** The client's chart with its failure counter reset whenever a socket that had opened closes. */
function resetOnOpenMachine(): ClientMachine {
  resetOnOpen ??= clientMachine.provide({
    actions: {
      // 1006: the socket never opened (or died without a close frame); any other close followed an open.
      countFailure: assign({
        attempt: ({ context, event }) => (event.type === 'socket.closed' && event.code !== 1006 ? 1 : context.attempt + 1),
        failure: ({ context, event }) => failureOf(context, event),
      }),
    },
  });
  return resetOnOpen;
}
