// Deliberate bugs for the deterministic simulation (docs/simulation.md): each switch breaks one
// promise on purpose, so test/sim/mutations.test.ts can prove the simulation notices. All are off,
// nothing in production turns them on, and no entry point exports this module. The code reads a
// switch only off the hot path (on a resume, a failure, a gap, an over-limit buffer, a message).

/** The mutations, all off. Tests flip one, run seeds, and flip it back. */
export const mutations = {
  /** The resume plan replays from `since + 2`: one event silently skipped on every resume. */
  resumeOffByOne: false,
  /** The gateway applies a resent message again instead of acknowledging it as a duplicate. */
  dedupeOff: false,
  /** The client's tracker never tells the app about a gap. */
  gapSignalDropped: false,
  /** The gateway never evicts a slow consumer: its send buffer grows without bound. */
  unboundedQueue: false,
  /** A failure after the socket opened counts as the first again: the anti-pattern of resetting the backoff counter on open. */
  backoffResetOnOpen: false,
};

/** The name of one mutation. */
export type Mutation = keyof typeof mutations;
