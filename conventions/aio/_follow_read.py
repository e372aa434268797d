"""The async face's single read of a followed log (the contract of
``conventions._follow_read``: :func:`read`): one ranged GET within its bound (a timeout
on the task), not retried, described as a pure ``conventions.follow.BlobRead``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import AzureError

from .._azure_errors import is_blob_missing, is_range_not_satisfiable, translate_errors
from .._follow_read import describe, server_time, total_size
from ..errors import StorageError
from ..follow import BlobRead
from ._backend import timeout

if TYPE_CHECKING:
    from azure.storage.blob.aio import BlobClient

__all__ = ["read"]


async def read(
    blob_client: BlobClient, start: int, length: int, request_timeout: float, bound: float
) -> BlobRead | None:
    """One ranged GET of ``[start, start + length)``, done within *bound* seconds and not
    retried (the follow loop retries): ``None`` if the blob does not exist."""
    names = {"container": str(blob_client.container_name), "blob": str(blob_client.blob_name)}
    answered: list[float | None] = [None]
    # Each answer, closed when the read ends: a body abandoned by the bound or a read
    # timeout (a stall, a trickle) would keep its connection open (azure-core's aiohttp
    # transport leaves that to the garbage collector); closing a body read whole is a no-op.
    responses: list[Any] = []

    def hook(pipeline_response: Any) -> None:  # called, not awaited, by the aio SDK
        responses.append(pipeline_response.http_response)
        answered[0] = server_time(pipeline_response.http_response.headers)

    options: dict[str, Any] = {
        "connection_timeout": min(request_timeout, bound),
        "read_timeout": min(request_timeout, bound),
        "retry_total": 0,
        "raw_response_hook": hook,
    }
    try:
        async with timeout(bound):
            with translate_errors("follow", permission="r", **names):
                return await _read_once(blob_client, start, length, options, answered)
    except asyncio.TimeoutError:
        raise StorageError(
            f"could not follow blob {names['blob']!r} in container {names['container']!r}: "
            f"a read did not finish within {bound:.1f} s (the service is stalled or too "
            "slow); the connection was abandoned",
            **names,
        ) from None
    finally:
        for response in responses:
            close = getattr(getattr(response, "internal_response", None), "close", None)
            if callable(close):
                close()


async def _read_once(
    blob_client: BlobClient,
    start: int,
    length: int,
    options: dict[str, Any],
    answered: list[float | None],
) -> BlobRead | None:
    try:
        downloader = await blob_client.download_blob(offset=start, length=length, **options)
        data = await downloader.readall()
        properties = downloader.properties
        size = total_size(properties.content_range)
        if size is not None:
            return describe(properties, start, data, size, answered[0])
    except AzureError as exc:
        if is_blob_missing(exc):
            return None
        if not is_range_not_satisfiable(exc):
            raise
    # 416 (the range starts at or past the end, e.g. an empty blob), or no
    # Content-Range: describe the blob by its properties, with no data.
    try:
        properties = await blob_client.get_blob_properties(**options)
    except AzureError as exc:
        if is_blob_missing(exc):
            return None
        raise
    return describe(properties, properties.size, b"", properties.size, answered[0])
