"""Tracked save: stream a growing file (a task's log) to an append blob while it grows.

:class:`TrackedFile` watches one local file and, from a background thread, appends
what the file gained since the last flush to an append blob. On :meth:`TrackedFile.close`
a final flush uploads the rest, so that afterwards the blob is byte-identical to the
file. It is the exact counterpart of .NET ``SaveTrackedAsync`` (spec/README.md, "Tracked
save"; decisions D-30 to D-34):

- each flush uploads exactly the bytes ``[uploaded, size at flush start)``, in append
  blocks of at most 4 MiB, each sent with the append position it expects, so that an
  append retried after a lost response can never store the same bytes twice;
- a file that shrinks, is replaced or is removed is reported, never mirrored wrongly;
- errors raised in the background thread are kept, passed to ``on_error`` as they happen,
  and the first is raised by :meth:`~TrackedFile.close` with all of them in ``.errors``;
- idle tracking waits on an event (no busy loop), and a flush of a file that did not grow
  sends no request.

Typical use (the blob name comes from :func:`conventions.task_blob_name`)::

    from conventions import TaskOutputKind, task_blob_name
    from conventions.tracked import TrackedFile

    blob = task_blob_name("task-1", TaskOutputKind.TASK_LOG, "stdout.txt")
    with TrackedFile(container_client, blob, "stdout.txt", flush_interval=15.0):
        run_the_work()          # stdout.txt grows; the blob follows every 15 s
    # here the blob equals stdout.txt, or close() raised what went wrong

This module imports azure-storage-blob; ``import conventions`` does not load it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from azure.core import MatchConditions
from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError

from ._azure_errors import http_detail, storage_error
from .errors import (
    AccessDeniedError,
    AppendBlobLimitError,
    AppendConflictError,
    ContainerNotFoundError,
    TrackedBlobExistsError,
    TrackedFileMissingError,
    TrackedFileReplacedError,
    TrackedFileTruncatedError,
    TrackingError,
)
from .live import mark_complete

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient, ContainerClient

__all__ = [
    "MAX_APPEND_BLOB_SIZE",
    "MAX_APPEND_BLOCKS",
    "MAX_APPEND_BLOCK_SIZE",
    "AppendBlobLimitError",
    "AppendConflictError",
    "TrackedBlobExistsError",
    "TrackedFile",
    "TrackedFileMissingError",
    "TrackedFileReplacedError",
    "TrackedFileTruncatedError",
    "TrackingError",
]

_log = logging.getLogger("conventions")

#: Largest Append Block the service accepts everywhere (newer versions allow 100 MiB).
MAX_APPEND_BLOCK_SIZE = 4 * 1024 * 1024
#: Most blocks an append blob can hold.
MAX_APPEND_BLOCKS = 50_000
#: Largest append blob: 50,000 blocks of 4 MiB (about 195 GiB).
MAX_APPEND_BLOB_SIZE = MAX_APPEND_BLOCKS * MAX_APPEND_BLOCK_SIZE

# How many kept errors close() carries in ``.errors``; the count goes on regardless.
_MAX_KEPT_ERRORS = 100
# Bytes of the uploaded tail re-read on each flush that has new bytes, to notice a file
# that was truncated and grew back past the uploaded length between two flushes.
_TAIL_CHECK = 64


# -- errors ------------------------------------------------------------------------------------


# Errors after which flushing again cannot succeed: the background thread stops.
_FINAL_ERRORS = (
    TrackedFileTruncatedError,
    TrackedFileReplacedError,
    AppendBlobLimitError,
    AppendConflictError,
    AccessDeniedError,
    ContainerNotFoundError,
)


# -- the tracker -------------------------------------------------------------------------------


class TrackedFile:
    """Stream a growing local file to an append blob until closed.

    :param container_client: the job's container (it must exist).
    :param blob_name: the blob to write, e.g. from :func:`conventions.task_blob_name`.
    :param source: the local file. It may not exist yet: nothing is uploaded until it does.
    :param flush_interval: seconds between background flushes (> 0). The first background
        flush happens one interval after :meth:`start`.
    :param on_error: called, from the background thread, with each error as it happens.
        The errors are kept all the same, and :meth:`close` raises the first.
    :param overwrite: if the blob exists, replace it with an empty append blob instead of
        raising :class:`TrackedBlobExistsError` at :meth:`start`.
    :param block_size: largest append block in bytes (1 .. 4 MiB).
    :param max_blocks: refuse an append that would make the blob hold more blocks
        (at most :data:`MAX_APPEND_BLOCKS`).
    :param max_size: refuse an append that would make the blob longer (at most
        :data:`MAX_APPEND_BLOB_SIZE`).

    Use it as a context manager, or call :meth:`start` and :meth:`close`::

        tracked = TrackedFile(container_client, blob_name, "stdout.txt").start()
        try:
            ...
            tracked.flush()     # upload now what the file gained, in this thread
        finally:
            tracked.close()     # final flush; raises the first error kept, if any

    Every flush uses at least one append block, and an append blob holds at most
    50,000: flushing a constantly growing file every 5 ms exhausts it in about four
    minutes, every minute (the default) in about a month.
    """

    def __init__(
        self,
        container_client: ContainerClient,
        blob_name: str,
        source: str | os.PathLike[str],
        *,
        flush_interval: float = 60.0,
        on_error: Callable[[Exception], object] | None = None,
        overwrite: bool = False,
        block_size: int = MAX_APPEND_BLOCK_SIZE,
        max_blocks: int = MAX_APPEND_BLOCKS,
        max_size: int = MAX_APPEND_BLOB_SIZE,
    ) -> None:
        if not flush_interval > 0:
            raise ValueError(f"flush_interval must be > 0 seconds, not {flush_interval!r}")
        if not 1 <= block_size <= MAX_APPEND_BLOCK_SIZE:
            raise ValueError(f"block_size must be 1..{MAX_APPEND_BLOCK_SIZE}, not {block_size!r}")
        if not 1 <= max_blocks <= MAX_APPEND_BLOCKS:
            raise ValueError(f"max_blocks must be 1..{MAX_APPEND_BLOCKS}, not {max_blocks!r}")
        if not 0 <= max_size <= MAX_APPEND_BLOB_SIZE:
            raise ValueError(f"max_size must be 0..{MAX_APPEND_BLOB_SIZE}, not {max_size!r}")
        self._container_client = container_client
        self._blob: BlobClient = container_client.get_blob_client(blob_name)
        self.blob_name = blob_name
        self.container_name: str = container_client.container_name
        self.source = Path(source)
        self.flush_interval = float(flush_interval)
        self._on_error = on_error
        self._overwrite = overwrite
        self._block_size = block_size
        self._max_blocks = max_blocks
        self._max_size = max_size

        self._lock = threading.Lock()  # one flush at a time, manual or background
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._uploaded = 0
        self._blocks = 0
        self._tail = b""  # the last bytes uploaded, to check on the next flush
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) once the file exists
        self._errors: list[Exception] = []
        self._error_count = 0
        self._final_error = False
        self._started = False
        self._closed = False

    # -- public state ---------------------------------------------------------------------

    @property
    def uploaded(self) -> int:
        """How many bytes of the file the blob holds, as far as this tracker knows."""
        return self._uploaded

    @property
    def errors(self) -> tuple[Exception, ...]:
        """The errors kept so far (background and final flushes), oldest first."""
        return tuple(self._errors)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def __repr__(self) -> str:
        return (
            f"<TrackedFile {str(self.source)!r} -> {self.container_name}/{self.blob_name} "
            f"uploaded={self._uploaded}>"
        )

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> TrackedFile:
        """Create the append blob (in this thread, so its errors raise here) and start
        the background thread. Returns ``self``.

        Raises :class:`TrackedBlobExistsError` if the blob exists and ``overwrite`` is
        false, or a :class:`~conventions.StorageError` if the blob cannot be created.
        """
        if self._started:
            raise TrackingError(f"{self._where()}: already started", **self._names())
        try:
            if self._overwrite:
                self._blob.create_append_blob()
            else:
                self._blob.create_append_blob(match_condition=MatchConditions.IfMissing)
        except ResourceExistsError as exc:
            raise TrackedBlobExistsError(
                f"{self._where()}: the blob already exists; pass overwrite=True to replace it",
                **self._names(),
            ) from exc
        except AzureError as exc:
            raise storage_error(
                exc, "create append blob", permission="c", **self._names()
            ) from exc
        self._started = True
        self._thread = threading.Thread(
            target=self._run, name=f"conventions-tracked:{self.blob_name}", daemon=True
        )
        self._thread.start()
        _log.debug("tracking %s -> %s/%s", self.source, self.container_name, self.blob_name)
        return self

    def flush(self) -> int:
        """Upload now, in this thread, what the file gained since the last flush.

        Returns the number of bytes uploaded (0, without any request, if the file did not
        grow or does not exist yet). Errors raise here and are not kept.
        """
        if not self._started or self._closed:
            state = "closed" if self._closed else "not started"
            raise TrackingError(f"{self._where()}: cannot flush, {state}", **self._names())
        return self._flush()

    def close(self) -> None:
        """Stop the background thread, flush everything, then raise the first kept error.

        The raised error carries every kept error (itself first) in its ``errors``
        attribute, and on Python 3.11+ a note saying how many there were. Calling
        ``close`` again does nothing.
        """
        if self._closed:
            return
        self._closed = True
        if not self._started:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if not self._final_error:
            try:
                self._flush()
                if self._identity is None:
                    raise TrackedFileMissingError(
                        f"{self._where()}: the file never appeared; the blob is empty",
                        **self._names(),
                    )
                mark_complete(self._blob, self._uploaded)  # the blob equals the file now
            except Exception as exc:  # noqa: BLE001 - kept and raised just below
                self._keep(exc)
        if self._errors:
            first = self._errors[0]
            first.errors = tuple(self._errors)  # type: ignore[attr-defined]
            if self._error_count > 1 and sys.version_info >= (3, 11):
                first.add_note(f"{self._error_count - 1} more error(s) in .errors")
            raise first
        _log.debug(
            "tracked %s: %d bytes in %d blocks", self.blob_name, self._uploaded, self._blocks
        )

    def __enter__(self) -> TrackedFile:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
            return
        # The body failed: still flush, but let the body's exception propagate; the
        # tracking error is logged and noted on it (3.11+), not lost.
        try:
            self.close()
        except Exception as close_error:  # noqa: BLE001 - logged and noted just below
            _log.error(
                "%s: closing failed while another error propagated: %s", self._where(), close_error
            )
            if sys.version_info >= (3, 11):
                exc.add_note(f"also, closing the tracked file failed: {close_error}")

    # -- internals ------------------------------------------------------------------------

    def _names(self) -> dict[str, str]:
        return {"container": self.container_name, "blob": self.blob_name}

    def _where(self) -> str:
        return (
            f"tracked save of {str(self.source)!r} to blob {self.blob_name!r} "
            f"in container {self.container_name!r}"
        )

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval):
            try:
                self._flush()
            except Exception as exc:  # noqa: BLE001 - kept, reported, raised by close()
                self._keep(exc)
                if self._final_error:
                    _log.debug("tracked %s: background flushing stopped", self.blob_name)
                    return

    def _count(self, exc: Exception) -> None:
        self._error_count += 1
        if len(self._errors) < _MAX_KEPT_ERRORS:
            self._errors.append(exc)

    def _keep(self, exc: Exception) -> None:
        self._count(exc)
        if isinstance(exc, _FINAL_ERRORS):
            self._final_error = True
        _log.warning("%s", exc)
        if self._on_error is not None:
            try:
                self._on_error(exc)
            except Exception as callback_error:  # noqa: BLE001 - kept too, never lost
                _log.exception("%s: on_error raised", self._where())
                self._count(callback_error)

    def _flush(self) -> int:
        with self._lock:
            return self._flush_locked()

    def _flush_locked(self) -> int:
        try:
            file = self.source.open("rb")
        except FileNotFoundError:
            if self._identity is None:
                return 0  # not there yet: wait for it
            raise TrackedFileReplacedError(
                f"{self._where()}: the file was removed after {self._uploaded} bytes were uploaded",
                **self._names(),
            ) from None
        with file:
            stat = os.fstat(file.fileno())
            identity = (stat.st_dev, stat.st_ino)
            if self._identity is None:
                self._identity = identity
            elif identity != self._identity:
                raise TrackedFileReplacedError(
                    f"{self._where()}: the file was replaced by another file after "
                    f"{self._uploaded} bytes were uploaded",
                    **self._names(),
                )
            size = stat.st_size  # the end of this flush, fixed now (decision D-30)
            if size < self._uploaded:
                raise self._truncated(f"shrank to {size} bytes")
            if size == self._uploaded:
                return 0
            if self._tail:
                file.seek(self._uploaded - len(self._tail))
                if file.read(len(self._tail)) != self._tail:
                    raise self._truncated("changed before the end of what was uploaded")
            file.seek(self._uploaded)
            start = self._uploaded
            while self._uploaded < size:
                length = min(self._block_size, size - self._uploaded)
                self._check_limits(length)
                data = file.read(length)
                if len(data) != length:
                    raise self._truncated("shrank while it was read")
                self._append(data)
            _log.debug("tracked %s: flushed bytes [%d, %d)", self.blob_name, start, self._uploaded)
            return self._uploaded - start

    def _truncated(self, what: str) -> TrackedFileTruncatedError:
        return TrackedFileTruncatedError(
            f"{self._where()}: the file {what}, but {self._uploaded} bytes were already "
            "uploaded; tracked files may only grow",
            **self._names(),
        )

    def _check_limits(self, length: int) -> None:
        if self._blocks + 1 > self._max_blocks:
            raise AppendBlobLimitError(
                f"{self._where()}: the append blob already holds {self._blocks} blocks, the "
                f"limit is {self._max_blocks}; {self._uploaded} bytes were uploaded",
                **self._names(),
            )
        if self._uploaded + length > self._max_size:
            raise AppendBlobLimitError(
                f"{self._where()}: {self._uploaded + length} bytes would pass the append "
                f"blob size limit of {self._max_size} bytes; {self._uploaded} bytes were "
                "uploaded",
                **self._names(),
            )

    def _append(self, data: bytes) -> None:
        offset = self._uploaded
        try:
            # The append position makes a retry after a lost response safe: if the first
            # attempt landed, the retry fails with 412 instead of appending a duplicate.
            self._blob.append_block(data, length=len(data), appendpos_condition=offset)
        except HttpResponseError as exc:
            if getattr(exc, "error_code", None) != "AppendPositionConditionNotMet":
                raise storage_error(exc, "append to", permission="a", **self._names()) from exc
            self._reconcile(data, offset, exc)
        except AzureError as exc:
            raise storage_error(exc, "append to", permission="a", **self._names()) from exc
        self._uploaded = offset + len(data)
        self._blocks += 1
        self._tail = (self._tail + data)[-_TAIL_CHECK:]

    def _reconcile(self, data: bytes, offset: int, cause: HttpResponseError) -> None:
        """After a 412 on the append position: did our own earlier attempt land?"""
        try:
            blob_size = self._blob.get_blob_properties().size
            landed = blob_size == offset + len(data) and (
                self._blob.download_blob(offset=offset, length=len(data)).readall() == data
            )
        except AzureError as exc:
            error = storage_error(
                exc, "read back, to reconcile a retried append,", permission="r", **self._names()
            )
            if isinstance(error, AccessDeniedError) and isinstance(exc, HttpResponseError):
                # Only a retried append needs this read, so a SAS without 'r' works until a
                # response is lost: say why 'r' is needed, not only that it is missing.
                error = AccessDeniedError(
                    f"{self._where()}: an append was retried after its response was lost, "
                    "and reconciling a retried append needs read: access denied; a SAS needs "
                    f"permission 'r' for this (tracked saves need 'racw') {http_detail(exc)}",
                    permission="r",
                    **self._names(),
                )
            raise error from exc
        if not landed:
            raise AppendConflictError(
                f"{self._where()}: expected the blob to hold {offset} bytes before appending "
                f"{len(data)}, but it holds {blob_size}: it was changed by someone else",
                **self._names(),
            ) from cause
        _log.warning(
            "tracked %s: an append of bytes [%d, %d) was retried after it had landed; "
            "reconciled from the blob's length, nothing duplicated",
            self.blob_name,
            offset,
            offset + len(data),
        )
