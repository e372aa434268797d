"""The transfer engine: a bounded parallel runner, and downloading many outputs into a
local destination (skipping identical copies, collecting per-output failures).

``conventions.storage`` builds on it (``JobOutputStorage.download``, ``download_outputs``,
``iter_download``, ``watch``; ``save_many`` uses :func:`run_parallel`). What to fetch and
where it goes are pure decisions made elsewhere (``conventions.incremental``,
``conventions.local_paths``), and so are how each file is fetched and whether a local copy
is kept (``conventions._download_plan``), so that the async twin can reuse them; this
module is the threaded I/O around them, and ``conventions._download`` reads each file.

Imports azure-storage-blob (through ``conventions.references``); ``import conventions`` does
not load it.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import attrs

from ._download import again_if_changed, copy_to
from ._download_plan import (
    check_count,
    chunk_threads,
    chunks_per_file,
    first_verdict,
    verdict_after_hash,
)
from ._local_files import Destination, ExistingFile
from .errors import (
    ContainerNotFoundError,
    ConventionsError,
    DownloadError,
    InvalidArgumentError,
    InvalidSettingError,
    LocalPathError,
)
from .incremental import Action, LocalFile, RemoteFile, Verdict, stamp_ns
from .local_paths import LocalTarget, local_targets
from .references import OutputFileReference
from .watching import WatchLedger

__all__ = [
    "BytesCallback",
    "DownloadFailure",
    "DownloadSummary",
    "DownloadedOutput",
    "ProgressCallback",
    "check_concurrency",
    "check_seconds",
    "download_outputs",
    "iter_download",
    "iter_parallel",
    "run_parallel",
    "watch",
]

_log = logging.getLogger("conventions")

#: Files downloaded (or saved) at once, by default.
DEFAULT_CONCURRENCY = 8

_T = TypeVar("_T")
_S = TypeVar("_S")

#: ``progress(files_done, bytes_done)``, called from the calling thread after each file.
ProgressCallback = Callable[[int, int], None]
#: ``on_bytes(output, nbytes)``, called from a download thread as each chunk is written.
BytesCallback = Callable[[OutputFileReference, int], None]


@attrs.frozen
class DownloadSummary:
    """What a download did: files and bytes transferred, how long it took, and the files
    (and their bytes) skipped because the local copy was already identical.

    >>> DownloadSummary(files=2, bytes=7, seconds=0.25, skipped=1, skipped_bytes=3)
    DownloadSummary(files=2, bytes=7, seconds=0.25, skipped=1, skipped_bytes=3)
    """

    #: Files downloaded.
    files: int
    #: Bytes downloaded.
    bytes: int
    seconds: float
    #: Files skipped: the local copy was already identical (rules IN-1 to IN-4).
    skipped: int = 0
    #: Their bytes, not transferred.
    skipped_bytes: int = 0


@attrs.frozen
class DownloadedOutput:
    """One output a download handled: fetched into ``local_path``, or ``skipped`` because
    the local copy was already identical. ``size`` is the file's size in bytes (the bytes
    transferred unless skipped)."""

    output: OutputFileReference
    local_path: str
    size: int
    skipped: bool = False

    def __str__(self) -> str:
        verb = "skipped (identical)" if self.skipped else "downloaded"
        return f"{verb} blob {self.output.blob_name!r} -> {self.local_path!r} ({self.size} bytes)"


@attrs.frozen
class DownloadFailure:
    """One output that a whole-job download did not write, and why.

    ``error`` is the library's error: ``LocalPathError`` (the local path cannot be
    written), ``OutputNotFoundError`` (deleted meanwhile), ``AccessDeniedError``,
    ``BlobChangedError`` (it changed during each of its reads, rule IG-4),
    ``StorageError``.
    """

    #: The output that was not downloaded.
    output: OutputFileReference
    #: Where it would have gone.
    local_path: str
    #: Why not.
    error: ConventionsError

    def __str__(self) -> str:
        return f"blob {self.output.blob_name!r} -> {self.local_path!r}: {self.error}"


@attrs.frozen
class _FileOptions:
    """What each file of one download is given: one value, passed down as it is."""

    overwrite: bool
    on_bytes: BytesCallback | None
    #: Chunk threads for a file larger than the first request.
    chunks: int


def _cause(error: ConventionsError) -> tuple[str, object]:
    return (
        type(error).__name__,
        getattr(error, "permission", None) or getattr(error, "errno", None),
    )


def download_error(
    root: str, total: int, failures: list[DownloadFailure], summary: DownloadSummary
) -> DownloadError:
    """One readable message for any number of failures: counted, grouped by cause."""
    groups: dict[tuple[str, object], list[DownloadFailure]] = {}
    for failure in failures:
        groups.setdefault(_cause(failure.error), []).append(failure)
    ranked = sorted(groups.values(), key=len, reverse=True)
    shown = "; ".join(
        f"{len(group)} x {type(group[0].error).__name__}, e.g. {group[0].error}"
        for group in ranked[:3]
    )
    if len(ranked) > 3:
        shown += f"; and {len(ranked) - 3} other causes (see .failures)"
    return DownloadError(
        f"{len(failures)} of {total} outputs were not downloaded into {root!r} "
        f"({summary.files} were): {shown}",
        failures=failures,
        summary=summary,
    )


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
    check_concurrency(max_concurrency)
    for index, result in iter_parallel(work, max_concurrency):
        if keep_results:
            results[index] = result
        if on_done is not None:
            on_done(result)
    return [results[index] for index in range(len(results))]


def check_concurrency(max_concurrency: int) -> int:
    """*max_concurrency*, if it is a whole number of at least 1."""
    return check_count(max_concurrency, "max_concurrency")


#: The longest ``watch`` interval: what ``time.sleep`` and thread waits accept.
MAX_INTERVAL = float(threading.TIMEOUT_MAX)


def check_seconds(
    value: float | None,
    subject: str,
    *,
    low: float = 0.0,
    high: float = math.inf,
    low_allowed: bool = True,
) -> float:
    """*value* (seconds), if it is a finite real number in range; a usage error otherwise.

    >>> check_seconds(float("nan"), "idle_exit")
    Traceback (most recent call last):
    ...
    conventions.errors.InvalidSettingError: idle_exit nan must be a finite number of seconds...
    """
    bound = f"more than {low:g}" if not low_allowed else f"at least {low:g}"
    if high < math.inf:
        bound += f" and at most {high:g}"
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not (value > low if not low_allowed else value >= low)
        or value > high
    ):
        raise InvalidSettingError(
            value, f"must be a finite number of seconds, {bound}", subject=subject
        )
    return float(value)


def check_references(outputs: Iterable[object]) -> list[OutputFileReference]:
    """*outputs* as a list, if every item is an ``OutputFileReference``."""
    references = list(outputs)
    for item in references:
        check_reference(item)
    return references  # type: ignore[return-value]


def check_reference(item: object) -> OutputFileReference:
    if not isinstance(item, OutputFileReference):
        raise InvalidArgumentError(
            item,
            "is not an OutputFileReference (from list_outputs, find_outputs, get_output or "
            "reference)",
            subject="output",
        )
    return item


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


class Tally:
    """Counts for a ``DownloadSummary``, updated on the calling thread only."""

    def __init__(self) -> None:
        self.files = self.bytes = self.skipped = self.skipped_bytes = 0

    def add(self, result: DownloadedOutput) -> None:
        if result.skipped:
            self.skipped += 1
            self.skipped_bytes += result.size
        else:
            self.files += 1
            self.bytes += result.size

    def summary(self, seconds: float) -> DownloadSummary:
        return DownloadSummary(
            files=self.files,
            bytes=self.bytes,
            seconds=seconds,
            skipped=self.skipped,
            skipped_bytes=self.skipped_bytes,
        )


def download_outputs(
    outputs: Iterable[OutputFileReference],
    dest_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    max_concurrency: int = DEFAULT_CONCURRENCY,
    chunk_concurrency: int | None = None,
    progress: ProgressCallback | None = None,
    on_bytes: BytesCallback | None = None,
) -> DownloadSummary:
    """Download *outputs* into *dest_dir*; raise ``DownloadError`` at the end for the
    outputs that failed (see ``JobOutputStorage.download_outputs``)."""
    chunks_per_file(check_concurrency(max_concurrency), chunk_concurrency)
    started = time.monotonic()
    references = check_references(outputs)
    failures: list[DownloadFailure] = []
    tally = Tally()
    for result in iter_download(
        references,
        dest_dir,
        overwrite=overwrite,
        max_concurrency=max_concurrency,
        chunk_concurrency=chunk_concurrency,
        on_bytes=on_bytes,
    ):
        if isinstance(result, DownloadFailure):
            failures.append(result)
            continue
        tally.add(result)
        if progress is not None:
            progress(tally.files + tally.skipped, tally.bytes + tally.skipped_bytes)
    summary = tally.summary(time.monotonic() - started)
    if failures:
        order = {id(reference): index for index, reference in enumerate(references)}
        failures.sort(key=lambda failure: order[id(failure.output)])
        raise download_error(os.fspath(dest_dir), len(references), failures, summary)
    return summary


def iter_download(
    outputs: Iterable[OutputFileReference],
    dest_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    max_concurrency: int = DEFAULT_CONCURRENCY,
    chunk_concurrency: int | None = None,
    on_bytes: BytesCallback | None = None,
) -> Generator[DownloadedOutput | DownloadFailure, None, None]:
    """Download *outputs*, yielding each one's result as it finishes (see
    ``JobOutputStorage.iter_download``)."""
    chunks = chunks_per_file(check_concurrency(max_concurrency), chunk_concurrency)
    references = check_references(outputs)  # all targets are decided together (rule LP-3)
    with Destination(dest_dir) as root:
        work: list[tuple[OutputFileReference, LocalTarget]] = []
        for reference, target in zip(references, local_targets(root.path, references), strict=True):
            if isinstance(target, LocalPathError):
                yield DownloadFailure(reference, target.path, target)
            else:
                work.append((reference, target))
        options = _FileOptions(overwrite, on_bytes, chunks)
        yield from _download_all(root, work, options, max_concurrency)


def _download_all(
    root: Destination,
    work: Iterable[tuple[OutputFileReference, LocalTarget]],
    options: _FileOptions,
    max_concurrency: int,
) -> Generator[DownloadedOutput | DownloadFailure, None, None]:
    jobs = [
        functools.partial(_download_one, root, reference, target, options)
        for reference, target in work
    ]
    yield from relay(iter_parallel(jobs, max_concurrency), lambda item: item[1])


def watch(
    list_outputs: Callable[[], Iterable[OutputFileReference]],
    dest_dir: str | os.PathLike[str],
    *,
    interval: float = 10.0,
    idle_exit: float | None = None,
    overwrite: bool = False,
    max_concurrency: int = DEFAULT_CONCURRENCY,
    on_bytes: BytesCallback | None = None,
) -> Generator[DownloadedOutput | DownloadFailure, None, None]:
    """Call *list_outputs* every *interval* seconds and download what is new or changed,
    yielding each result (see ``JobOutputStorage.watch``). What each round downloads, and
    where, is :class:`conventions.watching.WatchLedger`'s decision."""
    check_watch(interval, idle_exit, max_concurrency)
    options = _FileOptions(overwrite, on_bytes, chunks_per_file(max_concurrency, None))
    ledger: WatchLedger[OutputFileReference] = WatchLedger()
    last_news = time.monotonic()
    while True:
        round_started = time.monotonic()
        listing = list(list_outputs())
        with Destination(dest_dir) as root:
            plan = ledger.plan(root.path, listing)
            if plan.news:  # a failure retried is not news
                last_news = time.monotonic()
            for reference, refusal in plan.refused:
                yield DownloadFailure(reference, refusal.path, refusal)
            downloads = _download_all(root, plan.downloads, options, max_concurrency)
            yield from relay(downloads, functools.partial(_note, ledger))
        now = time.monotonic()
        if idle_exit is not None and now - last_news >= idle_exit:
            return
        pause = interval - (now - round_started)
        if idle_exit is not None:
            pause = min(pause, last_news + idle_exit - now)
        if pause > 0:
            time.sleep(pause)


