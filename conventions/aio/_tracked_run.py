"""The async face's running side of a tracked save; the contract is
``conventions._tracked_run``'s (same names, same meaning). Here the flusher is a task on
the event loop, the flush lock an ``asyncio.Lock``, the stop an ``asyncio.Event`` waited
on with a timeout, and the file is opened in a thread (one hop), never on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
from collections.abc import AsyncIterator, Callable, Coroutine
from types import TracebackType
from typing import BinaryIO

from .._tracked_source import TrackedSource
from ._backend import timeout

__all__ = ["Lock", "Stop", "ThreadLock", "Worker", "call_back", "current", "open_source"]

_log = logging.getLogger("conventions")

Lock = asyncio.Lock


class ThreadLock:
    """Nothing to lock: the lines it guards never await, so on one event loop nothing can
    run between them (the sync face's is a thread lock)."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class Stop:
    """The event that ends the flusher (``threading.Event``'s ``set`` and ``wait``)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self, seconds: float) -> bool:
        """Wait until set, at most *seconds*; whether it is set."""
        if seconds <= 0:
            await asyncio.sleep(0)  # due now: no timer, but let the loop run others
        elif not self._event.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                async with timeout(seconds):
                    await self._event.wait()
        return self._event.is_set()


def current() -> object:
    """The task running now."""
    return asyncio.current_task()


class Worker:
    """The background flusher: *run* as a task named *name*, on the running loop."""

    def __init__(self, run: Callable[[], Coroutine[object, object, None]], name: str) -> None:
        self._run = run
        self._name = name
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def join(self) -> None:
        """Wait until *run* returned. Cancelled while waiting: the flusher is cancelled
        and awaited before the cancel goes on, so no task is left running."""
        task = self._task
        if task is None:
            return
        if not task.done():
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if not task.done():  # this wait was cancelled, not the flusher
                    task.cancel()
                    await asyncio.wait({task})
                    raise
            except Exception:  # noqa: BLE001, S110 - logged just below, as a thread's would be
                pass
        if not task.cancelled() and task.exception() is not None:
            # The flusher keeps every Exception; anything else is a bug: say so (a thread
            # prints it), and retrieve it, so the loop does not report it again.
            _log.error("%s ended by an unexpected error", self._name, exc_info=task.exception())

    def is_current(self) -> bool:
        """Whether the caller runs in the flusher (``on_error`` does)."""
        return self._task is not None and asyncio.current_task() is self._task


async def call_back(function: Callable[[Exception], object], error: Exception) -> None:
    """``function(error)`` (``on_error``); awaited if it returns an awaitable (an ``async
    def`` callback may ``await tracked.close()``)."""
    result = function(error)
    if inspect.isawaitable(result):
        await result


@contextlib.asynccontextmanager
async def open_source(
    source: TrackedSource, uploaded: int
) -> AsyncIterator[tuple[BinaryIO, os.stat_result] | None]:
    """The tracked file opened in a thread (``TrackedSource.open``), closed when the block
    ends; None if it is not there. A cancel while it opens waits for the open, closes the
    file, then goes on: no descriptor is left behind."""
    work = asyncio.ensure_future(asyncio.to_thread(source.open, uploaded))
    cancelled = False
    while True:
        try:
            opened = await asyncio.shield(work)
            break
        except asyncio.CancelledError:
            if work.cancelled():
                raise
            cancelled = True  # the open goes on in its thread; wait for it, then close
    if cancelled:
        if opened is not None:
            opened[0].close()
        raise asyncio.CancelledError
    if opened is None:
        yield None
        return
    file, status = opened
    with file:  # one close(2): not worth a thread hop
        yield file, status
