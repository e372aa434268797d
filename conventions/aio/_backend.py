"""The async face's backend: what the generated sync modules cannot share with it.

The contract is ``conventions._backend``'s (same names, same meaning); here the runner
runs tasks on the event loop, waits are ``asyncio`` waits, the bound on an operation is
a timeout on its task, and blocking file work goes to a thread (``asyncio.to_thread``),
one hop per file-level step, never on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
)
from typing import IO, Any, TypeVar

from azure.core.credentials_async import AsyncTokenCredential as TokenCredential

from .._download_plan import check_count
from .._local_files import Destination, Place, open_source
from ..network import TransferDeadline

if sys.version_info >= (3, 11):
    from asyncio import timeout
else:  # aiohttp depends on async-timeout on Python 3.10
    from async_timeout import timeout  # type: ignore[import-not-found,unused-ignore]

__all__ = [
    "DEFAULT_CONCURRENCY",
    "SMALL_FILE",
    "TokenCredential",
    "bounded",
    "deadline",
    "discard_client",
    "each",
    "iter_parallel",
    "open_destination",
    "open_upload",
    "relay",
    "run_parallel",
    "shielded",
    "single_put_limit",
    "sleep",
    "timeout",
    "to_thread",
    "writing",
]

_T = TypeVar("_T")
_S = TypeVar("_S")

sleep = asyncio.sleep

#: Files saved or downloaded at once, by default: tasks are cheap; see bench/README.md
#: ("aio") for the measurements behind the number.
DEFAULT_CONCURRENCY = 64
to_thread = asyncio.to_thread

#: A saved file up to this size is read whole in one thread hop and sent from memory;
#: a larger one goes in blocks, each read in a thread hop (never on the loop).
SMALL_FILE = 4 * 1024 * 1024


@contextlib.asynccontextmanager
async def deadline(
    container: str | None, blob: str | None, size: int | None, *, operation: str = "download"
) -> AsyncIterator[TransferDeadline]:
    """The bound on one operation (``conventions.network.TransferLimits``), as a timeout
    on the task that runs it: when it passes, the operation's awaits are cancelled and
    the library's ``StorageError`` naming container and blob is raised."""
    bound = TransferDeadline(container, blob, size, operation=operation)
    try:
        async with timeout(bound.seconds):
            yield bound
    except asyncio.TimeoutError:
        raise bound.error() from None


def bounded(
    operation: str, *, container: str | None, blob: str | None = None
) -> contextlib.AbstractAsyncContextManager[TransferDeadline]:
    """The bound on one request-sized *operation*: the transfer limits' grace."""
    return deadline(container, blob, None, operation=operation)


async def shielded(function: Callable[..., _T], /, *args: Any) -> _T:
    """``function(*args)`` in a thread, which a cancel cannot cut short: clean-up (a
    temporary file removed, a directory closed) finishes, then the cancel goes on."""
    work = asyncio.ensure_future(asyncio.to_thread(function, *args))
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(work)
            break
        except asyncio.CancelledError:
            if work.cancelled():
                raise
            cancelled = True  # the work goes on; wait for it, then raise
    if cancelled:
        raise asyncio.CancelledError
    return result


@contextlib.asynccontextmanager
async def open_destination(root: Any) -> AsyncIterator[Destination]:
    """The download directory *root*, made and opened in a thread."""
    destination = await asyncio.to_thread(Destination, root)
    try:
        yield destination
    finally:
        destination.close()  # one close(2): not worth a thread hop


