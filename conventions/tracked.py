# Generated from conventions/aio/tracked.py by scripts/unasync.py: do not edit.
# ruff: noqa
"""Tracked save: stream a growing file (a task's log) to an append blob while it grows.

:class:`TrackedFile` watches one local file and, from a background flusher (a thread;
in the async face, ``conventions.TrackedFile``, a task on the event loop), appends
what the file gained since the last flush to an append blob. On :meth:`TrackedFile.close`
a final flush uploads the rest, so that afterwards the blob is byte-identical to the
file. It is the exact counterpart of .NET ``SaveTrackedAsync`` (spec/README.md, "Tracked
save"; decisions D-30 to D-34):

- each flush uploads exactly the bytes ``[uploaded, size at flush start)``, in append
  blocks of at most 4 MiB, each sent with the append position it expects, so that an
  append retried after a lost response can never store the same bytes twice;
- a file that shrinks, is replaced or is removed is reported, never mirrored wrongly;
- errors raised in the background flusher are kept, passed to ``on_error`` as they happen,
  and the first is raised by :meth:`~TrackedFile.close` with all of them in ``.errors``;
- idle tracking waits on an event (no busy loop), and a flush of a file that did not grow
  sends no request;
- background flushes spend the blob's 50,000 blocks by a budget (:mod:`conventions.budget`)
  so that the stream lasts ``lifetime`` (a Batch task's 180 days by default), keeping the
  last block for ``close()``;
- while the file is quiet the tracker refreshes a liveness promise in the blob's metadata,
  so a follower can tell a quiet writer from a dead one (decision D-81).

Typical use (the blob name comes from :func:`conventions.task_blob_name`)::

    from conventions import TaskOutputKind, task_blob_name
    from conventions.tracked import TrackedFile

    blob = task_blob_name("task-1", TaskOutputKind.TASK_LOG, "stdout.txt")
    with TrackedFile(container_client, blob, "stdout.txt", flush_interval=15.0):
        run_the_work()          # stdout.txt grows; the blob follows every 15 s
    # here the blob equals stdout.txt, or close() raised what went wrong

Written once, in ``conventions.aio``; the sync face's module is generated from it
(``scripts/unasync.py``). This module imports azure-storage-blob; ``import conventions``
does not load it.
"""

from __future__ import annotations

import logging
import math
import os
import stat
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from azure.core import MatchConditions
from azure.core.exceptions import AzureError

from ._azure_errors import already_exists, storage_error
from ._tracked_source import TrackedSource
from ._tracked_state import Event, Phase
from .budget import BlockBudget
from .errors import (
    AppendBlobLimitError,
    AppendConflictError,
    InvalidTrackingOptionError,
    TrackedBlobExistsError,
    TrackedFileChangedError,
    TrackedFileMissingError,
    TrackedFileReplacedError,
    TrackedFileTruncatedError,
    TrackedSourceError,
    TrackingError,
)
from .follow import liveness_metadata
from ._backend import to_thread
from ._tracked_blob import created_by
from ._tracked_core import TRACKER_METADATA, Tracker
from ._tracked_flush import Appender

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient, ContainerClient

__all__ = [
    "DEFAULT_LIFETIME",
    "MAX_APPEND_BLOB_SIZE",
    "MAX_APPEND_BLOCKS",
    "MAX_APPEND_BLOCK_SIZE",
    "AppendBlobLimitError",
    "AppendConflictError",
    "InvalidTrackingOptionError",
    "TrackedBlobExistsError",
    "TrackedFile",
    "TrackedFileChangedError",
    "TrackedFileMissingError",
    "TrackedFileReplacedError",
    "TrackedFileTruncatedError",
    "TrackedSourceError",
    "TrackingError",
]

_log = logging.getLogger("conventions")

#: Largest Append Block the service accepts everywhere (newer versions allow 100 MiB).
MAX_APPEND_BLOCK_SIZE = 4 * 1024 * 1024
#: Most blocks an append blob can hold.
MAX_APPEND_BLOCKS = 50_000
#: Largest append blob: 50,000 blocks of 4 MiB (about 195 GiB).
MAX_APPEND_BLOB_SIZE = MAX_APPEND_BLOCKS * MAX_APPEND_BLOCK_SIZE

#: Seconds a tracked log streams for by default: a Batch task's longest life, 180 days.
DEFAULT_LIFETIME = 180 * 24 * 3600.0



