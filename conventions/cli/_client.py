"""Client-side commands: prepare, sas, list, download."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Generator, Iterator
from datetime import timedelta
from pathlib import Path

import click
from rich import filesize
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from conventions.containers import container_name
from conventions.kinds import JobOutputKind, TaskOutputKind
from conventions.references import OutputFileReference
from conventions.sas import output_container_url, prepare_output_storage
from conventions.storage import DownloadedOutput, DownloadFailure, JobOutputStorage
from conventions.transfer import MAX_INTERVAL, Tally

from ._app import counted, emit, job_id_argument, json_option, main, stderr, task_ids_option
from ._connect import KIND_HELP, Connection, connection_options, parse_duration, parse_kind
from ._empty_dirs import folders_under, remove_new_empty_folders
from ._errors import INTERRUPTED
from ._network import FiniteFloatRange, network_options

# The commands register themselves on the `main` group; nothing here is imported by name.
__all__: list[str] = []


@main.command("prepare")
@job_id_argument
@connection_options
@network_options
@json_option
def prepare_command(job_id: str, connection: Connection, as_json: bool) -> None:
    """Create the output container of JOB_ID if it is missing (idempotent)."""
    with connection.service_client() as service:
        name = prepare_output_storage(service, job_id)
    if as_json:
        emit(True, [], columns=[], data={"job_id": job_id, "container": name})
    else:
        click.echo(name)


@main.command("sas")
@job_id_argument
@click.option(
    "--expiry",
    default="7d",
    show_default=True,
    callback=lambda _ctx, _param, value: parse_duration(value),
    help="How long it stays valid: 7d, 12h, 30m or 90s.",
)
@click.option(
    "--permissions",
    default="racwl",
    show_default=True,
    help="SAS permission letters; tasks need acw, and r too for `run` to stream logs.",
)
@connection_options
@network_options
@json_option
def sas_command(
    job_id: str, expiry: timedelta, permissions: str, connection: Connection, as_json: bool
) -> None:
    """Print the URL of JOB_ID's container with a SAS, for its tasks (or readers)."""
    lifetime = expiry
    with connection.service_client() as service:
        url = output_container_url(service, job_id, expiry=lifetime, permissions=permissions)
    if as_json:
        emit(True, [], columns=[], data={"job_id": job_id, "container_url": url})
    else:
        click.echo(url)


def _row(reference: OutputFileReference) -> dict[str, object]:
    modified = reference.last_modified
    return {
        "task": reference.task_id,
        "kind": reference.kind.text,
        "path": reference.path,
        "size": reference.size,
        "modified": modified.isoformat() if modified is not None else None,
        "blob_name": reference.blob_name,
    }


@main.command("list")
@job_id_argument
@task_ids_option
@click.option("--kind", "kind_text", help=f"Only this kind. {KIND_HELP}")
@connection_options
@network_options
@json_option
def list_command(
    job_id: str,
    task_ids: tuple[str, ...],
    kind_text: str | None,
    connection: Connection,
    as_json: bool,
) -> None:
    """List the outputs of JOB_ID: task, kind, path, size, modified."""
    kind = parse_kind(kind_text) if kind_text is not None else None
    if task_ids and isinstance(kind, JobOutputKind):
        raise click.UsageError(f"--task applies to task kinds, not {kind.text}")
    with connection.job_storage(job_id) as job:
        if isinstance(kind, TaskOutputKind):
            references = job.list_task_outputs(kind, task_ids or None)
        elif isinstance(kind, JobOutputKind):
            references = job.list_outputs(kind)
        else:
            references = job.list_all()
        rows: list[dict[str, object]] = []
        with _counting(f"listing outputs of job {job_id}") as found:
            for reference in references:
                if not task_ids or reference.task_id in task_ids:
                    rows.append(_row(reference))
                    found(len(rows))
    if not rows and not as_json:
        stderr.print(f"no outputs of job {job_id} match")
        return
    emit(
        as_json,
        rows,
        columns=["task", "kind", "path", "size", "modified"],
        title=f"outputs of job {job_id} (container {container_name(job_id)})",
        sizes=["size"],
        total_of="outputs",
    )


