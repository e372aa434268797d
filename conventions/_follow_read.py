"""The sync face's single read of a followed log: one ranged GET within its bound, not
retried (the follow loop in ``conventions.live`` retries), described as a pure
``conventions.follow.BlobRead``. The async face's twin is ``conventions.aio._follow_read``
(same contract: ``_read``); the helpers that only describe an answer are shared.

Imports azure-storage-blob; ``import conventions`` does not load this module.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import AzureError

from ._azure_errors import is_blob_missing, is_range_not_satisfiable, translate_errors
from .errors import StorageError
from .follow import BlobRead
from .network import TransferDeadline, TransferLimits

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient

__all__ = ["describe", "read", "server_time", "total_size"]


def total_size(content_range: str | None) -> int | None:
    # "bytes 6-10/11" -> 11
    if not content_range or "/" not in content_range:
        return None
    total = content_range.rsplit("/", 1)[1].strip()
    return int(total) if total.isdigit() else None


def server_time(headers: Mapping[str, str]) -> float | None:
    """The response's ``Date`` header as a POSIX time, if it is there and valid."""
    try:
        return email.utils.parsedate_to_datetime(headers.get("Date", "")).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def describe(
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
        self.server_time = server_time(pipeline_response.http_response.headers)
        self.deadline.hook(pipeline_response)


def read(
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
        size = total_size(properties.content_range)
        if size is not None:
            return describe(properties, start, data, size, limit.server_time)
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
    return describe(properties, properties.size, b"", properties.size, limit.server_time)
