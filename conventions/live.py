# Generated from conventions/aio/live.py by scripts/unasync.py: do not edit.
# ruff: noqa
"""Live logs, the I/O half: follow a growing blob, and mark a tracked log complete.

The decisions (which bytes to read, what a read means, when to stop) are pure and live
in :mod:`conventions.follow`; this module only talks to storage and waits. Use it through
:meth:`conventions.references.OutputFileReference.follow`.

Imports azure-storage-blob; ``import conventions`` does not load this module.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator, Callable, Mapping
from typing import TYPE_CHECKING

from ._azure_errors import translate_errors
from ._transport import FIRST_GET_SIZE
from .errors import (
    AccessDeniedError,
    ContainerNotFoundError,
    FollowTimeoutError,
    InvalidSettingError,
    OutputNotFoundError,
    StorageError,
    WriterGoneError,
)
from .follow import (
    TAIL_CHECK,
    FollowEvent,
    FollowRestart,
    FollowState,
    completion_metadata,
    liveness,
    next_range,
    observe,
)
from .network import get_transfer_limits
from .retrying import FOLLOW_READ_RETRIES, follow_read_bound, follow_read_pause
from ._backend import sleep as _sleep
from ._follow_read import read as _read

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient

__all__ = ["DEFAULT_FOLLOW_INTERVAL", "follow_blob", "mark_complete", "set_metadata"]

_log = logging.getLogger("conventions")

#: Seconds between two reads of a log that did not grow.
DEFAULT_FOLLOW_INTERVAL = 2.0
#: Seconds one read may take (connect, and each wait for data), so no wait is unbounded.
DEFAULT_REQUEST_TIMEOUT = 30.0
#: The most new bytes one read asks for: with the tail it re-reads, one read fits in the
#: first request of the library's client (4 MiB), so it is one GET. Two would race the
#: writer: the SDK pins the second to the first one's ETag, which an append changes.
DEFAULT_CHUNK_SIZE = FIRST_GET_SIZE - TAIL_CHECK
#: Largest ``interval`` (a day): a follower that reads less often than that is a mistake,
#: and ``time.sleep`` overflows on huge values.
MAX_FOLLOW_INTERVAL = 86_400.0
#: Bounds of ``request_timeout``: below 0.1 s no request can succeed, and the request
#: timeout is also each read's share of the follow's time.
MIN_REQUEST_TIMEOUT = 0.1
MAX_REQUEST_TIMEOUT = 3_600.0
#: A read that failed for a passing reason (5xx, timeout, cut response) is tried again
#: this many times, after 1, 2, 4 s, before follow raises; never past its ``timeout``.
READ_RETRIES = FOLLOW_READ_RETRIES

# Errors no retry can mend: the follow raises them at once.
_LASTING_ERRORS = (AccessDeniedError, ContainerNotFoundError, OutputNotFoundError)


def set_metadata(
    blob_client: BlobClient, metadata: Mapping[str, str], operation: str
) -> None:
    """Replace the blob's metadata (Set Blob Metadata, SAS ``w``), as the library's errors."""
    with translate_errors(
        operation,
        container=str(blob_client.container_name),
        blob=str(blob_client.blob_name),
        permission="w",
    ):
        blob_client.set_blob_metadata(dict(metadata))


def mark_complete(
    blob_client: BlobClient, length: int, *, keep: Mapping[str, str] | None = None
) -> None:
    """Record on the blob (metadata) that its writer finished it, at *length* bytes.

    Called by ``TrackedFile.close()`` once the blob equals the file; needs SAS ``w``.
    Setting metadata keeps the append blob's bytes; replacing the blob drops the mark.
    Setting metadata replaces all of it: *keep* is metadata to write along with the mark
    (the writer's liveness promise is dropped: a complete blob needs none).
    """
    set_metadata(
        blob_client, {**(keep or {}), **completion_metadata(length)}, "mark complete"
    )


def _check_seconds(value: object, name: str, low: float, high: float, *, low_open: bool) -> None:
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if (
        number is None
        or not math.isfinite(number)
        or number > high
        or number < low
        or (low_open and number == low)
    ):
        above = "more than" if low_open else "at least"
        raise InvalidSettingError(
            value,
            f"must be a finite number of seconds, {above} {low:g} and at most {high:g}",
            subject=name,
        )


def _check_settings(interval: float, timeout: float | None, request_timeout: float) -> None:
    _check_seconds(interval, "interval", 0.0, MAX_FOLLOW_INTERVAL, low_open=True)
    _check_seconds(
        request_timeout, "request_timeout", MIN_REQUEST_TIMEOUT, MAX_REQUEST_TIMEOUT,
        low_open=False,
    )  # fmt: skip
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0
    ):
        raise InvalidSettingError(timeout, "must be 0 seconds or more, or None", subject="timeout")


def follow_blob(
    blob_client: BlobClient,
    *,
    interval: float = DEFAULT_FOLLOW_INTERVAL,
    timeout: float | None = None,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    sleep: Callable[[float], object] = _sleep,
) -> Iterator[FollowEvent]:
    """Yield what the blob gains until its writer marks it complete; see
    :meth:`conventions.references.OutputFileReference.follow`."""
    _check_settings(interval, timeout, request_timeout)
    where = f"blob {blob_client.blob_name!r} in container {blob_client.container_name!r}"
    names = {"container": str(blob_client.container_name), "blob": str(blob_client.blob_name)}
    deadline = None if timeout is None else time.monotonic() + timeout
    rate = get_transfer_limits().minimum_rate
    state = FollowState()
    failures = 0
    while True:
        start, length = next_range(state, chunk_size)
        # Each read: a request timeout, plus its size at the library's slowest accepted
        # rate; never past the follow's timeout by more than one request timeout.
        remaining = math.inf if deadline is None else deadline - time.monotonic()
        bound = follow_read_bound(request_timeout, length, rate, remaining=remaining)
        try:
            read = _read(blob_client, start, length, request_timeout, bound)
        except _LASTING_ERRORS:
            raise
        except StorageError as error:
            failures += 1
            remaining = math.inf if deadline is None else deadline - time.monotonic()
            backoff = follow_read_pause(failures, remaining=remaining)
            if backoff is None:
                raise
            _log.warning("following %s: %s; reading again in %g s", where, error, backoff)
            sleep(backoff)
            continue
        failures = 0
        step = observe(state, read)
        for event in step.events:
            if isinstance(event, FollowRestart):
                _log.warning(
                    "following %s: %s; starting again from byte 0 "
                    "(attempt %d, %d bytes of the previous one were read)",
                    where,
                    event.reason,
                    event.attempt,
                    event.offset,
                )
            yield event
        state = step.state
        if step.done:
            _log.debug("followed %s to its end (%d bytes)", where, state.offset)
            return
        if step.more:
            continue
        wait = interval
        if read is not None:
            verdict = liveness(read)
            if verdict.gone:
                raise WriterGoneError(
                    f"followed {where} to byte {state.offset}, and it will not be completed: "
                    f"{verdict.reason}",
                    **names,
                )
            if verdict.due_in is not None:
                # Read again just after the verdict could fall due (timestamps are whole
                # seconds), so a dead writer is noticed in time whatever the interval.
                wait = min(wait, verdict.due_in + 1.0)
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = f"{state.offset} bytes read" if state.seen else "it never appeared"
                raise FollowTimeoutError(
                    f"followed {where} for {timeout} s without it being marked complete "
                    f"({seen}); pass a longer timeout, or timeout=None to wait until it is",
                    **names,
                )
            wait = min(wait, remaining)
        sleep(wait)
