"""Reconnect timing as pure functions: exponential backoff with full jitter. Mirrors
src/client/backoff.ts; times are in ms inside, seconds in the public ``Backoff``."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, Optional


@dataclass(frozen=True)
class Backoff:
    """How the client retries after a connection fails (seconds).

    ``initial`` is the ceiling of the first retry's delay (default 0.25), ``max`` caps any delay
    while the outage is young (default 5), ``suspend_after`` is the outage age after which the
    client is ``suspended`` and retries under ``suspended_max`` (defaults 60 and 30: a long outage
    across a fleet stays gentle), ``multiplier`` grows the ceiling per failure (default 2), ``jitter`` is the
    random share (1 = full jitter, AWS "Exponential Backoff and Jitter"), ``max_attempts`` failures
    in a row give up with ``retries_exhausted`` (default unlimited), and ``min_uptime`` is how long
    a join must last before the failure count resets (default 5), so a gateway that accepts and
    drops at once cannot make a fast loop.
    """

    initial: float = 0.25
    max: float = 5.0
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
