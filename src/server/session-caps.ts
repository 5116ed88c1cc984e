// How many sessions may exist: in total, per owner (the credentials that created them) and per
// address (sessions created without verified credentials). Counted behind the SessionCaps seam, so
// a shared store can count a whole fleet (the Redis fleet brings one: redis/session-caps.ts); the
// default counts this process's sessions.

/** The three caps. Each is a positive integer. */
export interface SessionLimits {
  /** Sessions in total. */
  readonly total: number;
  /** Sessions created with one token (by its owner tag). */
  readonly perOwner: number;
  /** Sessions created from one address without verified credentials. */
  readonly perAddress: number;
}

/** Who a new session is charged to. */
export interface SessionClaim {
  readonly sessionId: string;
  /** Owner tag of the token that creates it (see `ownerOf`); undefined without a token. */
  readonly owner: string | undefined;
  /** The creating peer's address; undefined when a verified token vouches for the session. */
  readonly address: string | undefined;
}

/** A session a node holds connections to, as `refresh` keeps it counted. */
export interface HeldSession {
  readonly sessionId: string;
  /** Owner tag it was created with (its record's `owner`); undefined without a token. */
  readonly owner: string | undefined;
}

/** Which cap refused a session. */
export type SessionCapName = keyof SessionLimits;

/** The answer to a claim. */
export type SessionCapVerdict = { readonly ok: true } | { readonly ok: false; readonly cap: SessionCapName; readonly limit: number };

/**
 * Counts sessions against the caps. The gateway calls `claim` in the session's queue before the
 * log creates a session, and `release` once it forgets one (or the creation failed). A shared
 * store implements both atomically, so the caps hold across nodes.
 */
export interface SessionCaps {
  /** Count a new session, or refuse it naming the cap that is full. Claiming a counted id again is a no-op. */
  claim(claim: SessionClaim): SessionCapVerdict | Promise<SessionCapVerdict>;
  /** Stop counting a session; unknown ids are ignored. */
  release(sessionId: string): void | Promise<void>;
  /**
   * Keep these sessions counted: the gateway calls it with the sessions it holds connections to,
   * each time it refreshes their TTL in a shared log. Counts that expire by themselves need it,
   * and must count again (never refuse) a held session whose count lapsed: one kept alive only
   * by publishes for a whole TTL, then resumed. Resuming itself costs no call to the caps.
   * Counts that never expire (the in-process caps) ignore it.
   */
  refresh(sessions: readonly HeldSession[]): void | Promise<void>;
  /**
   * True when the counts are shared by the fleet: a node that forgets an idle session only
   * locally (it may be live on another node) then leaves its count alone; it lapses with the
   * session's TTL instead, or goes with `release` when the session is ended. False for caps
   * that count one process's sessions.
   */
  readonly shared: boolean;
  /** Sessions counted now (a shared store's: as of its last answer). */
  readonly counted: number;
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}

/**
 * The in-process {@link SessionCaps}: counts the sessions this gateway holds. At start-up the
 * gateway claims the sessions a kept log brought along, by owner only (their address is unknown).
 */
export function createMemorySessionCaps(limits: SessionLimits): SessionCaps {
  const claims = new Map<string, SessionClaim>();
  const byOwner = new Map<string, number>();
  const byAddress = new Map<string, number>();
  return {
    shared: false,
    claim(claim) {
      if (claims.has(claim.sessionId)) return { ok: true };
      if (claims.size >= limits.total) return { ok: false, cap: 'total', limit: limits.total };
      if (claim.owner !== undefined && (byOwner.get(claim.owner) ?? 0) >= limits.perOwner) return { ok: false, cap: 'perOwner', limit: limits.perOwner };
      if (claim.address !== undefined && (byAddress.get(claim.address) ?? 0) >= limits.perAddress) return { ok: false, cap: 'perAddress', limit: limits.perAddress };
      claims.set(claim.sessionId, claim);
      if (claim.owner !== undefined) bump(byOwner, claim.owner, 1);
      if (claim.address !== undefined) bump(byAddress, claim.address, 1);
      return { ok: true };
    },
    release(sessionId) {
      const claim = claims.get(sessionId);
      if (!claim) return;
      claims.delete(sessionId);
      if (claim.owner !== undefined) bump(byOwner, claim.owner, -1);
      if (claim.address !== undefined) bump(byAddress, claim.address, -1);
    },
    // Counts of this process never lapse: nothing to refresh.
    refresh: () => undefined,
    get counted() {
      return claims.size;
    },
  };
}
