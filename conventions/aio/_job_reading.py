"""The whole-job reader that :class:`~conventions.storage.JobOutputStorage` builds on:
listing task outputs across tasks, selections (``find_outputs``), and downloading them
(``download``, ``download_outputs``, ``iter_download``, ``watch``), which delegate to
``conventions.transfer``. What each selection lists is the pure ``conventions.listing``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable

import attrs

from .._transport import chunks_per_file
from ..kinds import JobOutputKind, TaskOutputKind
from ..listing import ListingPlan, plan_selection, plan_task_outputs
from . import transfer
from ._storage_base import DEFAULT_CONCURRENCY as _DEFAULT_CONCURRENCY
from ._storage_base import _Storage
from .references import OutputFileReference
from .transfer import (
    BytesCallback,
    DownloadedOutput,
    DownloadFailure,
    DownloadSummary,
    ProgressCallback,
)

__all__: list[str] = []


@attrs.define(eq=False, repr=False)
class _JobReader(_Storage[JobOutputKind]):
    """Reading a whole job's container: every task's outputs, selected by kind and task
    IDs, listed and downloaded. :class:`~conventions.storage.JobOutputStorage` adds the
    constructors, the job kinds' names, the task list and deletion."""

    def list_all(self) -> AsyncIterator[OutputFileReference]:
        """Iterate lazily over every output in the container: job outputs and every
        task's, of every kind, in blob-name order (one listing of the container).

        Blobs whose names the conventions never produce are skipped with a warning.
        """
        return self._list_plan(ListingPlan((None,)))

    def list_task_outputs(
        self, kind: TaskOutputKind, task_ids: Iterable[str] | None = None
    ) -> AsyncIterator[OutputFileReference]:
        """Iterate lazily over the outputs of *kind* of every task (or of *task_ids*).

        Without *task_ids*, one listing of the whole container, filtered by kind;
        with them, one listing per task under ``<task id>/$<kind>/``.
        """
        return self._list_plan(plan_task_outputs(kind, task_ids))

    async def download(
        self,
        kind: JobOutputKind | TaskOutputKind,
        dest_dir: str | os.PathLike[str],
        *,
        task_ids: Iterable[str] | None = None,
        overwrite: bool = False,
        max_concurrency: int = _DEFAULT_CONCURRENCY,
        chunk_concurrency: int | None = None,
        progress: ProgressCallback | None = None,
        on_bytes: BytesCallback | None = None,
    ) -> DownloadSummary:
        """Download every output of *kind* into *dest_dir*, in parallel; skip the ones
        whose local copy is already identical.

        Task kinds go to ``<dest_dir>/<task id>/<path>`` (all tasks, or *task_ids*); job
        kinds to ``<dest_dir>/<path>``. Each file is streamed and written atomically.
        Local paths are built from the parsed blob name, so no blob name can write
        outside *dest_dir*: names the conventions never produce (such as
        ``t/$TaskOutput/../../x``) are skipped with a warning. Below *dest_dir*, every
        directory is opened relative to its parent without following symbolic links, so
        a symlink inside *dest_dir* is never followed, even one another process swaps in
        while the download runs (rules LP-1 to LP-3).

        Incremental (rules IN-1 to IN-4): an output whose local file has the blob's size
        and MD5 (or, for a blob without an MD5, the blob's last-modified time as its
        mtime, stamped at download) is skipped, so running the same download again
        transfers only what is new, changed, missing or edited locally; *overwrite*
        downloads everything. Every download is checked against the blob's stored
        Content-MD5 (``IntegrityError``, rule IG-2).

        *progress*, if given, is called as ``progress(files_done, bytes_done)`` from the
        calling thread after each file (skipped files count, with their size). *on_bytes*,
        if given, is called as ``on_bytes(output, nbytes)`` from the download threads as
        each chunk is written (4 MiB after the first 32 MiB with azure's defaults): it
        must be thread-safe.

        *max_concurrency* files download at once; a file larger than 32 MiB comes in
        chunks, *chunk_concurrency* at once (default ``max(1, 32 // max_concurrency)``:
        files x chunks in flight stay within 32; see ``conventions._transport``).

        One output's failure does not stop the others: everything that can be downloaded
        is, then ``DownloadError`` reports the rest::

            try:
                job.download(TaskOutputKind.TASK_OUTPUT, "out/")
            except DownloadError as error:
                for failure in error.failures:      # output, local_path, error
                    print(failure)

        Raises:
            InvalidKindError: *task_ids* given with a job kind.
            ContainerNotFoundError, AccessDeniedError (``l`` to list), StorageError: the
                listing failed, or the container vanished: at once.
            DownloadError: some outputs were not downloaded (``LocalPathError``,
                ``OutputNotFoundError`` when deleted meanwhile, ``AccessDeniedError`` without
                ``r``, ``IntegrityError``, ``StorageError``); its ``failures`` name each
                blob, local path and error, its ``summary`` what was written.
            LocalPathError: *dest_dir* cannot be made or opened.
        """
        # Both settings are checked before the listing's first request.
        chunks_per_file(transfer.check_concurrency(max_concurrency), chunk_concurrency)
        return await self.download_outputs(
            self.find_outputs(kind, task_ids),
            dest_dir,
            overwrite=overwrite,
            max_concurrency=max_concurrency,
            chunk_concurrency=chunk_concurrency,
            progress=progress,
            on_bytes=on_bytes,
        )

    async def download_outputs(
        self,
        outputs: Iterable[OutputFileReference] | AsyncIterable[OutputFileReference],
        dest_dir: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        max_concurrency: int = _DEFAULT_CONCURRENCY,
        chunk_concurrency: int | None = None,
        progress: ProgressCallback | None = None,
        on_bytes: BytesCallback | None = None,
    ) -> DownloadSummary:
        """Download the given *outputs* (e.g. from a listing you already made) into *dest_dir*.

        The same layout, atomicity, containment, skipping, *progress* and *on_bytes* as
        :meth:`download`, which lists a kind and calls this; use it to avoid listing
        twice, or to download a filtered selection.
        """
        return await transfer.download_outputs(
            outputs,
            dest_dir,
            overwrite=overwrite,
            max_concurrency=max_concurrency,
            chunk_concurrency=chunk_concurrency,
            progress=progress,
            on_bytes=on_bytes,
        )

    def iter_download(
        self,
        outputs: Iterable[OutputFileReference] | AsyncIterable[OutputFileReference],
        dest_dir: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        max_concurrency: int = _DEFAULT_CONCURRENCY,
        chunk_concurrency: int | None = None,
        on_bytes: BytesCallback | None = None,
    ) -> AsyncGenerator[DownloadedOutput | DownloadFailure, None]:
        """Download *outputs* like :meth:`download_outputs`, yielding each one's
        :class:`DownloadedOutput` (fetched or skipped) or :class:`DownloadFailure` as it
        finishes, on the calling thread, in completion order. Closing the generator early
        starts nothing new and lets the running downloads end.

        Raises (while iterating): ``ContainerNotFoundError`` at once; ``LocalPathError``
        when *dest_dir* cannot be made or opened. Bad settings, and an item of *outputs*
        that is not an ``OutputFileReference``, raise here, before any request.
        """
        chunks_per_file(transfer.check_concurrency(max_concurrency), chunk_concurrency)
        if isinstance(outputs, (list, tuple)):
            transfer.check_references(outputs)
        return transfer.iter_download(
            outputs,
            dest_dir,
            overwrite=overwrite,
            max_concurrency=max_concurrency,
            chunk_concurrency=chunk_concurrency,
            on_bytes=on_bytes,
        )

    def watch(
        self,
        kind: JobOutputKind | TaskOutputKind,
        dest_dir: str | os.PathLike[str],
        *,
        task_ids: Iterable[str] | None = None,
        interval: float = 10.0,
        idle_exit: float | None = None,
        overwrite: bool = False,
        max_concurrency: int = _DEFAULT_CONCURRENCY,
        on_bytes: BytesCallback | None = None,
    ) -> AsyncGenerator[DownloadedOutput | DownloadFailure, None]:
        """Download the outputs of *kind* as they appear: list every *interval* seconds
        and yield each new or changed output as it is fetched (results as tasks finish).

        The first round is a normal incremental download (identical local copies are
        yielded as skipped). Later rounds consider only blobs that are new or whose ETag
        changed since they were last handled, so an unchanged output is not hashed again;
        a failed output is retried next round. Runs until *idle_exit* seconds pass with
        nothing new or changed (``None``: forever; stop it with Ctrl-C or by closing the
        generator)::

            for result in job.watch(TaskOutputKind.TASK_OUTPUT, "out/", idle_exit=600):
                print(result)

        Raises (while iterating): as :meth:`download`'s listing (``ContainerNotFoundError``,
        ``AccessDeniedError``...); per-output failures are yielded, not raised. Raises
        ``InvalidSettingError`` here, before any request, for an *interval* that is not a
        finite number of seconds in ``(0, threading.TIMEOUT_MAX]``, an *idle_exit* that
        is not ``None`` or finite and at least 0, or a *max_concurrency* that is not a
        whole number of at least 1.
        """
        transfer.check_watch(interval, idle_exit, max_concurrency)
        chosen = None if task_ids is None else list(task_ids)
        return transfer.watch(
            lambda: self.find_outputs(kind, chosen),
            dest_dir,
            interval=interval,
            idle_exit=idle_exit,
            overwrite=overwrite,
            max_concurrency=max_concurrency,
            on_bytes=on_bytes,
        )

    # -- selections ---------------------------------------------------------------------------

    def find_outputs(
        self,
        kind: JobOutputKind | TaskOutputKind | None = None,
        task_ids: Iterable[str] | None = None,
    ) -> AsyncIterator[OutputFileReference]:
        """Iterate over the outputs of *kind* (every kind if ``None``), of every task or of
        *task_ids*: what :meth:`download` downloads and :meth:`delete` deletes. A job kind
        with *task_ids* raises ``InvalidKindError``; with no kind and no *task_ids*, every
        output of the job."""
        return self._list_plan(plan_selection(kind, task_ids))
