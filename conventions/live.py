"""Live logs, the I/O half: follow a growing blob, and mark a tracked log complete.

The decisions (which bytes to read, what a read means, when to stop) are pure and live
in :mod:`conventions.follow`; this module only talks to storage and waits. Use it through
:meth:`conventions.references.OutputFileReference.follow`.

Imports azure-storage-blob; ``import conventions`` does not load this module.
"""

from __future__ import annotations

import email.utils
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import AzureError

from ._azure_errors import (
    is_blob_missing,
    is_range_not_satisfiable,
    translate_errors,
)
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
    BlobRead,
    FollowEvent,
    FollowRestart,
    FollowState,
    completion_metadata,
    liveness,
    next_range,
    observe,
)
from .network import TransferDeadline, TransferLimits, get_transfer_limits
from .retrying import FOLLOW_READ_RETRIES, follow_read_bound, follow_read_pause

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


def set_metadata(blob_client: BlobClient, metadata: Mapping[str, str], operation: str) -> None:
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
    set_metadata(blob_client, {**(keep or {}), **completion_metadata(length)}, "mark complete")


def _total_size(content_range: str | None) -> int | None:
    # "bytes 6-10/11" -> 11
    if not content_range or "/" not in content_range:
        return None
    total = content_range.rsplit("/", 1)[1].strip()
    return int(total) if total.isdigit() else None


def _server_time(headers: Mapping[str, str]) -> float | None:
    """The response's ``Date`` header as a POSIX time, if it is there and valid."""
    try:
        return email.utils.parsedate_to_datetime(headers.get("Date", "")).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _describe(
    properties: Any, start: int, data: bytes, size: int, server_time: float | None
) -> BlobRead:
    created = properties.creation_time
    modified = properties.last_modified
    silent = None
    if server_time is not None and modified is not None:
        silent = max(server_time - modified.timestamp(), 0.0)
    return BlobRead.from_metadata(
        properties.metadata,
        start=start,
        data=data,
        size=size,
        identity=created.isoformat() if created is not None else None,
        appendable=str(getattr(properties.blob_type, "value", properties.blob_type))
        == "AppendBlob",
        silent_for=silent,
    )


class _ReadBound:
    """One read's deadline (the connection is shut down when it passes), and the
    ``Date`` of the last response, for the liveness verdict."""

    def __init__(self, blob_client: BlobClient, seconds: float) -> None:
        # A rate no transfer reaches: the bound is *seconds*, whatever the size.
        limits = TransferLimits(grace=seconds, minimum_rate=1e18)
        self.deadline = TransferDeadline(
            str(blob_client.container_name), str(blob_client.blob_name), None, limits
        )
        self.seconds = seconds
        self.server_time: float | None = None

    def hook(self, pipeline_response: Any) -> None:
        self.server_time = _server_time(pipeline_response.http_response.headers)
        self.deadline.hook(pipeline_response)


def _read(
    blob_client: BlobClient, start: int, length: int, request_timeout: float, bound: float
) -> BlobRead | None:
    """One ranged GET of ``[start, start + length)``, done within *bound* seconds and not
    retried (the follow loop retries): ``None`` if the blob does not exist."""
    names = {"container": str(blob_client.container_name), "blob": str(blob_client.blob_name)}
    limit = _ReadBound(blob_client, bound)
    options: dict[str, Any] = {
        "connection_timeout": min(request_timeout, bound),
        "read_timeout": min(request_timeout, bound),
        "retry_total": 0,
        "raw_response_hook": limit.hook,
    }
    try:
        # translate_errors also turns what the SDK raises on a response cut in its head
        # (ValueError, AttributeError...) into StorageError, which the follow retries.
        with limit.deadline, translate_errors("follow", permission="r", **names):
            return _read_once(blob_client, start, length, options, limit)
    except StorageError as error:
        if not limit.deadline.expired:
            raise
        raise StorageError(
            f"could not follow blob {names['blob']!r} in container {names['container']!r}: "
            f"a read did not finish within {bound:.1f} s (the service is stalled or too "
            "slow); the connection was abandoned",
            **names,
        ) from error


def _read_once(
    blob_client: BlobClient, start: int, length: int, options: dict[str, Any], limit: _ReadBound
) -> BlobRead | None:
    try:
        downloader = blob_client.download_blob(offset=start, length=length, **options)
        data = downloader.readall()
        properties = downloader.properties
        size = _total_size(properties.content_range)
        if size is not None:
            return _describe(properties, start, data, size, limit.server_time)
    except AzureError as exc:
        if is_blob_missing(exc):
            return None
        if not is_range_not_satisfiable(exc):
            raise
    # 416 (the range starts at or past the end, e.g. an empty blob), or no
    # Content-Range: describe the blob by its properties, with no data.
    try:
        properties = blob_client.get_blob_properties(**options)
    except AzureError as exc:
        if is_blob_missing(exc):
            return None
        raise
    return _describe(properties, properties.size, b"", properties.size, limit.server_time)


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
    sleep: Callable[[float], object] = time.sleep,
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
