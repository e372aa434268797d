"""Live logs, the I/O half: follow a growing blob, and mark a tracked log complete.

The decisions (which bytes to read, what a read means, when to stop) are pure and live
in :mod:`conventions.follow`; this module only talks to storage and waits. Use it through
:meth:`conventions.references.OutputFileReference.follow`.

Imports azure-storage-blob; ``import conventions`` does not load this module.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import AzureError, HttpResponseError

from ._azure_errors import storage_error
from ._transport import FIRST_GET_SIZE
from .errors import FollowTimeoutError, InvalidSettingError
from .follow import (
    TAIL_CHECK,
    BlobRead,
    FollowEvent,
    FollowRestart,
    FollowState,
    completion_metadata,
    marked_length,
    next_range,
    observe,
)

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient

__all__ = ["DEFAULT_FOLLOW_INTERVAL", "follow_blob", "mark_complete"]

_log = logging.getLogger("conventions")

#: Seconds between two reads of a log that did not grow.
DEFAULT_FOLLOW_INTERVAL = 2.0
#: Seconds one read may take (connect, and each wait for data), so no wait is unbounded.
DEFAULT_REQUEST_TIMEOUT = 30.0
#: The most new bytes one read asks for: with the tail it re-reads, one read fits in the
#: first request of the library's client (4 MiB), so it is one GET. Two would race the
#: writer: the SDK pins the second to the first one's ETag, which an append changes.
DEFAULT_CHUNK_SIZE = FIRST_GET_SIZE - TAIL_CHECK

_BLOB_MISSING_CODES = ("BlobNotFound",)


def mark_complete(
    blob_client: BlobClient, length: int, *, keep: Mapping[str, str] | None = None
) -> None:
    """Record on the blob (metadata) that its writer finished it, at *length* bytes.

    Called by ``TrackedFile.close()`` once the blob equals the file; needs SAS ``w``.
    Setting metadata keeps the append blob's bytes; replacing the blob drops the mark.
    Setting metadata replaces all of it: *keep* is metadata to write along with the mark.
    """
    names = {"container": str(blob_client.container_name), "blob": str(blob_client.blob_name)}
    try:
        blob_client.set_blob_metadata({**(keep or {}), **completion_metadata(length)})
    except AzureError as exc:
        raise storage_error(exc, "mark complete", permission="w", **names) from exc


def _total_size(content_range: str | None) -> int | None:
    # "bytes 6-10/11" -> 11
    if not content_range or "/" not in content_range:
        return None
    total = content_range.rsplit("/", 1)[1].strip()
    return int(total) if total.isdigit() else None


def _is_missing_blob(error: HttpResponseError) -> bool:
    raw = getattr(error, "error_code", None) or ""
    code = str(getattr(raw, "value", raw))
    return error.status_code == 404 and code in _BLOB_MISSING_CODES


def _describe(properties: Any, start: int, data: bytes, size: int) -> BlobRead:
    created = properties.creation_time
    return BlobRead(
        start=start,
        data=data,
        size=size,
        identity=created.isoformat() if created is not None else None,
        complete_length=marked_length(properties.metadata),
        appendable=str(getattr(properties.blob_type, "value", properties.blob_type))
        == "AppendBlob",
    )


def _read(
    blob_client: BlobClient, start: int, length: int, request_timeout: float
) -> BlobRead | None:
    """One ranged GET of ``[start, start + length)``: ``None`` if the blob does not exist."""
    names = {"container": str(blob_client.container_name), "blob": str(blob_client.blob_name)}
    bounds: dict[str, Any] = {
        "connection_timeout": request_timeout,
        "read_timeout": request_timeout,
    }
    try:
        try:
            downloader = blob_client.download_blob(offset=start, length=length, **bounds)
            data = downloader.readall()
            properties = downloader.properties
            size = _total_size(properties.content_range)
            if size is not None:
                return _describe(properties, start, data, size)
        except HttpResponseError as exc:
            if _is_missing_blob(exc):
                return None
            if exc.status_code != 416:
                raise
        # 416 (the range starts at or past the end, e.g. an empty blob), or no
        # Content-Range: describe the blob by its properties, with no data.
        properties = blob_client.get_blob_properties(**bounds)
        return _describe(properties, properties.size, b"", properties.size)
    except HttpResponseError as exc:
        if _is_missing_blob(exc):
            return None
        raise storage_error(exc, "follow", permission="r", **names) from exc
    except AzureError as exc:
        raise storage_error(exc, "follow", permission="r", **names) from exc


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
    if not interval > 0:
        raise InvalidSettingError(interval, "must be more than 0 seconds", subject="interval")
    if timeout is not None and not timeout >= 0:
        raise InvalidSettingError(timeout, "must be 0 seconds or more, or None", subject="timeout")
    if not request_timeout > 0:
        raise InvalidSettingError(
            request_timeout, "must be more than 0 seconds", subject="request_timeout"
        )
    deadline = None if timeout is None else time.monotonic() + timeout
    state = FollowState()
    while True:
        start, length = next_range(state, chunk_size)
        step = observe(state, _read(blob_client, start, length, request_timeout))
        for event in step.events:
            if isinstance(event, FollowRestart):
                _log.warning(
                    "following blob %r in container %r: %s; starting again from byte 0 "
                    "(attempt %d, %d bytes of the previous one were read)",
                    blob_client.blob_name,
                    blob_client.container_name,
                    event.reason,
                    event.attempt,
                    event.offset,
                )
            yield event
        state = step.state
        if step.done:
            _log.debug(
                "followed %s to its end (%d bytes)", blob_client.blob_name, state.offset
            )
            return
        if step.more:
            continue
        wait = interval
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                where = (
                    f"blob {blob_client.blob_name!r} in container {blob_client.container_name!r}"
                )
                seen = f"{state.offset} bytes read" if state.seen else "it never appeared"
                raise FollowTimeoutError(
                    f"followed {where} for {timeout} s without it being marked complete "
                    f"({seen}); pass a longer timeout, or timeout=None to wait until it is",
                    container=str(blob_client.container_name),
                    blob=str(blob_client.blob_name),
                )
            wait = min(interval, remaining)
        sleep(wait)
