"""The blob side of a tracked save, apart from appending: who created the blob, reading it
back to reconcile, and the marks followers read (complete, incomplete).

Helpers of :mod:`conventions.tracked`; each turns azure-core errors into the library's.
Written once, in ``conventions.aio``; the sync face's is generated (``scripts/unasync.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, BinaryIO

from azure.core.exceptions import AzureError

from .._azure_errors import answer_detail, storage_error
from .._tracked_source import read_at
from ..errors import AccessDeniedError, StorageError, TrackingError
from ..follow import incomplete_metadata
from ..retrying import MARK_ATTEMPTS, completion_mark_pause
from ._backend import shielded, sleep
from .live import mark_complete, set_metadata

if TYPE_CHECKING:
    from azure.storage.blob.aio import BlobClient

__all__ = ["MARK_ATTEMPTS", "created_by", "mark_complete_patiently", "mark_incomplete", "read_back"]

_log = logging.getLogger("conventions")



async def created_by(blob: BlobClient, key: str, tracker_id: str, names: dict[str, str]) -> bool:
    """After 'already exists' on create: did our own create land (response lost)?"""
    try:
        metadata = (await blob.get_blob_properties()).metadata or {}
    except AzureError as exc:
        raise storage_error(
            exc, "read back, to check who created it,", permission="r", **names
        ) from exc
    return bool(metadata.get(key) == tracker_id)


async def read_back(
    blob: BlobClient,
    offset: int,
    file: BinaryIO,
    block_size: int,
    where: str,
    names: dict[str, str],
) -> tuple[int, int | None, bytes, bytes]:
    """After a 412 on the append position: the blob's length and committed block count,
    and, if it holds at most one block more than *offset*, its bytes past *offset* and
    the file's over the same range (else empty)."""
    blob_extra = file_extra = b""
    try:
        properties = await blob.get_blob_properties()
        blob_length: int = properties.size
        extra = blob_length - offset
        if 0 < extra <= block_size:
            file_extra = await shielded(read_at, file, offset, extra)
            if len(file_extra) == extra:
                download = await blob.download_blob(offset=offset, length=extra)
                blob_extra = await download.readall()
                if len(blob_extra) != extra:  # a cut read is not a conflict: retry later
                    raise TrackingError(
                        f"{where}: reading back bytes [{offset}, {blob_length}) "
                        f"to reconcile a retried append returned {len(blob_extra)} bytes; "
                        "will try again at the next flush",
                        **names,
                    )
    except AzureError as exc:
        error = storage_error(
            exc, "read back, to reconcile a retried append,", permission="r", **names
        )
        detail = answer_detail(exc)
        if isinstance(error, AccessDeniedError) and detail is not None:
            # Only a retried append needs this read, so a SAS without 'r' works until a
            # response is lost: say why 'r' is needed, not only that it is missing.
            error = AccessDeniedError(
                f"{where}: an append was retried after its response was lost, "
                "and reconciling a retried append needs read: access denied; a SAS needs "
                f"permission 'r' for this (tracked saves need 'racw') {detail}",
                permission="r",
                **names,
            )
        raise error from exc
    return blob_length, properties.append_blob_committed_block_count, blob_extra, file_extra


async def mark_complete_patiently(
    blob: BlobClient, length: int, keep: Mapping[str, str]
) -> StorageError | None:
    """Set the completion mark, :data:`MARK_ATTEMPTS` times at most; the last error if
    none succeeded (the caller warns: the log is stored all the same)."""
    attempt = 0
    while True:
        attempt += 1
        try:
            await mark_complete(blob, length, keep=keep)
            return None
        except StorageError as exc:
            pause = completion_mark_pause(attempt)
            if pause is None:
                return exc
            await sleep(pause)


async def mark_incomplete(blob: BlobClient, length: int, keep: Mapping[str, str]) -> None:
    """Tell followers that this log will not be completed, where storage lets us."""
    try:
        await set_metadata(blob, {**keep, **incomplete_metadata(length)}, "mark incomplete")
    except StorageError as exc:
        _log.debug("tracked %s: could not mark it incomplete: %s", blob.blob_name, exc)
