"""When to try again: the follower's reads (decision D-83) and the tracker's completion
mark (decision D-82). Pure decisions, no I/O; ``conventions.live`` and
``conventions._tracked_blob`` sleep and ask again as these say.

>>> [follow_read_pause(failures, remaining=60.0) for failures in (1, 2, 3, 4)]
[1.0, 2.0, 4.0, None]
>>> follow_read_pause(2, remaining=0.5)
0.5
>>> [completion_mark_pause(attempt) for attempt in (1, 2, 3)]
[1.0, 1.0, None]
"""

from __future__ import annotations

import math

__all__ = [
    "FOLLOW_READ_RETRIES",
    "MARK_ATTEMPTS",
    "completion_mark_pause",
    "follow_read_bound",
    "follow_read_pause",
]

#: Failed follow reads in a row that are tried again (after 1, 2, 4 s); one more raises.
FOLLOW_READ_RETRIES = 3
#: Tries at the completion mark once the blob equals the file, a second apart; then a
#: warning, never a failure of ``close()``.
MARK_ATTEMPTS = 3
#: The pause azure-storage-blob takes before it asks again for a download whose body
#: failed; a follow read's last bound leaves room for it.
SDK_PAUSE = 1.0


def follow_read_pause(failures: int, *, remaining: float = math.inf) -> float | None:
    """Seconds to wait before reading again after *failures* failed reads in a row, or
    ``None`` to raise the last error: after :data:`FOLLOW_READ_RETRIES` of them, or when
    the follow's timeout leaves *remaining* seconds or none."""
    if failures > FOLLOW_READ_RETRIES or remaining <= 0:
        return None
    return min(2.0 ** (failures - 1), remaining)


def follow_read_bound(
    request_timeout: float, length: int, minimum_rate: float, *, remaining: float = math.inf
) -> float:
    """Seconds one follow read of *length* bytes may take: a request timeout plus its size
    at the slowest accepted rate, and never past what the follow's timeout leaves
    (*remaining*) by more than about one request timeout.

    >>> follow_read_bound(30.0, 65536, 65536.0)
    31.0
    >>> follow_read_bound(5.0, 65536, 65536.0, remaining=1.0)
    5.0
    """
    bound = request_timeout + length / minimum_rate
    if remaining != math.inf:
        last = max(request_timeout - SDK_PAUSE, request_timeout / 2)
        bound = min(bound, max(remaining, 0.0) + last)
    return bound


def completion_mark_pause(attempt: int) -> float | None:
    """Seconds to wait after the *attempt*-th failed try at the completion mark (from 1),
    or ``None``: stop, and warn (the log is stored all the same)."""
    return None if attempt >= MARK_ATTEMPTS else 1.0
