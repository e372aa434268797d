# Generated from conventions/aio/_tracked_flush.py by scripts/unasync.py: do not edit.
# ruff: noqa
"""A tracked save's flush step: append to the blob what the file gained, in blocks of at
most ``block_size``, each at the append position it expects, and reconcile a refused
position from the blob's own bytes. Used by :class:`conventions.tracked.TrackedFile` (under
its flush lock); the decisions are pure (:mod:`conventions.budget` for how much a
background flush may send, :mod:`conventions.reconcile` for a refused position). Written
once, in ``conventions.aio``; the sync face's is generated (``scripts/unasync.py``).
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import TYPE_CHECKING, BinaryIO

import attrs
from azure.core.exceptions import AzureError

from ._azure_errors import is_append_position_conflict, storage_error
from ._tracked_source import TrackedSource, read_at
from .budget import BlockBudget
from .errors import AppendBlobLimitError, AppendConflictError, TrackingError
from .reconcile import reconcile
from ._backend import shielded
from ._tracked_blob import read_back
from ._tracked_run import open_source

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient

__all__ = ["Appender", "Flushed"]

_log = logging.getLogger("conventions")

# Bytes of the uploaded tail re-read on each flush that has new bytes, to notice a file
# that was truncated and grew back past the uploaded length between two flushes.
_TAIL_CHECK = 64
# A flush gives up after this many 412s that reconcile to "append again" (the blob's length
# kept moving under it); the next flush starts over.
_MAX_RECONCILES = 3


@attrs.frozen
class Flushed:
    """What one flush did."""

    #: Bytes appended.
    nbytes: int
    #: Whether the blob then held the whole file (earlier errors are recovered from).
    caught_up: bool


class Appender:
    """What was uploaded of one tracked file, and the flush that adds to it."""

    def __init__(
        self,
        blob: BlobClient,
        source: TrackedSource,
        budget: BlockBudget,
        *,
        interval: float,
        block_size: int,
        max_blocks: int,
        max_size: int,
        where: str,
        names: dict[str, str],
    ) -> None:
        self._blob = blob
        self._source = source
        self._budget = budget
        self._block_size = block_size
        self._max_blocks = max_blocks
        self._max_size = max_size
        self._where = where
        self._names = names
        self.uploaded = 0
        self.blocks = 0
        self._tail = b""  # the last bytes uploaded, to check on the next flush
        self.digest = hashlib.sha256()  # of every byte uploaded, checked against the file at close
        self.started_at = 0.0  # monotonic, at start()
        self.caught_up_at = 0.0  # the last background flush that sent everything
        self.changed_at = 0.0  # the blob's last change (create, append, metadata)
        self.cadence = interval  # the budget's current cadence

    def started(self) -> None:
        """The blob was created now."""
        self.started_at = self.caught_up_at = self.changed_at = time.monotonic()

    def flush(self, *, budgeted: bool = False) -> Flushed:
        """Upload what the file gained; *budgeted* (background flushes): only what the
        block budget allows now (:meth:`conventions.budget.BlockBudget.plan`). Each read
        of the file is one step (in the async face, a thread hop that a cancel waits for)."""
        with open_source(self._source, self.uploaded) as opened:
            if opened is None:
                if self._source.identity is None:
                    return Flushed(0, caught_up=False)  # not there yet: wait for it
                raise self._source.removed(self.uploaded)
            file, status = opened
            size = status.st_size  # the end of this flush, fixed now (decision D-30)
            if size < self.uploaded:
                raise self._source.truncated(f"shrank to {size} bytes", self.uploaded)
            if size == self.uploaded:
                return Flushed(0, caught_up=True)
            now = time.monotonic()
            end = size
            if budgeted:
                plan = self._budget.plan(
                    blocks_left=self._max_blocks - self.blocks,
                    elapsed=now - self.started_at,
                    waiting=size - self.uploaded,
                    since_flush=now - self.caught_up_at,
                )
                self.cadence = plan.cadence
                end = self.uploaded + plan.nbytes
                if end == self.uploaded:
                    return Flushed(0, caught_up=False)  # held back: the budget's cadence
            if self._tail:
                at = self.uploaded - len(self._tail)
                if read_at(file, at, len(self._tail)) != self._tail:
                    raise self._source.changed(self.uploaded)
            start = self.uploaded
            reconciles = 0
            while self.uploaded < end:
                length = min(self._block_size, end - self.uploaded)
                self._check_limits(length)
                data = read_at(file, self.uploaded, length)
                if len(data) != length:
                    raise self._source.truncated("shrank while it was read", self.uploaded)
                if not self._append(data, file):
                    reconciles += 1
                    if reconciles > _MAX_RECONCILES:
                        raise TrackingError(
                            f"{self._where}: the append position was refused "
                            f"{reconciles} times while the blob's length stayed "
                            f"{self.uploaded}; will try again at the next flush",
                            **self._names,
                        )
            self.changed_at = time.monotonic()
            if end == size:
                self.caught_up_at = now
            _log.debug(
                "tracked %s: flushed bytes [%d, %d)", self._names["blob"], start, self.uploaded
            )
            return Flushed(self.uploaded - start, caught_up=end == size)

    def _check_limits(self, length: int) -> None:
        if self.blocks + 1 > self._max_blocks:
            raise AppendBlobLimitError(
                f"{self._where}: the append blob already holds {self.blocks} blocks, the "
                f"limit is {self._max_blocks}; {self.uploaded} bytes were uploaded",
                **self._names,
            )
        if self.uploaded + length > self._max_size:
            raise AppendBlobLimitError(
                f"{self._where}: {self.uploaded + length} bytes would pass the append "
                f"blob size limit of {self._max_size} bytes; {self.uploaded} bytes were "
                "uploaded",
                **self._names,
            )

    def _advance(self, data: bytes, blocks: int) -> None:
        self.uploaded += len(data)
        self.blocks = blocks
        self.digest.update(data)
        self._tail = (self._tail + data)[-_TAIL_CHECK:]

    def _append(self, data: bytes, file: BinaryIO) -> bool:
        """Append *data* at the believed offset; False if it must be sent again."""
        offset = self.uploaded
        try:
            # The append position makes a retry after a lost response safe: if an earlier
            # attempt landed, the retry fails with 412 instead of appending a duplicate.
            self._blob.append_block(data, length=len(data), appendpos_condition=offset)
        except AzureError as exc:
            if not is_append_position_conflict(exc):
                raise storage_error(exc, "append to", permission="a", **self._names) from exc
            return self._reconcile(offset, file, exc)
        self._advance(data, self.blocks + 1)
        return True

    def _reconcile(self, offset: int, file: BinaryIO, cause: AzureError) -> bool:
        """After a 412 on the append position: read what the blob really holds and decide
        (:func:`conventions.reconcile.reconcile`). True if the offset advanced."""
        blob_length, committed, blob_extra, file_extra = read_back(
            self._blob, offset, file, self._block_size, self._where, self._names
        )
        decision = reconcile(
            believed=offset,
            blob_length=blob_length,
            blob_extra=blob_extra,
            file_extra=file_extra,
            block_size=self._block_size,
        )
        if decision.action == "conflict":
            raise AppendConflictError(f"{self._where}: {decision.reason}", **self._names) from cause
        if decision.action == "append":
            return False
        self._advance(blob_extra, committed if committed is not None else self.blocks + 1)
        _log.warning(
            "tracked %s: an earlier append of bytes [%d, %d) had landed though no response "
            "said so; reconciled from the blob's bytes, nothing duplicated",
            self._names["blob"],
            offset,
            blob_length,
        )
        return True