def _check_number(name: str, value: object, low: float, high: float, *, integer: bool) -> None:
    kind = int if integer else (int, float)
    if (
        isinstance(value, bool)
        or not isinstance(value, kind)
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        bounds = f"{low:g}..{high:g}" if integer else f"> 0 and at most {high:g} seconds"
        raise InvalidTrackingOptionError(
            f"{name} must be {'an integer ' if integer else 'a number '}{bounds}, not {value!r}"
        )


# -- the tracker -------------------------------------------------------------------------------


class TrackedFile:
    """Stream a growing local file to an append blob until closed.

    :param container_client: the job's container (it must exist).
    :param blob_name: the blob to write, e.g. from :func:`conventions.task_blob_name`.
    :param source: the local file. It may not exist yet: nothing is uploaded until it does.
        It must be a regular file (not a directory, FIFO or device).
    :param flush_interval: seconds between background flushes (finite, > 0), for as long
        as the block budget allows; then the cadence stretches (see ``lifetime``). The
        first background flush happens one interval after :meth:`start`.
    :param on_error: called, from the thread where it happened, with each error. It may
        call :meth:`close`. The errors are kept all the same. In the async face it is
        called on the event loop, in the task where the error happened, and what it
        returns is awaited if it is awaitable (a coroutine function may close the save).
    :param overwrite: if the blob exists, replace it with an empty append blob instead of
        raising :class:`TrackedBlobExistsError` at :meth:`start`.
    :param block_size: largest append block in bytes (1 .. 4 MiB).
    :param max_blocks: refuse an append that would make the blob hold more blocks
        (at most :data:`MAX_APPEND_BLOCKS`).
    :param max_size: refuse an append that would make the blob longer (at most
        :data:`MAX_APPEND_BLOB_SIZE`).
    :param lifetime: seconds the stream must last (finite, > 0; default
        :data:`DEFAULT_LIFETIME`, 180 days): background flushes spend the ``max_blocks``
        by the budget of :class:`conventions.budget.BlockBudget`, so that the blob never
        runs out of blocks before, and the last block is kept for :meth:`close`.

    Bad options raise :class:`~conventions.errors.InvalidTrackingOptionError` here.
    Use it as a context manager, or call :meth:`start` and :meth:`close`::

        tracked = TrackedFile(container_client, blob_name, "stdout.txt").start()
        try:
            ...
            tracked.flush()     # upload now what the file gained, in this thread
        finally:
            tracked.close()     # final flush; blob == file, or it raises

    Every flush uses at least one append block, and an append blob holds at most
    50,000: background flushes therefore honour ``flush_interval`` while the budget
    allows and then flush less often (at the defaults, every 60 s for the first days,
    about every 20 minutes near day 180). A manual :meth:`flush` is not budgeted.
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
        lifetime: float = DEFAULT_LIFETIME,
    ) -> None:
        _check_number("flush_interval", flush_interval, 0, threading.TIMEOUT_MAX, integer=False)
        if not flush_interval > 0:
            raise InvalidTrackingOptionError(
                f"flush_interval must be a number > 0 seconds, not {flush_interval!r}"
            )
        _check_number("block_size", block_size, 1, MAX_APPEND_BLOCK_SIZE, integer=True)
        _check_number("max_blocks", max_blocks, 1, MAX_APPEND_BLOCKS, integer=True)
        _check_number("max_size", max_size, 0, MAX_APPEND_BLOB_SIZE, integer=True)
        _check_number("lifetime", lifetime, 0, threading.TIMEOUT_MAX, integer=False)
        if not lifetime > 0:
            raise InvalidTrackingOptionError(
                f"lifetime must be a number > 0 seconds, not {lifetime!r}"
            )
        self._container_client = container_client
        self._blob: BlobClient = container_client.get_blob_client(blob_name)
        self.blob_name = blob_name
        self.container_name: str = container_client.container_name
        self.source = Path(source)
        self.flush_interval = float(flush_interval)
        self._overwrite = overwrite
        self.lifetime = float(lifetime)
        self._source = TrackedSource(self.source, self._where(), self._names())
        budget = BlockBudget(
            interval=self.flush_interval,
            lifetime=self.lifetime,
            max_blocks=max_blocks,
            block_size=block_size,
        )
        # What was uploaded, and the flush step (conventions._tracked_flush).
        appender = Appender(
            self._blob,
            self._source,
            budget,
            interval=self.flush_interval,
            block_size=block_size,
            max_blocks=max_blocks,
            max_size=max_size,
            where=self._where(),
            names=self._names(),
        )
        # The phase, the threads and the errors (conventions._tracked_core).
        self._core = Tracker(
            self._blob,
            self._source,
            appender,
            interval=self.flush_interval,
            on_error=on_error,
            tracker_id=uuid.uuid4().hex,
            where=self._where(),
            names=self._names(),
        )

    # -- public state ---------------------------------------------------------------------

    @property
    def uploaded(self) -> int:
        """How many bytes of the file the blob holds, as far as this tracker knows."""
        return self._core.appender.uploaded

    @property
    def errors(self) -> tuple[Exception, ...]:
        """The errors kept so far (background and final flushes), oldest first, including
        those a later flush recovered from."""
        return self._core.tally.kept

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._core.phase.closed

    def __repr__(self) -> str:
        return (
            f"<TrackedFile {str(self.source)!r} -> {self.container_name}/{self.blob_name} "
            f"uploaded={self._core.appender.uploaded}>"
        )

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> TrackedFile:
        """Create the append blob (in this thread, so its errors raise here) and start
        the background flusher (a thread; in the async face a task). Returns ``self``.

        Raises :class:`TrackedSourceError` if the source exists and is not a regular file,
        :class:`TrackedBlobExistsError` if the blob existed before and ``overwrite`` is
        false, or a :class:`~conventions.StorageError` if the blob cannot be created.
        """
        core = self._core
        if core.phase.started:
            raise TrackingError(f"{self._where()}: already started", **self._names())
        try:
            mode = (os.stat(self.source)).st_mode
        except FileNotFoundError:
            pass  # waited for (decision D-34)
        else:
            if not stat.S_ISREG(mode):
                raise self._source.not_regular(mode)
        metadata = {TRACKER_METADATA: core.tracker_id, **liveness_metadata(core.promised)}
        try:
            if self._overwrite:
                self._blob.create_append_blob(metadata=metadata)
            else:
                self._blob.create_append_blob(
                    metadata=metadata, match_condition=MatchConditions.IfMissing
                )
        except AzureError as exc:
            if not already_exists(exc):
                raise storage_error(
                    exc, "create append blob", permission="c", **self._names()
                ) from exc
            if not created_by(self._blob, TRACKER_METADATA, core.tracker_id, self._names()):
                raise TrackedBlobExistsError(
                    f"{self._where()}: the blob already exists; pass overwrite=True to replace it",
                    **self._names(),
                ) from exc
            _log.warning(
                "tracked %s: the blob was created but the response was lost; its retry was "
                "refused as 'already exists', and the blob is ours",
                self.blob_name,
            )
        core.move(Event.START)
        core.appender.started()
        core.start_worker(f"conventions-tracked:{self.blob_name}")
        _log.debug("tracking %s -> %s/%s", self.source, self.container_name, self.blob_name)
        return self

    def flush(self) -> int:
        """Upload now, in this thread, what the file gained since the last flush.

        Returns the number of bytes uploaded (0, without any request, if the file did not
        grow or does not exist yet). Errors raise here and are not kept.
        """
        phase = self._core.phase
        if phase is not Phase.RUNNING:
            state = "closed" if phase.closed else "not started"
            raise TrackingError(f"{self._where()}: cannot flush, {state}", **self._names())
        return self._core.flush()

    def close(self) -> None:
        """Stop the background flusher, flush everything, check, and raise if the blob is
        not the file.

        When it returns without raising, the blob equals the file byte for byte (as the
        file was when the final flush began). Otherwise it raises a
        :class:`TrackingError` (or another :class:`~conventions.StorageError`) whose
        ``errors`` holds every kept error, itself first (on Python 3.11+ a note gives the
        count), and the blob is a prefix of the file. Errors that a later flush recovered
        from (the blob caught up with the file) do not make it raise; they stay in
        :attr:`errors`. It may be called from any thread (in the async face: any task on
        the loop), including from ``on_error`` in the background flusher: there it only
        asks the flusher to run the final flush and returns; the owner's ``close()``
        waits for it and raises. Once it returned or raised, calling it again does
        nothing; interrupted (Ctrl-C; in the async face, a cancel, which also ends the
        flusher) before the final flush ended, it may be called again to run it.
        """
        self._core.close()

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
