"""Client-side commands: prepare, sas, list, download."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
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

from ._app import emit, json_option, main, stderr
from ._connect import Connection, connection_options, parse_duration, parse_kind
from ._network import network_options

# The commands register themselves on the `main` group; nothing here is imported by name.
__all__: list[str] = []


@main.command("prepare")
@click.argument("job_id")
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
@click.argument("job_id")
@click.option("--expiry", default="7d", show_default=True, help="How long it stays valid.")
@click.option(
    "--permissions",
    default="racwl",
    show_default=True,
    help="SAS letters; tasks need acw, and r to stream logs (run, save_tracked).",
)
@connection_options
@network_options
@json_option
def sas_command(
    job_id: str, expiry: str, permissions: str, connection: Connection, as_json: bool
) -> None:
    """Print the URL of JOB_ID's container with a SAS, for its tasks (or readers)."""
    lifetime: timedelta = parse_duration(expiry)
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
@click.argument("job_id")
@click.option("--task", "task_ids", multiple=True, help="Only this task (repeatable).")
@click.option("--kind", "kind_text", help="Only this kind (JobOutput, TaskLog, job:<custom>...).")
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
    )


@main.command("download")
@click.argument("job_id")
@click.option("--kind", "kind_text", required=True, help="The kind to download.")
@click.option("--task", "task_ids", multiple=True, help="Only this task (repeatable).")
@click.option("--max-concurrency", default=8, show_default=True, type=click.IntRange(1, 64))
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@connection_options
@network_options
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
        with Progress(*columns, console=stderr, disable=as_json) as progress:
            bar = progress.add_task(f"{kind.text}: 0/{len(planned)} files", total=total_bytes)

            def advance(files_done: int, bytes_done: int) -> None:
                progress.update(
                    bar,
                    completed=bytes_done,
                    description=f"{kind.text}: {files_done}/{len(planned)} files",
                )

            # The listing above sized the bar; download exactly it, not a second listing.
            summary = job.download_outputs(
                planned, dest, max_concurrency=max_concurrency, progress=advance
            )
    data = {"files": summary.files, "bytes": summary.bytes, "seconds": round(summary.seconds, 3)}
    if as_json:
        emit(True, [], columns=[], data={**data, "dest": str(dest)})
    else:
        rate = summary.bytes / summary.seconds / 1e6 if summary.seconds > 0 else 0.0
        stderr.print(
            f"downloaded {summary.files} files, {summary.bytes} bytes "
            f"in {summary.seconds:.2f} s ({rate:.1f} MB/s) to {dest}"
        )