@contextlib.asynccontextmanager
async def writing(root: Destination, parts: tuple[str, ...], *, blob: str) -> AsyncIterator[Place]:
    """``Destination.writing`` with its walk and its end (each a file-level step) in a
    thread; errors of the body pass through its translation to ``LocalPathError``."""
    steps = root.writing(parts, blob=blob)
    try:
        place = await shielded(steps.__enter__)
    except asyncio.CancelledError:
        # The walk finished in its thread (shielded): close what it opened.
        await shielded(steps.__exit__, None, None, None)
        raise
    # Its end closes one directory descriptor (and translates an OSError): not worth a
    # thread hop, and nothing a cancel can cut short.
    try:
        yield place
    except BaseException as error:
        if not steps.__exit__(type(error), error, error.__traceback__):
            raise
    else:
        steps.__exit__(None, None, None)


def open_upload(
    source: str, blob: str
) -> tuple[contextlib.AbstractContextManager[object], bytes | IO[bytes], int]:
    """What closes the file a save uploads (checked: ``open_source``), what it sends and
    its size, in one thread hop: a file up to :data:`SMALL_FILE` is read whole and closed
    here; a larger one is sent in blocks, each read in a thread hop, and closed after."""
    file, size = open_source(source, blob)
    if size > SMALL_FILE:
        return file, file, size
    with file:
        return contextlib.nullcontext(), file.read(), size


def single_put_limit(configured: int) -> int:
    """The largest file sent in one Put Blob: at most :data:`SMALL_FILE`, so that no
    file is streamed by the SDK from the event loop."""
    return min(configured, SMALL_FILE)


async def run_parallel(
    work: Iterable[Callable[[], Awaitable[_T]]] | AsyncIterable[Callable[[], Awaitable[_T]]],
    max_concurrency: int,
    on_done: Callable[[_T], None] | None = None,
    *,
    keep_results: bool = True,
) -> list[_T]:
    """Run the coroutine functions as tasks, *max_concurrency* at once; results in input
    order; the first error is raised once the running ones are cancelled and ended."""
    results: dict[int, _T] = {}
    check_count(max_concurrency, "max_concurrency")
    async for index, result in iter_parallel(work, max_concurrency):
        if keep_results:
            results[index] = result
        if on_done is not None:
            on_done(result)
    return [results[index] for index in range(len(results))]


async def iter_parallel(
    work: Iterable[Callable[[], Awaitable[_T]]] | AsyncIterable[Callable[[], Awaitable[_T]]],
    max_concurrency: int,
) -> AsyncGenerator[tuple[int, _T], None]:
    """Yield ``(input index, result)`` of each coroutine function as its task finishes,
    at most *max_concurrency* running, taking from *work* (an iterable or an async
    iterable, which may be lazy) only as tasks finish. After the first failure, or when
    the generator is closed early or cancelled, nothing new starts and the running tasks
    are cancelled and awaited: none is left behind."""
    items = each(work)
    taken = 0
    finished: asyncio.Queue[asyncio.Task[_T]] = asyncio.Queue()
    running: dict[asyncio.Task[_T], int] = {}

    async def start(count: int) -> None:
        nonlocal taken
        for _ in range(count):
            try:
                job = await items.__anext__()
            except StopAsyncIteration:
                return
            task = asyncio.ensure_future(job())
            running[task] = taken
            taken += 1
            task.add_done_callback(finished.put_nowait)

    try:
        await start(max_concurrency)
        while running:
            task = await finished.get()
            index = running.pop(task)
            result = task.result()  # raises the first error
            await start(1)
            yield index, result
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        await items.aclose()


async def relay(
    source: AsyncGenerator[_S, None], transform: Callable[[_S], _T]
) -> AsyncGenerator[_T, None]:
    """Yield ``transform(item)`` for each item of *source*; closing this closes *source*."""
    try:
        async for item in source:
            yield transform(item)
    finally:
        await source.aclose()


def discard_client(client: Any) -> None:
    """A client refused before its first request: its aiohttp session is made on first
    use, so there is nothing to close (and no loop to await a close on, in a constructor)."""


async def each(items: Iterable[_T] | AsyncIterable[_T]) -> AsyncGenerator[_T, None]:
    """The items of an iterable or an async iterable, as an async iterator."""
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item