def check_watch(interval: float, idle_exit: float | None, max_concurrency: int) -> None:
    """``watch``'s settings, checked before its first listing."""
    check_seconds(interval, "interval", high=MAX_INTERVAL, low_allowed=False)
    if idle_exit is not None:
        check_seconds(idle_exit, "idle_exit")
    check_concurrency(max_concurrency)


def _note(
    ledger: WatchLedger[OutputFileReference], result: DownloadedOutput | DownloadFailure
) -> DownloadedOutput | DownloadFailure:
    if isinstance(result, DownloadedOutput):
        ledger.done(result.output)
    return result


def _download_one(
    root: Destination,
    reference: OutputFileReference,
    target: LocalTarget,
    options: _FileOptions,
) -> DownloadedOutput | DownloadFailure:
    """Download one output unless its local copy is identical (rules IN-1 to IN-4); its
    own failure becomes a result, the whole job's is raised."""
    threads = chunk_threads(reference.size, options.chunks)
    remote = RemoteFile(reference.size, reference.content_md5, reference.last_modified)
    try:
        # Rule IG-4: each attempt walks to the target again and reads one whole version.
        return again_if_changed(
            lambda: _fetch(root, reference, target, options, remote, threads)
        )
    except ContainerNotFoundError:
        raise  # the whole job's container is gone: nothing else can succeed
    except ConventionsError as error:
        return DownloadFailure(reference, target.path, error)


