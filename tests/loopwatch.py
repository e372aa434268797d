"""What the event loop's own thread does during a test: file-system calls (from Python's
audit events) and the CPU time of each callback it runs. Both are independent of how
loaded the machine is, unlike asyncio's debug-mode "Executing ... took" (wall time, which
a busy 2-core CI machine stretches past any threshold by preempting the process).

A blocking call on the loop shows up as one or the other: file work as an audit event
(``open``, ``os.listdir``, ``os.rename``... on the loop's thread), CPU work (hashing,
parsing a big answer) as a callback's CPU time.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Audit events of blocking file-system calls (https://docs.python.org/3/library/audit_events.html).
FILE_EVENTS = frozenset(
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

_watching: list[LoopWatch] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and str(args[0]).endswith((".py", ".pyc", ".so")):
        # Module loading (the SDK imports some modules at first use) and linecache reading
        # source for a traceback (asyncio's debug mode records one per task): once per
        # process, not the library's file work.
        return
    if event in FILE_EVENTS and _watching and asyncio._get_running_loop() is not None:
        ident = threading.get_ident()
        for watch in _watching:
            if watch.thread == ident:
                watch.file_calls.append(f"{event}{args!r}"[:200])


_installed = False


class LoopWatch:
    """Records, for the loop running on :attr:`thread`, file-system calls and callbacks
    that used more than *cpu_limit* seconds of CPU."""

    def __init__(self, cpu_limit: float = 0.1) -> None:
        self.cpu_limit = cpu_limit
        self.thread: int | None = None
        self.file_calls: list[str] = []
        self.slow: list[str] = []


@contextmanager
def watching_loop(cpu_limit: float = 0.1) -> Iterator[LoopWatch]:
    """Watch the event loops run on the calling thread while the block runs (file calls
    count only while a loop runs there)."""
    global _installed
    if not _installed:
        sys.addaudithook(_audit)  # cannot be removed: inert when nothing is watched
        _installed = True
    watch = LoopWatch(cpu_limit)
    watch.thread = threading.get_ident()
    original = asyncio.events.Handle._run

    def timed(handle: asyncio.events.Handle) -> None:
        if threading.get_ident() != watch.thread:
            original(handle)
            return
        started = time.thread_time()
        original(handle)
        used = time.thread_time() - started
        if used > watch.cpu_limit:
            watch.slow.append(f"{handle!r} used {used:.3f} s of CPU"[:300])

    asyncio.events.Handle._run = timed  # type: ignore[method-assign,assignment]
    _watching.append(watch)
    try:
        yield watch
    finally:
        _watching.remove(watch)
        asyncio.events.Handle._run = original  # type: ignore[method-assign]
