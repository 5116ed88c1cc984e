"""Reconnect timing as pure functions: exponential backoff with full jitter. Mirrors
src/client/backoff.ts; times are in ms inside, seconds in the public ``Backoff``."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, Literal, Optional, Tuple


@dataclass(frozen=True)
class Backoff:
    """How the client retries after a connection fails (seconds).

    ``initial`` is the ceiling of the first retry's delay (default 0.25), ``max`` caps any delay
    while the outage is young (default 5), ``probe_window`` is how long after a joined connection
    drops the client also probes within ``initial`` between the backoff's attempts (default 0.5; 0
    turns it off; a failed probe is not counted), ``suspend_after`` is the outage age after which the
    client is ``suspended`` and retries under ``suspended_max`` (defaults 60 and 30: a long outage
    across a fleet stays gentle), ``multiplier`` grows the ceiling per failure (default 2), ``jitter`` is the
    random share (1 = full jitter, AWS "Exponential Backoff and Jitter"), ``max_attempts`` failures
    in a row give up with ``retries_exhausted`` (default unlimited), and ``min_uptime`` is how long
    a join must last before the failure count resets (default 5), so a gateway that accepts and
    drops at once cannot make a fast loop.
    """

    initial: float = 0.25
    max: float = 5.0
    probe_window: float = 0.5
    suspend_after: float = 60.0
    suspended_max: float = 30.0
    multiplier: float = 2.0
    jitter: float = 1.0
    max_attempts: Optional[int] = None
    min_uptime: float = 5.0

    def to_options(self) -> Dict[str, float]:
        """The TypeScript ``ReconnectOptions`` (ms) the chart's context holds."""
        return {
            "initialDelayMs": self.initial * 1000,
            "maxDelayMs": self.max * 1000,
            "probeWindowMs": self.probe_window * 1000,
            "suspendAfterMs": self.suspend_after * 1000,
            "suspendedMaxDelayMs": self.suspended_max * 1000,
            "multiplier": self.multiplier,
            "jitter": self.jitter,
            "maxAttempts": math.inf if self.max_attempts is None else self.max_attempts,
            "minUptimeMs": self.min_uptime * 1000,
        }


DEFAULT_RECONNECT: Dict[str, float] = {
    "initialDelayMs": 250,
    "maxDelayMs": 5_000,
    "probeWindowMs": 500,
    "suspendAfterMs": 60_000,
    "suspendedMaxDelayMs": 30_000,
    "multiplier": 2,
    "jitter": 1,
    "maxAttempts": math.inf,
    "minUptimeMs": 5_000,
}


def resolve_reconnect_options(options: Optional[Dict[str, float]] = None) -> Dict[str, float]:
    """Fill in the defaults."""
    resolved = dict(DEFAULT_RECONNECT)
    resolved.update({k: v for k, v in (options or {}).items() if v is not None})
    return resolved


def js_round(value: float) -> int:
    """JavaScript's ``Math.round`` (halves go up), not Python's banker's rounding."""
    return int(math.floor(value + 0.5))


def backoff_ceiling(attempt: float, options: Optional[Dict[str, float]] = None) -> float:
    """The un-jittered bound of retry ``attempt`` (0-based): ``min(max, initial * multiplier**attempt)``."""
    o = resolve_reconnect_options(options)
    exponent = max(0, math.floor(attempt))
    try:
        grown = o["initialDelayMs"] * math.pow(o["multiplier"], exponent)
    except OverflowError:
        grown = math.inf
    return min(o["maxDelayMs"], grown)


def backoff_delay(attempt: float, options: Optional[Dict[str, float]] = None, random: Callable[[], float] = lambda: 0.5) -> int:
    """The delay before retry ``attempt`` (0 is the first retry), in whole ms, within ``0..maxDelayMs``:
    ``ceiling * (1 - jitter * random())``, so full jitter draws uniformly in ``0..ceiling``."""
    ceiling = backoff_ceiling(attempt, options)
    jitter = min(1.0, max(0.0, (options or {}).get("jitter", DEFAULT_RECONNECT["jitter"])))
    r = min(1.0, max(0.0, random()))
    return js_round(ceiling * (1 - jitter * r))



RetryTier = Literal["probing", "young", "old"]
"""Which schedule a failure follows: the probe window after a joined connection dropped, or backoff
under ``maxDelayMs`` (young) or ``suspendedMaxDelayMs`` (old)."""


def counts_as_failure(left_ms: float) -> bool:
    """Whether a failure counts as one more in a row: only when no backoff wait was left over (not a probe)."""
    return left_ms <= 0


def plan_retry(
    failures: int, left_ms: float, tier: RetryTier, options: Optional[Dict[str, float]] = None, random: Callable[[], float] = lambda: 0.5, floor_ms: float = 0
) -> Tuple[float, float]:
    """The wait after a failed attempt that leaves ``failures`` in a row, and what is left of the
    backoff after it (``planRetry`` in machines/backoff.ts): a carried backoff is served before a
    new step is drawn; while probing the wait is cut to a probe within ``initialDelayMs``; a wait the
    gateway asked for (``floor_ms``) is a floor."""
    o = resolve_reconnect_options(options)
    if left_ms > 0:
        backoff: float = left_ms
    else:
        capped = dict(o, maxDelayMs=o["suspendedMaxDelayMs"]) if tier == "old" else o
        backoff = backoff_delay(failures - 1, capped, random)
    wait = max(floor_ms, min(backoff, backoff_delay(0, o, random)) if tier == "probing" else backoff)
    return wait, max(0, backoff - wait)
