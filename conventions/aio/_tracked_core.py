"""The running side of a tracked save (:class:`conventions.tracked.TrackedFile`): its
life cycle (one :class:`~conventions._tracked_state.Phase`), the background flusher's loop
(flush at the budget's cadence, keep the liveness promise; a thread in the sync face, a task
in the async one: ``_tracked_run``), the errors kept
(:class:`~conventions._tracked_errors.ErrorTally`), and closing: the final flush, the marks
followers read, and the outcome ``close()`` raises. The flush step itself is
:class:`conventions._tracked_flush.Appender`.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._tracked_errors import ErrorTally
from .._tracked_source import TrackedSource
from .._tracked_state import Event, Phase, advance
from ..errors import StorageError, TrackedFileMissingError
from ..follow import liveness_metadata, liveness_period
from ._backend import to_thread
from ._tracked_blob import MARK_ATTEMPTS, mark_complete_patiently, mark_incomplete
from ._tracked_flush import Appender
from ._tracked_run import Lock, Stop, ThreadLock, Worker, call_back, current
from .live import set_metadata

if TYPE_CHECKING:
    from azure.storage.blob.aio import BlobClient

__all__ = ["TRACKER_METADATA", "Tracker"]

_log = logging.getLogger("conventions")

#: Blob metadata naming the tracker that created the blob, so that a create whose response
#: was lost, retried and refused ("already exists") is recognised as our own.
TRACKER_METADATA = "conventionstracker"
# A liveness promise is published again when the period it promises is too short (it
# must be, before a longer gap), or this many times longer than the current one.
_REPUBLISH_RATIO = 1.25


class Tracker:
    """The state and the flusher of one tracked save, apart from its options."""

    def __init__(
        self,
        blob: BlobClient,
        source: TrackedSource,
        appender: Appender,
        *,
        interval: float,
        on_error: Callable[[Exception], object] | None,
        tracker_id: str,
        where: str,
        names: dict[str, str],
    ) -> None:
        self.blob = blob
        self.source = source
        self.appender = appender
        self.interval = interval
        self.on_error = on_error
        self.tracker_id = tracker_id
        self.where = where
        self.names = names
        self.promised = liveness_period(interval)  # in the blob's metadata
        self.phase = Phase.NEW  # the life cycle, moved by conventions._tracked_state.advance
        self.tally = ErrorTally()  # replaced under _tally_lock (conventions._tracked_errors)
        self._tally_lock = ThreadLock()
        self._lock = Lock()  # one flush at a time, manual or background
        self._state_lock = ThreadLock()  # every move of self.phase
        self._finish_lock = Lock()  # the final flush, once
        self._stop = Stop()
        self.worker: Worker | None = None  # the background flusher
        self._finishing: object = None  # the thread (task) running the final flush

    def move(self, event: Event) -> None:
        """Move the phase by *event* (:func:`conventions._tracked_state.advance`)."""
        with self._state_lock:
            self.phase = advance(self.phase, event)

    def start_worker(self, name: str) -> None:
        """Start the background flusher (the blob exists)."""
        self.worker = Worker(self._run, name)
        self.worker.start()

    async def flush(self) -> int:
        """Upload now, in this thread (task), what the file gained (errors raise)."""
        async with self._lock:
            return await self._flush_locked()

    async def close(self) -> None:
        """``TrackedFile.close()``: see there."""
        background = self.worker is not None and self.worker.is_current()
        with self._state_lock:
            if current() is self._finishing:
                return  # from on_error during the final flush: it is running already
            event = Event.CLOSE_IN_BACKGROUND if background else Event.CLOSE
            self.phase = advance(self.phase, event)
            started = self.phase.started
        if not started:
            return
        self._stop.set()
        if background:
            return  # the background flusher runs the final flush when on_error returns
        if self.worker is not None:
            await self.worker.join()
        await self._finish()
        self._report()

    # -- closing -------------------------------------------------------------------------

    async def _finish(self) -> None:
        """The final flush and check, run once, by whichever thread (task) gets here first.
        Interrupted before its outcome is known (Ctrl-C, a cancel), it leaves the phase as
        it was, so that a later ``close()`` runs it again."""
        async with self._finish_lock:
            if self.phase.finished:
                return
            self._finishing = current()
            outcome: Event | None = None
            try:
                if not self.tally.stops:
                    try:
                        async with self._lock:
                            await self._flush_locked()
                            if self.source.identity is None:
                                raise TrackedFileMissingError(
                                    f"{self.where}: the file never appeared; the blob is empty",
                                    **self.names,
                                )
                            uploaded = self.appender.uploaded
                            digest = self.appender.digest.digest()
                            await to_thread(self.source.verify, uploaded, digest)
                    except Exception as exc:  # noqa: BLE001 - kept and raised by close()
                        await self._keep(exc)
                # The one place where success is known: the blob equals the file.
                succeeded = self.tally.succeeded
                outcome = Event.FINISHED_OK if succeeded else Event.FINISHED_FAILED
                if succeeded:
                    await self._mark_complete()
                else:
                    keep = {TRACKER_METADATA: self.tracker_id}
                    await mark_incomplete(self.blob, self.appender.uploaded, keep)
            finally:
                if outcome is not None:
                    self.move(outcome)
                self._finishing = None

    async def _mark_complete(self) -> None:
        """Say so to readers (follow). The blob is stored: a mark that cannot be set is
        retried, then a warning, never a failure (decision D-82)."""
        keep = {TRACKER_METADATA: self.tracker_id}
        error = await mark_complete_patiently(self.blob, self.appender.uploaded, keep)
        if error is not None:
            self._count(error)
            _log.warning(
                "tracked %s: the blob equals the file (%d bytes), but it could not be marked "
                "complete after %d attempts, so followers will not see its end (they stop "
                "when its liveness lapses): %s",
                self.names["blob"],
                self.appender.uploaded,
                MARK_ATTEMPTS,
                error,
            )

    def _report(self) -> None:
        with self._state_lock:
            outcome = self.phase
            self.phase = advance(outcome, Event.REPORT)
        if outcome not in (Phase.SUCCEEDED, Phase.FAILED):
            return  # reported already
        tally = self.tally
        if outcome is Phase.SUCCEEDED:
            if tally.kept:
                _log.info(
                    "tracked %s: recovered from %d error(s); the blob equals the file",
                    self.names["blob"],
                    tally.count,
                )
            _log.debug(
                "tracked %s: %d bytes in %d blocks",
                self.names["blob"],
                self.appender.uploaded,
                self.appender.blocks,
            )
            return
        first = tally.first
        assert first is not None  # the final flush failed: it says why
        first.errors = (first, *tally.others(first))  # type: ignore[attr-defined]
        if tally.count > 1 and sys.version_info >= (3, 11):
            first.add_note(f"{tally.count - 1} more error(s) in .errors")
        raise first

    # -- internals ------------------------------------------------------------------------

    async def _run(self) -> None:
        next_tick = self.appender.started_at + self.interval
        while True:
            # Wake at the next tick, or when the liveness promise is due first.
            wake = min(next_tick, self.appender.changed_at + self.promised)
            if await self._stop.wait(max(wake - time.monotonic(), 0.0)):
                break
            try:
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + self.interval
                    async with self._lock:
                        await self._flush_locked(budgeted=True)
                await self._keep_alive()
            except Exception as exc:  # noqa: BLE001 - kept, reported, raised by close()
                await self._keep(exc)
                if self.tally.stops:
                    _log.debug("tracked %s: background flushing stopped", self.names["blob"])
                    break
        if self.phase is Phase.CLOSING_IN_BACKGROUND:
            await self._finish()

    async def _keep_alive(self) -> None:
        """Refresh the liveness promise if the blob did not change for a period, or
        publish a new period when the budget's cadence moved away from it."""
        period = liveness_period(self.appender.cadence)
        async with self._lock:
            now = time.monotonic()
            quiet = now - self.appender.changed_at >= self.promised
            moved = period > self.promised or period * _REPUBLISH_RATIO < self.promised
            if not (quiet or moved):
                return
            self.appender.changed_at = now  # tried: the next try is a period later, not at once
            metadata = {TRACKER_METADATA: self.tracker_id, **liveness_metadata(period)}
            try:
                await set_metadata(self.blob, metadata, "refresh the liveness of")
            except StorageError as exc:
                # Not the log's bytes: counted and logged, and close() does not raise for it.
                self._count(exc)
                _log.warning("%s", exc)
                return
            self.promised = period

    def _count(self, exc: Exception) -> None:
        with self._tally_lock:
            self.tally = self.tally.counted(exc)

    def _caught_up(self) -> None:
        with self._tally_lock:
            self.tally = self.tally.caught_up()

    async def _keep(self, exc: Exception) -> None:
        with self._tally_lock:
            self.tally = self.tally.kept_error(exc)
        _log.warning("%s", exc)
        if self.on_error is not None:
            try:
                await call_back(self.on_error, exc)
            except Exception as callback_error:  # noqa: BLE001 - kept too, never lost
                _log.exception("%s: on_error raised", self.where)
                self._count(callback_error)

    async def _flush_locked(self, *, budgeted: bool = False) -> int:
        flushed = await self.appender.flush(budgeted=budgeted)
        if flushed.caught_up:
            self._caught_up()
        return flushed.nbytes
