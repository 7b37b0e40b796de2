"""The one retry policy of py3cx: how many times, and how long to wait, for every retry in the
package (client requests, token fetches, the Call Control event stream's reconnects, exports).

One backoff formula: exponential from ``initial_delay``, capped at ``max_delay``, with full
jitter (a uniform draw between 0 and the cap: clients that failed together do not retry
together); a ``Retry-After`` header wins, up to ``max_retry_after``. Which failures may be
retried at all is decided elsewhere (``_base_client.should_retry``: never a 500).
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["DEFAULT_RETRY_POLICY", "RetryPolicy", "parse_retry_after", "retry_delay"]


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta seconds or an HTTP date), or None.

    Example: `parse_retry_after("2") == 2.0`; `parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT")`
    """
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How many retries (``max_retries``) and how long before each (``delay``).

    Example: ``RetryPolicy(max_retries=5, initial_delay=0.1)``; ``RetryPolicy().delay(1)`` is
    between 0 and 1.0 s; ``RetryPolicy().delay(0, "3") == 3.0``.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be 0 or more")

    def delay(self, attempt: int, retry_after: str | None = None, now: float | None = None) -> float:
        """Seconds to sleep before retry number `attempt + 1` (attempt counts from 0)."""
        waited = parse_retry_after(retry_after, now)
        if waited is not None:
            return min(waited, self.max_retry_after)
        cap = min(self.initial_delay * (2.0 ** min(attempt, 30)), self.max_delay)
        return cap * self.random()

    def allows(self, attempt: int) -> bool:
        """Whether retry number `attempt + 1` is within the budget."""
        return attempt < self.max_retries


DEFAULT_RETRY_POLICY = RetryPolicy()


def retry_delay(attempt: int, retry_after: str | None = None) -> float:
    """`RetryPolicy().delay(...)` with the default policy. Example: `retry_delay(0)` is 0 to 0.5 s."""
    return DEFAULT_RETRY_POLICY.delay(attempt, retry_after)
