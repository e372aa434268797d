"""The sync face's running side of a tracked save: what ``conventions._tracked_core`` and
``conventions._tracked_flush`` (generated from ``conventions.aio``) cannot share with the
async face. Hand-written; ``conventions.aio._tracked_run`` has the same names and meaning:

- :class:`Worker`: the background flusher (a daemon thread here, a task there);
  :func:`current`: who is running (the current thread here, the current task there);
- :data:`Lock`: held across a flush (a thread lock here, an ``asyncio.Lock`` there);
  :data:`ThreadLock`: guards a few lines that never wait (a thread lock here; nothing
  there, where such lines cannot interleave on the loop);
- :data:`Stop`: the event that ends the flusher, whose ``wait(seconds)`` says whether it
  was set;
- :func:`call_back`: ``on_error(error)`` (there, awaited if it returns an awaitable);
- :func:`open_source`: the tracked file opened for one flush, closed after it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO

from ._tracked_source import TrackedSource

__all__ = ["Lock", "Stop", "ThreadLock", "Worker", "call_back", "current", "open_source"]

Lock = threading.Lock
ThreadLock = threading.Lock
Stop = threading.Event


def current() -> object:
    """The thread running now."""
    return threading.current_thread()


class Worker:
    """The background flusher: *run* in a daemon thread named *name*."""

    def __init__(self, run: Callable[[], None], name: str) -> None:
        self._thread = threading.Thread(target=run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        """Wait until *run* returned."""
        self._thread.join()

    def is_current(self) -> bool:
        """Whether the caller runs in the flusher (``on_error`` does)."""
        return threading.current_thread() is self._thread


def call_back(function: Callable[[Exception], object], error: Exception) -> None:
    """``function(error)`` (``on_error``); what it returns is ignored."""
    function(error)


@contextlib.contextmanager
def open_source(
    source: TrackedSource, uploaded: int
) -> Iterator[tuple[BinaryIO, os.stat_result] | None]:
    """The tracked file opened (``TrackedSource.open``), closed when the block ends; None
    if it is not there."""
    opened = source.open(uploaded)
    if opened is None:
        yield None
        return
    file, status = opened
    with file:
        yield file, status