@contextlib.contextmanager
def _counting(description: str) -> Iterator[Callable[[int], None]]:
    """A spinner on stderr with how many were found so far (a listing of 10,000 outputs
    takes a while); gone when it ends, and silent when stderr is not a terminal."""
    columns = (SpinnerColumn(), TextColumn("{task.description}: {task.completed:,} found"))
    with Progress(*columns, console=stderr, transient=True, disable=not stderr.is_terminal) as bar:
        task = bar.add_task(description, total=None)
        yield lambda count: bar.update(task, completed=count)


@main.command("download")
@job_id_argument
@click.option(
    "--kind",
    "kind_text",
    help=f"The kind to download (default: every kind, each in DEST/<kind>/). {KIND_HELP}",
)
@task_ids_option
@click.option(
    "--max-concurrency",
    default=8,
    show_default=True,
    type=click.IntRange(1, 64),
    help="How many files download at once.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Download every output, even those whose local copy is already identical.",
)
@click.option(
    "--watch",
    is_flag=True,
    help="Keep listing and download new or changed outputs as they appear, until Ctrl-C "
    "or --idle-exit.",
)
@click.option(
    "--interval",
    default=10.0,
    show_default=True,
    type=FiniteFloatRange(min=0.1, max=MAX_INTERVAL),
    help="With --watch: seconds between listings.",
)
@click.option(
    "--idle-exit",
    type=FiniteFloatRange(min=0),
    help="With --watch: stop after this many seconds with nothing new or changed.",
)
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@connection_options
@network_options
@json_option
def download_command(
    job_id: str,
    kind_text: str | None,
    task_ids: tuple[str, ...],
    max_concurrency: int,
    overwrite: bool,
    watch: bool,
    interval: float,
    idle_exit: float | None,
    dest: Path,
    connection: Connection,
    as_json: bool,
) -> None:
    """Download every output of a kind into DEST (task kinds: DEST/<task>/<path>).

    Without --kind, every kind, each in its folder: DEST/<kind>/<task>/<path> for task
    kinds, DEST/<kind>/<path> for job kinds (with --task, those tasks' outputs).
    Incremental: outputs whose local copy is already identical (same size and MD5) are
    skipped, so running it again fetches only what is new, changed or missing.
    """
    kind = parse_kind(kind_text) if kind_text is not None else None
    if task_ids and isinstance(kind, JobOutputKind):
        raise click.UsageError(f"--task applies to task kinds, not {kind.text}")
    if not watch and idle_exit is not None:
        raise click.UsageError("--idle-exit applies to --watch")
    if watch and kind is None:
        raise click.UsageError("--watch follows one kind: give --kind")
    with connection.job_storage(job_id) as job:
        planned: list[OutputFileReference] = []
        if watch:
            assert kind is not None  # checked above
            tally = _watch(
                job, kind, task_ids, dest, overwrite, max_concurrency, interval, idle_exit, as_json
            )
        else:
            # The listing sizes the bar; download exactly it, not a second listing.
            try:
                planned = list(job.find_outputs(kind, task_ids or None))
            except KeyboardInterrupt:
                stderr.print("interrupted while listing: nothing downloaded")
                raise click.exceptions.Exit(INTERRUPTED) from None
            groups = [(planned, dest)] if kind is not None else _by_kind(planned, dest)
            folders_before = folders_under(dest)
            finished: _CliTally | None = None
            try:
                tally = finished = _download(
                    job,
                    kind.text if kind is not None else "every kind",
                    groups,
                    overwrite,
                    max_concurrency,
                    as_json,
                )
            finally:
                if finished is None or finished.failed or finished.interrupted:
                    # What failed leaves no empty folders behind (all threads have ended).
                    remove_new_empty_folders(dest, folders_before)
    data = {
        "files": tally.files,
        "bytes": tally.bytes,
        "skipped": tally.skipped,
        "skipped_bytes": tally.skipped_bytes,
        "failed": tally.failed,
        "seconds": round(tally.seconds, 3),
    }
    if as_json:
        interrupted = {"interrupted": True} if tally.interrupted else {}
        emit(True, [], columns=[], data={**data, "dest": str(dest), **interrupted})
    elif tally.interrupted:  # after the bar, which _download has closed
        stderr.print(
            f"interrupted: {counted(tally.files, 'file')} downloaded, {tally.skipped} skipped; "
            "run the same command again to fetch the rest"
        )
    elif not planned and not watch:
        tasks = f" of task {', '.join(task_ids)}" if task_ids else ""
        what = f"{kind.text} outputs" if kind is not None else "outputs"
        stderr.print(f"nothing to download: job {job_id} has no {what}{tasks}")
    else:
        rate = ""
        if tally.seconds > 0 and tally.bytes > 0:
            rate = f" ({filesize.decimal(int(tally.bytes / tally.seconds))}/s)"
        files = "file" if tally.files == 1 else "files"
        skipped = (
            f"; skipped {tally.skipped} identical files "
            f"({filesize.decimal(tally.skipped_bytes)})"
            if tally.skipped
            else ""
        )
        stderr.print(
            f"downloaded {tally.files} {files}, {filesize.decimal(tally.bytes)}, "
            f"in {tally.seconds:.2f} s{rate} to {dest}{skipped}"
        )
    if tally.failed:
        failures = tally.failures
        for failure in failures[:5]:
            stderr.print(f"not downloaded: {failure}")
    if tally.interrupted:
        raise click.exceptions.Exit(INTERRUPTED)
    if tally.failures:
        raise click.ClickException(
            f"{counted(tally.failed, 'output was', 'outputs were')} not downloaded "
            f"(first: {tally.failures[0]})"
        )


