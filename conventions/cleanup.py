"""Clean-up: delete many outputs at once, with the Blob Batch API.

``JobOutputStorage.delete`` and ``delete_outputs`` call :func:`delete_blobs`. Up to 256
deletes go in one Blob Batch request (``ContainerClient.delete_blobs``; Azurite supports
it too); each answer is checked on its own. A blob already gone counts as ``missing``,
not as a failure (deleting is idempotent). Any other failure raises after every blob was
tried: an ``AccessDeniedError`` says that a SAS needs ``d``.

Imports azure-storage-blob; ``import conventions`` does not load this module.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import TYPE_CHECKING, Any

import attrs
from azure.core.exceptions import AzureError, HttpResponseError

from ._azure_errors import storage_error
from .errors import InvalidSettingError, StorageError

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient

__all__ = ["MAX_BATCH_SIZE", "DeleteSummary", "delete_blobs"]

_log = logging.getLogger("conventions")

#: The most sub-requests one Blob Batch request may carry.
MAX_BATCH_SIZE = 256


@attrs.frozen
class DeleteSummary:
    """What a delete did.

    >>> DeleteSummary(deleted=3, missing=1, seconds=0.5)
    DeleteSummary(deleted=3, missing=1, seconds=0.5)
    """

    #: Blobs deleted.
    deleted: int
    #: Blobs that were already gone (deleted meanwhile): not an error.
    missing: int
    #: Wall-clock seconds.
    seconds: float


def _chunks(names: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(names)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _sub_error(container: str, name: str, response: Any) -> StorageError:
    error = HttpResponseError(response=response)
    error.error_code = response.headers.get("x-ms-error-code")  # type: ignore[attr-defined]
    return storage_error(error, "delete", container=container, blob=name, permission="d")


def _delete_batch(client: ContainerClient, names: list[str]) -> list[StorageError | bool]:
    """One Blob Batch request: per name, True (deleted), False (missing) or the error."""
    container = str(client.container_name)
    try:
        responses = list(client.delete_blobs(*names, raise_on_any_failure=False))
    except AzureError as exc:
        # The batch request itself was refused (e.g. 403 for all of it).
        error = storage_error(exc, "delete", container=container, blob=names[0], permission="d")
        return [error] * len(names)
    results: list[StorageError | bool] = []
    for name, response in zip(names, responses, strict=True):
        if 200 <= response.status_code < 300:
            results.append(True)
        elif response.status_code == 404:
            results.append(False)
        else:
            results.append(_sub_error(container, name, response))
    return results


def _delete_one(client: ContainerClient, name: str) -> StorageError | bool:
    container = str(client.container_name)
    try:
        client.get_blob_client(name).delete_blob()
    except HttpResponseError as exc:
        if exc.status_code == 404 and getattr(exc, "error_code", None) == "BlobNotFound":
            return False
        return storage_error(exc, "delete", container=container, blob=name, permission="d")
    except AzureError as exc:
        return storage_error(exc, "delete", container=container, blob=name, permission="d")
    return True


def delete_blobs(
    client: ContainerClient,
    names: Iterable[str],
    *,
    batch: bool = True,
    max_concurrency: int = 8,
) -> DeleteSummary:
    """Delete the blobs *names* from the container of *client*.

    With *batch* (the default), in Blob Batch requests of up to 256; without, one
    request per blob on *max_concurrency* threads. Blobs already gone count as
    ``missing``. After every blob was tried, the first failure is raised (with a note
    counting the others on Python 3.11+); a SAS without ``d`` raises
    ``AccessDeniedError`` saying so.
    """
    if max_concurrency < 1:
        raise InvalidSettingError(max_concurrency, "must be at least 1", subject="max_concurrency")
    started = time.monotonic()
    deleted = missing = 0
    failures: list[StorageError] = []
    with ThreadPoolExecutor(max_concurrency, thread_name_prefix="conventions-delete") as pool:
        if batch:
            chunks = _chunks(names, MAX_BATCH_SIZE)
            results: Iterable[StorageError | bool] = (
                result
                for chunk_results in pool.map(lambda chunk: _delete_batch(client, chunk), chunks)
                for result in chunk_results
            )
        else:
            results = pool.map(lambda name: _delete_one(client, name), names)
        for result in results:
            if result is True:
                deleted += 1
            elif result is False:
                missing += 1
            else:
                failures.append(result)
    summary = DeleteSummary(deleted=deleted, missing=missing, seconds=time.monotonic() - started)
    if failures:
        first = failures[0]
        if sys.version_info >= (3, 11):
            first.add_note(
                f"{len(failures)} blob(s) could not be deleted; {deleted} were deleted, "
                f"{missing} were already gone"
            )
        raise first
    _log.debug("deleted %d blobs (%d already gone)", deleted, missing)
    return summary
