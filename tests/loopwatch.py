"""What an event loop's own thread does during a test: blocking calls (from Python's audit
events: file-system calls, ``time.sleep``) and the CPU time of each callback it runs. Both
are independent of how loaded the machine is, unlike asyncio's debug-mode "Executing ...
took" warnings (wall time, which a busy 2-core CI machine stretches past any threshold by
preempting the process, or by the interpreter lock held by worker threads).

A blocking call on the loop shows up as one or the other: file work or a sleep as an audit
event on the loop's thread while the loop runs, CPU work (hashing, parsing a big answer)
as a callback's CPU time.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["BLOCKING_EVENTS", "LoopWatch", "watching_loop"]

#: Audit events of blocking calls (https://docs.python.org/3/library/audit_events.html).
#: ``time.sleep`` has none before Python 3.12: it is watched by a wrapper instead.
BLOCKING_EVENTS = frozenset(
    {
        "open",
        "os.listdir",
        "os.scandir",
        "os.mkdir",
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.utime",
        "os.chmod",
        "os.truncate",
        "glob.glob",
        "shutil.copyfile",
    }
)


class LoopWatch:
    """Records, for the loops run on :attr:`thread`, blocking calls and callbacks that used
    more than *cpu_limit* seconds of CPU."""

    def __init__(self, thread: int, cpu_limit: float = 0.1) -> None:
        self.thread = thread
        self.cpu_limit = cpu_limit
        self.file_calls: list[str] = []
        self.slow: list[str] = []

    def take(self) -> list[str]:
        """Everything recorded since the last call (then forgotten), one line each."""
        found = [*self.slow, *(f"a blocking call on the loop: {c}" for c in self.file_calls)]
        self.slow, self.file_calls = [], []
        return found

    def start(self) -> LoopWatch:
        _install()
        with _lock:
            _watches[self.thread] = self
        return self

    def stop(self) -> None:
        with _lock:
            if _watches.get(self.thread) is self:
                del _watches[self.thread]


_lock = threading.Lock()
_watches: dict[int, LoopWatch] = {}
_installed = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event not in BLOCKING_EVENTS or not _watches:
        return
    watch = _watches.get(threading.get_ident())
    if watch is None or asyncio._get_running_loop() is None:
        return
    if event == "open" and str(args[0]).endswith((".py", ".pyc", ".so")):
        # Module loading (the SDK imports some modules at first use) and linecache reading
        # source for a traceback (asyncio's debug mode records one per task): once per
        # process, not the library's file work.
        return
    if _importing():
        return  # the import system looking for a module (os.listdir of a package)
    watch.file_calls.append(f"{event}{args!r}"[:200] + _in_task())


#: CPU seconds each watched thread spent in the garbage collector.
_gc_seconds: dict[int, float] = {}
_gc_started: dict[int, float] = {}


def _on_gc(phase: str, _info: dict[str, int]) -> None:
    ident = threading.get_ident()
    if ident not in _watches:
        return
    if phase == "start":
        _gc_started[ident] = time.thread_time()
    elif ident in _gc_started:
        spent = time.thread_time() - _gc_started.pop(ident)
        _gc_seconds[ident] = _gc_seconds.get(ident, 0.0) + spent


def _importing() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _in_task() -> str:
    task = asyncio.current_task()
    return "" if task is None else f" in {task!r}"[:300]


def _install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    # Neither can be taken back: both do nothing for a thread that no watch names.
    sys.addaudithook(_audit)
    gc.callbacks.append(_on_gc)
    original = asyncio.events.Handle._run

    def timed(handle: asyncio.events.Handle) -> None:
        watch = _watches.get(threading.get_ident())
        if watch is None:
            original(handle)
            return
        # A task's step says which task (and where its coroutine stands), not the wrapper.
        what = getattr(getattr(handle, "_callback", None), "__self__", None) or handle
        collecting = _gc_seconds.get(watch.thread, 0.0)
        started = time.thread_time()
        original(handle)
        # The garbage collector's passes are the process's, whatever code triggers them.
        collected = _gc_seconds.get(watch.thread, 0.0) - collecting
        used = time.thread_time() - started - collected
        if used > watch.cpu_limit:
            watch.slow.append(f"{used:.3f} s of CPU used by {what!r}"[:400])

    asyncio.events.Handle._run = timed  # type: ignore[method-assign,assignment]
    sleep = time.sleep

    def watched_sleep(seconds: float) -> None:
        watch = _watches.get(threading.get_ident())
        if watch is not None and asyncio._get_running_loop() is not None:
            watch.file_calls.append(f"time.sleep({seconds!r})" + _in_task())
        sleep(seconds)

    time.sleep = watched_sleep  # type: ignore[assignment]


@contextmanager
def watching_loop(cpu_limit: float = 0.1) -> Iterator[LoopWatch]:
    """Watch the event loops run on the calling thread while the block runs."""
    watch = LoopWatch(threading.get_ident(), cpu_limit).start()
    try:
        yield watch
    finally:
        watch.stop()
