"""Clean-up: delete many outputs at once, with the Blob Batch API.

``JobOutputStorage.delete`` and ``delete_outputs`` call :func:`delete_blobs`. Up to 256
deletes go in one Blob Batch request (``ContainerClient.delete_blobs``; Azurite supports
it too); each answer is checked on its own. A blob already gone counts as ``missing``,
not as a failure (deleting is idempotent), except in a request that was sent again after
a lost answer: its 404s count as ``deleted`` (the first attempt landed; decision D-71).
Every other failure is kept; after every blob was tried one :class:`DeleteError` lists
them all (an ``AccessDeniedError`` among them says that a SAS needs ``d``). The batches
run on the bounded runner of ``conventions.transfer``, so that memory stays flat however
long the listing is; a listing that fails midway stops the submitting, lets the running
batches end and says how many were deleted before it.

Imports azure-storage-blob; ``import conventions`` does not load this module.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs
from azure.core.exceptions import AzureError

from .._azure_errors import (
    is_blob_missing,
    storage_error,
    sub_delete_answer,
    sub_response_error,
)
from .._error_rules import SubDelete
from ..errors import ConventionsError, DeleteError, StorageError
from ._backend import each
from .transfer import check_concurrency, iter_parallel

if TYPE_CHECKING:
    from azure.storage.blob.aio import ContainerClient

__all__ = ["MAX_BATCH_SIZE", "DeleteError", "DeleteSummary", "delete_blobs"]

_log = logging.getLogger("conventions")

#: The most sub-requests one Blob Batch request may carry.
MAX_BATCH_SIZE = 256

#: What one delete came to: deleted (True), already gone (False), or why not.
_Outcome = bool | StorageError


@attrs.frozen
class DeleteSummary:
    """What a delete did.

    >>> DeleteSummary(deleted=3, missing=1, seconds=0.5, failed=2)
    DeleteSummary(deleted=3, missing=1, seconds=0.5, failed=2)
    """

    #: Blobs deleted.
    deleted: int
    #: Blobs that were already gone (deleted meanwhile): not an error.
    missing: int
    #: Wall-clock seconds.
    seconds: float
    #: Blobs not deleted (each is in ``DeleteError.failures``).
    failed: int = 0


async def _chunks(names: Iterable[str] | AsyncIterable[str], size: int) -> AsyncIterator[list[str]]:
    chunk: list[str] = []
    async for name in each(names):
        chunk.append(name)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _sub_error(container: str, name: str, response: Any) -> StorageError:
    return _failure(sub_response_error(response), container, name)


def _failure(error: AzureError, container: str, name: str) -> StorageError:
    failure = storage_error(error, "delete", container=container, blob=name, permission="d")
    failure.__cause__ = error
    return failure


class _Attempts:
    """Counts a request's retries (azure-storage-blob's per-call ``retry_hook``)."""

    def __init__(self) -> None:
        self.retries = 0

    def __call__(self, **_: Any) -> None:
        self.retries += 1


async def _delete_batch(client: ContainerClient, names: list[str]) -> list[_Outcome]:
    """One Blob Batch request: per name, True (deleted), False (missing) or the error."""
    container = str(client.container_name)
    attempts = _Attempts()
    try:
        answers = await client.delete_blobs(
            *names, raise_on_any_failure=False, retry_hook=attempts
        )
        responses = [response async for response in answers]
    except AzureError as exc:
        # The batch request itself failed (e.g. 403 for all of it): each blob says so.
        return [_failure(exc, container, name) for name in names]
    results: list[_Outcome] = []
    for name, response in zip(names, responses, strict=True):
        answer = sub_delete_answer(response)
        if answer is SubDelete.DELETED:
            results.append(True)
        elif answer is SubDelete.MISSING:
            # Sent again after a lost answer, a 404 is (most likely) the first attempt's
            # delete: the blob is gone either way (D-71).
            results.append(attempts.retries > 0)
        else:
            results.append(_sub_error(container, name, response))
    return results


async def _delete_one(client: ContainerClient, name: str) -> list[_Outcome]:
    container = str(client.container_name)
    attempts = _Attempts()
    try:
        await client.get_blob_client(name).delete_blob(retry_hook=attempts)
    except AzureError as exc:
        if is_blob_missing(exc):
            return [attempts.retries > 0]
        return [_failure(exc, container, name)]
    return [True]


async def delete_blobs(
    client: ContainerClient,
    names: Iterable[str] | AsyncIterable[str],
    *,
    batch: bool = True,
    max_concurrency: int = 8,
) -> DeleteSummary:
    """Delete the blobs *names* from the container of *client*.

    With *batch* (the default), in Blob Batch requests of up to 256; without, one
    request per blob; *max_concurrency* requests at once, taking from *names* (which
    may be a lazy listing) only as requests finish. Blobs already gone count as
    ``missing``.

    Raises:
        DeleteError: after every blob was tried, if any was not deleted; its
            ``failures`` name each blob and why (``AccessDeniedError`` when a SAS lacks
            ``d``), its ``summary`` what was done. Also when *names* raised the library's
            error (a listing that failed) after some deletes were sent: it says how many
            were deleted before, and the listing's error is the last failure.
        ConventionsError: *names* raised it before any delete was sent (as is).
    """
    check_concurrency(max_concurrency)
    started = time.monotonic()
    container = str(client.container_name)
    stopped: list[ConventionsError] = []  # the listing's error, if it failed

    async def work() -> AsyncIterator[Callable[[], Awaitable[list[_Outcome]]]]:
        try:
            if batch:
                async for chunk in _chunks(names, MAX_BATCH_SIZE):
                    yield functools.partial(_delete_batch, client, chunk)
            else:
                async for name in each(names):
                    yield functools.partial(_delete_one, client, name)
        except ConventionsError as error:
            # Stop submitting; the running requests end and are counted.
            stopped.append(error)

    deleted = missing = sent = 0
    failures: list[tuple[int, int, StorageError]] = []
    async for index, outcomes in iter_parallel(work(), max_concurrency):
        sent += 1
        for position, outcome in enumerate(outcomes):
            if outcome is True:
                deleted += 1
            elif outcome is False:
                missing += 1
            else:
                failures.append((index, position, outcome))
    failures.sort(key=lambda item: item[:2])
    summary = DeleteSummary(
        deleted=deleted,
        missing=missing,
        seconds=time.monotonic() - started,
        failed=len(failures),
    )
    errors = [error for _, _, error in failures]
    if stopped:
        if not sent:
            raise stopped[0]
        raise delete_error(container, errors, summary, stopped[0]) from stopped[0]
    if errors:
        raise delete_error(container, errors, summary)
    _log.debug("deleted %d blobs (%d already gone)", deleted, missing)
    return summary


def _grouped(errors: list[StorageError]) -> str:
    groups: dict[tuple[str, object], list[StorageError]] = {}
    for error in errors:
        cause = (type(error).__name__, getattr(error, "permission", None))
        groups.setdefault(cause, []).append(error)
    ranked = sorted(groups.values(), key=len, reverse=True)
    shown = "; ".join(
        f"{len(group)} x {type(group[0]).__name__}, e.g. {group[0]}" for group in ranked[:3]
    )
    if len(ranked) > 3:
        shown += f"; and {len(ranked) - 3} other causes (see .failures)"
    return shown


def delete_error(
    container: str,
    errors: list[StorageError],
    summary: DeleteSummary,
    listing: ConventionsError | None = None,
) -> DeleteError:
    """One readable message for every failure of a delete: counted, grouped by cause."""
    done = f"{summary.deleted} were deleted, {summary.missing} were already gone"
    if listing is not None:
        message = (
            f"deleting outputs in container {container!r} stopped after {summary.deleted} "
            f"were deleted ({summary.missing} were already gone, {len(errors)} not deleted) "
            f"because the outputs to delete could not be read; the rest were not tried: "
            f"{listing}"
        )
        if errors:
            message += f"; not deleted: {_grouped(errors)}"
    else:
        total = summary.deleted + summary.missing + len(errors)
        message = (
            f"{len(errors)} of {total} outputs were not deleted from container "
            f"{container!r} ({done}): {_grouped(errors)}"
        )
    failures: list[ConventionsError] = [*errors, *([listing] if listing is not None else [])]
    return DeleteError(message, container=container, failures=failures, summary=summary)
