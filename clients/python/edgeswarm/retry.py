"""How ``runs.events()`` retries a dropped stream, as the TypeScript SDK does.

Only the event stream retries. Other calls raise at once: a 429 or 503 carries
``retry_after`` for the caller to act on, because only the caller knows whether
a repeated ``POST`` (a second execution, a second run) is what it wants.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["RetryOptions", "DEFAULT_RETRY", "backoff_seconds"]

_MAX_ATTEMPTS = 100
_MAX_WAIT_S = 60.0


@dataclass(frozen=True)
class RetryOptions:
    """``attempts`` failures in a row without an event (any event resets the
    count), waiting ``base_s`` doubling up to ``max_s`` between them.

    The defaults ride out a Worker restart, about 45 s of waiting in all:

    >>> Edgeswarm(url, key, retry=RetryOptions(attempts=3, base_s=0.1, max_s=1.0))
    """

    attempts: int = 10
    base_s: float = 0.25
    max_s: float = 8.0

    def __post_init__(self) -> None:
        # Checked when given, so a typo fails at construction rather than mid-stream.
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise TypeError(f"RetryOptions.attempts must be a whole number, got {self.attempts!r}")
        if not 0 <= self.attempts <= _MAX_ATTEMPTS:
            raise ValueError(f"RetryOptions.attempts must be from 0 to {_MAX_ATTEMPTS}, got {self.attempts}")
        if not 0 <= self.base_s <= _MAX_WAIT_S:
            raise ValueError(f"RetryOptions.base_s must be from 0 to {_MAX_WAIT_S}, got {self.base_s}")
        if not self.base_s <= self.max_s <= _MAX_WAIT_S:
            raise ValueError(f"RetryOptions.max_s must be from base_s ({self.base_s}) to {_MAX_WAIT_S}, got {self.max_s}")


DEFAULT_RETRY = RetryOptions()


def backoff_seconds(attempt: int, retry: RetryOptions) -> float:
    """The wait before retry number ``attempt`` (from 1): exponential, capped, with up to 25% jitter."""
    base = min(retry.max_s, retry.base_s * 2 ** (attempt - 1))
    return base * (0.75 + random.random() * 0.25)