class _CliTally(Tally):
    """What the command did, counted on the calling thread (the library's ``Tally``, plus
    failures and time). ``failures`` is the final state: an output that failed and then
    (in a later ``--watch`` round) was downloaded or found identical is no longer one."""

    def __init__(self) -> None:
        super().__init__()
        self.started = time.monotonic()
        self._failed: dict[str, DownloadFailure] = {}  # blob name -> its last failure
        self.seconds = 0.0
        self.interrupted = False

    @property
    def failures(self) -> list[DownloadFailure]:
        return list(self._failed.values())

    @property
    def failed(self) -> int:
        return len(self._failed)

    def add(self, result: DownloadedOutput | DownloadFailure) -> None:
        name = result.output.blob_name
        self._failed.pop(name, None)  # a failure is kept in the order of its last time
        if isinstance(result, DownloadFailure):
            self._failed[name] = result
        else:
            super().add(result)
        self.seconds = time.monotonic() - self.started


class _ByteBar:
    """A rich bar that moves per file and, inside large files, per chunk: chunk bytes
    arrive from the download threads (``on_bytes``), finished files on the calling thread;
    a file's partial bytes are replaced by its size when it finishes."""

    def __init__(self, progress: Progress, bar: TaskID) -> None:
        self._progress = progress
        self._bar = bar
        self._lock = threading.Lock()
        self._partial: dict[str, int] = {}

    def on_bytes(self, output: OutputFileReference, nbytes: int) -> None:
        with self._lock:
            self._partial[output.blob_name] = self._partial.get(output.blob_name, 0) + nbytes
        self._progress.advance(self._bar, nbytes)

    def finished(self, result: DownloadedOutput | DownloadFailure, description: str) -> None:
        with self._lock:
            partial = self._partial.pop(result.output.blob_name, 0)
        size = result.output.size or 0
        self._progress.update(self._bar, advance=size - partial, description=description)


def _columns() -> tuple[ProgressColumn, ...]:
    # No live speed column: skipped files advance the bar without any transfer.
    return (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )


