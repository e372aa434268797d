"""The sync face's backend: what the generated modules cannot share with the async face.

The I/O sequencing is written once, in ``conventions.aio`` (``scripts/unasync.py``
generates this package's twins from it); what differs by face lives in a hand-written
``_backend`` module in each package, with one contract (same names, same meaning):

- :func:`run_parallel`, :func:`iter_parallel`: the bounded runner (threads here, tasks
  there), with the same window, order and first-error rules;
- :func:`relay`: pass a runner's results on (here, also a Ctrl-C thrown in at a yield);
- :func:`sleep`, :func:`bounded`: waits and the bound on one request-sized operation;
- :func:`open_destination`, :func:`writing`: a download's directory and its target's
  steps; :func:`to_thread`: blocking file work (a plain call here; a thread hop there,
  which ``unasync`` turns into the plain call);
- :func:`open_upload`, :func:`single_put_limit`: how a saved file is opened and sent.
"""

from __future__ import annotations

import itertools
import queue
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import IO, Any, ParamSpec, TypeVar

from azure.core.credentials import TokenCredential

from ._download_plan import check_count
from ._local_files import Destination, Place, open_source
from .network import bounded

__all__ = [
    "DEFAULT_CONCURRENCY",
    "TokenCredential",
    "bounded",
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
    "to_thread",
    "writing",
]

_T = TypeVar("_T")
_S = TypeVar("_S")
_P = ParamSpec("_P")

sleep = time.sleep

#: Files saved or downloaded at once, by default: threads are dear (memory, the GIL).
DEFAULT_CONCURRENCY = 8


def to_thread(function: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """``function(*args, **kwargs)``: in the sync face blocking work runs where it is."""
    return function(*args, **kwargs)


def shielded(function: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """``function(*args)``: clean-up that a cancel cannot cut short (in the async face)."""
    return function(*args, **kwargs)


def open_destination(root: Any) -> Destination:
    """The download directory *root*, made and opened (a context manager)."""
    return Destination(root)


def writing(
    root: Destination, parts: tuple[str, ...], *, blob: str
) -> AbstractContextManager[Place]:
    """The steps of writing ``root/parts...`` (``Destination.writing``)."""
    return root.writing(parts, blob=blob)


def open_upload(source: str, blob: str) -> tuple[IO[bytes], IO[bytes], int]:
    """The file a save uploads (checked: ``open_source``), what it sends (the file
    itself, streamed by the SDK) and its size."""
    file, size = open_source(source, blob)
    return file, file, size


def single_put_limit(configured: int) -> int:
    """The largest file sent in one Put Blob: the client's setting."""
    return configured


def run_parallel(
    work: Iterable[Callable[[], _T]],
    max_concurrency: int,
    on_done: Callable[[_T], None] | None = None,
    *,
    keep_results: bool = True,
) -> list[_T]:
    """Run the callables on a thread pool; results in input order; first error wins.

    At most ``2 * max_concurrency`` callables are taken from *work* and in flight at once,
    so that memory stays flat however many there are (*work* may be a lazy listing).
    *on_done* is called on the calling thread as each callable finishes, in completion
    order, so that progress moves while the work runs. After the first failure no new
    work starts; the running callables finish, then the failure is raised. Without
    *keep_results* the results are passed to *on_done* only and an empty list is returned.
    """
    results: dict[int, _T] = {}
    check_count(max_concurrency, "max_concurrency")
    for index, result in iter_parallel(work, max_concurrency):
        if keep_results:
            results[index] = result
        if on_done is not None:
            on_done(result)
    return [results[index] for index in range(len(results))]


def iter_parallel(
    work: Iterable[Callable[[], _T]], max_concurrency: int
) -> Generator[tuple[int, _T], None, None]:
    """Yield ``(input index, result)`` of each callable as it finishes, on the calling
    thread, with the bounded window and first-error rule of :func:`run_parallel`. Closing
    the generator early (or Ctrl-C) starts nothing new and waits for the running ones."""
    window = 2 * max_concurrency
    items = iter(enumerate(work))
    # Each future puts itself on this queue when done: one wake-up of the calling thread
    # per finished item, not a waiter installed on every running future per item
    # (concurrent.futures.wait), which cost ~10 % of a 4 KiB download at c = 8.
    finished: queue.SimpleQueue[Future[_T]] = queue.SimpleQueue()
    with ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="conventions") as pool:
        running: dict[Future[_T], int] = {}

        def start(count: int) -> None:
            for index, job in itertools.islice(items, count):
                future = pool.submit(job)
                running[future] = index
                future.add_done_callback(finished.put)

        try:
            start(window)
            while running:
                future = finished.get()
                index = running.pop(future)
                yield index, future.result()  # raises the first error
                start(1)
        except KeyboardInterrupt:
            # Ctrl-C (raised here, or thrown in at a yield): start nothing new, let the
            # running ones end, and still report those that succeeded, so that what the
            # caller counts is what is on disk.
            for future in running:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            for future, index in sorted(running.items(), key=lambda item: item[1]):
                if not future.cancelled() and future.exception() is None:
                    yield index, future.result()
            raise
        except BaseException:
            # The first failure or an early close: start nothing new, let the running
            # ones end.
            for future in running:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def relay(
    source: Generator[_S, None, None], transform: Callable[[_S], _T]
) -> Generator[_T, None, None]:
    """Yield ``transform(item)`` for each item of *source*; a ``KeyboardInterrupt`` thrown
    in at a yield is thrown into *source* (as ``yield from`` would), so that it can still
    yield the work that finished before the interrupt goes on."""
    try:
        item = next(source)
        while True:
            try:
                yield transform(item)
            except KeyboardInterrupt as interrupt:
                item = source.throw(interrupt)
            else:
                item = next(source)
    except StopIteration:
        return
    finally:
        source.close()


def discard_client(client: Any) -> None:
    """Close a client refused before its first request (in the async face there is
    nothing to close yet: its transport opens on first use)."""
    client.close()


def each(items: Iterable[_T]) -> Iterator[_T]:
    """The items of *items* (in the async face, of an iterable or an async iterable)."""
    return iter(items)