def _fetch(
    root: Destination,
    reference: OutputFileReference,
    target: LocalTarget,
    options: _FileOptions,
    remote: RemoteFile,
    threads: int,
) -> DownloadedOutput:
    """One attempt, in steps: walk to the target's directory (one walk for the verdict
    and the write), decide, then open a temporary file, fill it, stamp it (rule IN-4), and
    commit it, or discard it on any failure."""
    with root.writing(target.parts, blob=reference.blob_name) as place:
        verdict = _verdict(remote, place.existing(), options.overwrite)
        if verdict.action is Action.SKIP:
            _log.debug("skipped %s: %s", reference.blob_name, verdict.reason)
            return DownloadedOutput(reference, target.path, reference.size or 0, skipped=True)
        _log.debug("downloading %s: %s", reference.blob_name, verdict.reason)
        on_bytes = options.on_bytes
        hook = None if on_bytes is None else functools.partial(on_bytes, reference)
        file = place.open()
        try:
            written = copy_to(reference, file, hook, max_concurrency=threads)
            if reference.last_modified is not None:  # the stamp of rule IN-4
                file.flush()
                stamp = stamp_ns(reference.last_modified)
                os.utime(file.fileno(), ns=(stamp, stamp))
            place.commit(file)
        except BaseException:
            place.discard(file)
            raise
    return DownloadedOutput(reference, target.path, written, skipped=False)


def _verdict(remote: RemoteFile, existing: ExistingFile | None, overwrite: bool) -> Verdict:
    """Rules IN-1 to IN-4 for *remote* against the file already at its target: the pure
    steps of ``conventions._download_plan``, with the local file's ``lstat`` and (only
    when they ask) its MD5 between them."""
    local = (
        None
        if existing is None
        else LocalFile(size=existing.info.st_size, mtime_ns=existing.info.st_mtime_ns)
    )
    verdict = first_verdict(remote, local, overwrite=overwrite)
    if verdict.action is Action.HASH_LOCAL:
        assert existing is not None
        assert local is not None
        verdict = verdict_after_hash(remote, local, existing.md5())
    return verdict