def _by_kind(
    planned: list[OutputFileReference], dest: Path
) -> list[tuple[list[OutputFileReference], Path]]:
    """Every kind's outputs and its folder, DEST/<kind>, for a download of every kind.

    Each kind keeps its own layout below its folder (rules LP-1 to LP-3 apply per kind).
    A job kind and a task kind with the same text (a custom job kind may share a task
    kind's text, KD-2) would share a folder, and "." or ".." (kinds only .NET writes)
    name no folder of their own: those refuse the download before anything is written.
    """
    groups: dict[tuple[bool, str], list[OutputFileReference]] = {}
    for reference in planned:
        groups.setdefault((reference.task_id is None, reference.kind.text), []).append(reference)
    texts = [text for _, text in groups]
    for text in texts:
        shared = texts.count(text) > 1
        if text in (".", "..") or shared:
            why = " (a job kind and a task kind share that text)" if shared else ""
            raise click.ClickException(
                f"the outputs of kind {text!r} cannot have a folder of their own in "
                f"{dest}{why}; download that kind alone with --kind"
            )
    return [(references, dest / text) for (_, text), references in groups.items()]


def _download(
    job: JobOutputStorage,
    label: str,
    groups: list[tuple[list[OutputFileReference], Path]],
    overwrite: bool,
    max_concurrency: int,
    as_json: bool,
) -> _CliTally:
    """Download each group of outputs into its folder, one bar for all of them."""
    tally = _CliTally()
    count = sum(len(references) for references, _ in groups)
    total_bytes = sum(reference.size or 0 for references, _ in groups for reference in references)
    with Progress(*_columns(), console=stderr, disable=as_json) as progress:
        bar = _ByteBar(progress, progress.add_task(f"{label}: 0/{count} files", total=total_bytes))

        def handle(result: DownloadedOutput | DownloadFailure) -> None:
            tally.add(result)
            done = tally.files + tally.skipped + tally.failed
            bar.finished(result, f"{label}: {done}/{count} files")

        for references, folder in groups:
            results = job.iter_download(
                references,
                folder,
                overwrite=overwrite,
                max_concurrency=max_concurrency,
                on_bytes=bar.on_bytes,
            )
            try:
                for result in results:
                    handle(result)
            except KeyboardInterrupt:
                _finish(results, handle)
                # The caller says so once the bar is closed, so the summary comes after it.
                tally.interrupted = True
                break
    return tally


def _finish(
    results: Generator[DownloadedOutput | DownloadFailure, None, None],
    handle: Callable[[DownloadedOutput | DownloadFailure], None],
) -> None:
    """After Ctrl-C: pass it into the downloads, which start nothing new, let the running
    ones end and still yield them, so that the summary counts what is on disk."""
    try:
        result = results.throw(KeyboardInterrupt())
        while True:
            handle(result)
            result = next(results)
    except (KeyboardInterrupt, StopIteration):
        return


def _watch(
    job: JobOutputStorage,
    kind: JobOutputKind | TaskOutputKind,
    task_ids: tuple[str, ...],
    dest: Path,
    overwrite: bool,
    max_concurrency: int,
    interval: float,
    idle_exit: float | None,
    as_json: bool,
) -> _CliTally:
    """Print each output as it is fetched; Ctrl-C ends it with the summary (exit 0)."""
    tally = _CliTally()
    results = job.watch(
        kind,
        dest,
        task_ids=task_ids or None,
        interval=interval,
        idle_exit=idle_exit,
        overwrite=overwrite,
        max_concurrency=max_concurrency,
    )

    def handle(result: DownloadedOutput | DownloadFailure) -> None:
        tally.add(result)
        if isinstance(result, DownloadFailure):
            stderr.print(f"not downloaded: {result}")
        elif not result.skipped:
            if as_json:
                row = {"downloaded": _row(result.output), "local_path": result.local_path}
                click.echo(json.dumps(row))
            else:
                click.echo(f"{result.local_path} ({result.size} bytes)")

    try:
        for result in results:
            handle(result)
    except KeyboardInterrupt:
        _finish(results, handle)  # running downloads end and are printed; nothing half-written
        stderr.print("stopped watching (Ctrl-C)")
    return tally
