"""Client-side commands: prepare, sas, list, download."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from rich import filesize
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from conventions.containers import container_name
from conventions.kinds import JobOutputKind, TaskOutputKind
from conventions.references import OutputFileReference
from conventions.sas import output_container_url, prepare_output_storage

from ._app import emit, job_id_argument, json_option, main, stderr, task_ids_option
from ._connect import KIND_HELP, Connection, connection_options, parse_duration, parse_kind
from ._empty_dirs import remove_new_empty_dirs_on_failure

# The commands register themselves on the `main` group; nothing here is imported by name.
__all__: list[str] = []


@main.command("prepare")
@job_id_argument
@connection_options
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
        rows = [
            _row(reference)
            for reference in references
            if not task_ids or reference.task_id in task_ids
        ]
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


@main.command("download")
@job_id_argument
@click.option("--kind", "kind_text", required=True, help=f"The kind to download. {KIND_HELP}")
@task_ids_option
@click.option(
    "--max-concurrency",
    default=8,
    show_default=True,
    type=click.IntRange(1, 64),
    help="How many files download at once.",
)
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@connection_options
@json_option
def download_command(
    job_id: str,
    kind_text: str,
    task_ids: tuple[str, ...],
    max_concurrency: int,
    dest: Path,
    connection: Connection,
    as_json: bool,
) -> None:
    """Download every output of a kind into DEST (task kinds: DEST/<task>/<path>)."""
    kind = parse_kind(kind_text)
    with connection.job_storage(job_id) as job:
        if isinstance(kind, TaskOutputKind):
            planned = list(job.list_task_outputs(kind, task_ids or None))
        else:
            if task_ids:
                raise click.UsageError(f"--task applies to task kinds, not {kind.text}")
            planned = list(job.list_outputs(kind))
        total_bytes = sum(reference.size or 0 for reference in planned)
        # No live speed column: progress arrives per finished file, in bursts, so an
        # instantaneous rate would mislead; the summary gives the true average.
        columns = (
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=stderr, disable=as_json or not planned) as progress:
            bar = progress.add_task(f"{kind.text}: 0/{len(planned)} files", total=total_bytes)

            def advance(files_done: int, bytes_done: int) -> None:
                progress.update(
                    bar,
                    completed=bytes_done,
                    description=f"{kind.text}: {files_done}/{len(planned)} files",
                )

            # The listing above sized the bar; download exactly it, not a second listing.
            with remove_new_empty_dirs_on_failure(dest):
                summary = job.download_outputs(
                    planned, dest, max_concurrency=max_concurrency, progress=advance
                )
    data = {"files": summary.files, "bytes": summary.bytes, "seconds": round(summary.seconds, 3)}
    if as_json:
        emit(True, [], columns=[], data={**data, "dest": str(dest)})
    elif not planned:
        tasks = f" of task {', '.join(task_ids)}" if task_ids else ""
        stderr.print(f"nothing to download: job {job_id} has no {kind.text} outputs{tasks}")
    else:
        rate = ""
        if summary.seconds > 0 and summary.bytes > 0:
            rate = f" ({filesize.decimal(int(summary.bytes / summary.seconds))}/s)"
        files = "file" if summary.files == 1 else "files"
        stderr.print(
            f"downloaded {summary.files} {files}, {filesize.decimal(summary.bytes)}, "
            f"in {summary.seconds:.2f} s{rate} to {dest}"
        )
