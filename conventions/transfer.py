# Generated from conventions/aio/transfer.py by scripts/unasync.py: do not edit.
# ruff: noqa
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
import logging
import math
import os
import threading
import time
from collections.abc import Generator, Iterable, Callable
from typing import IO, TypeVar

import attrs

from ._download_plan import (
    check_count,
    chunk_threads,
    chunks_per_file,
    first_verdict,
    verdict_after_hash,
)
from ._local_files import Destination, Place
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
from .watching import WatchLedger
from ._backend import (
    DEFAULT_CONCURRENCY,
    each,
    iter_parallel,
    open_destination,
    relay,
    run_parallel,
    shielded,
    sleep,
    to_thread,
    writing,
)
from ._download import again_if_changed
from ._fetch import copy_to
from .references import OutputFileReference

__all__ = [
    "DEFAULT_CONCURRENCY",
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

_T = TypeVar("_T")

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


def collect_references(
    outputs: Iterable[object] | Iterable[object],
) -> list[OutputFileReference]:
    """*outputs* as a list, if every item is an ``OutputFileReference``."""
    return check_references([item for item in each(outputs)])


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
    outputs: Iterable[OutputFileReference] | Iterable[OutputFileReference],
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
    references = collect_references(outputs)
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
    outputs: Iterable[OutputFileReference] | Iterable[OutputFileReference],
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
    references = collect_references(outputs)  # all targets decided together (LP-3)
    with open_destination(dest_dir) as root:
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
    return relay(iter_parallel(jobs, max_concurrency), lambda item: item[1])


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
        listing = [reference for reference in list_outputs()]
        with open_destination(dest_dir) as root:
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
            sleep(pause)


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
    with writing(root, target.parts, blob=reference.blob_name) as place:
        verdict, file = _open_unless_identical(remote, place, options.overwrite)
        if file is None:
            _log.debug("skipped %s: %s", reference.blob_name, verdict.reason)
            return DownloadedOutput(reference, target.path, reference.size or 0, skipped=True)
        _log.debug("downloading %s: %s", reference.blob_name, verdict.reason)
        on_bytes = options.on_bytes
        hook = None if on_bytes is None else functools.partial(on_bytes, reference)
        commit = functools.partial(_stamp_and_commit, place, file, reference)
        try:
            written = copy_to(reference, file, hook, max_concurrency=threads, then=commit)
        except BaseException:
            place.discard(file)
            raise
    return DownloadedOutput(reference, target.path, written, skipped=False)


def _stamp_and_commit(place: Place, file: IO[bytes], reference: OutputFileReference) -> None:
    if reference.last_modified is not None:  # the stamp of rule IN-4
        file.flush()
        stamp = stamp_ns(reference.last_modified)
        os.utime(file.fileno(), ns=(stamp, stamp))
    place.commit(file)


def _open_unless_identical(
    remote: RemoteFile, place: Place, overwrite: bool
) -> tuple[Verdict, IO[bytes] | None]:
    """The verdict on the file at the target and, unless it is to be kept, the temporary
    file opened: one step (one thread hop in the async face)."""
    verdict = _verdict(remote, place, overwrite)
    return verdict, None if verdict.action is Action.SKIP else place.open()


def _verdict(remote: RemoteFile, place: Place, overwrite: bool) -> Verdict:
    """Rules IN-1 to IN-4 for *remote* against the file already at its target: the pure
    steps of ``conventions._download_plan``, with the local file's ``lstat`` and (only
    when they ask) its MD5 between them."""
    existing = place.existing()
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
