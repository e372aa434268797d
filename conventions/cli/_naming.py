"""Pure commands: container names, blob names and their parse."""

from __future__ import annotations

import click

from conventions.blobs import job_blob_name, parse_blob_name, task_blob_name
from conventions.containers import container_name
from conventions.kinds import JobOutputKind

from ._app import emit, json_option, main
from ._connect import KIND_HELP, parse_kind

# The commands register themselves on the `main` group; nothing here is imported by name.
__all__: list[str] = []


@main.command("container-name")
@click.argument("job_ids", nargs=-1, required=True, metavar="JOB_ID...")
@json_option
def container_name_command(job_ids: tuple[str, ...], as_json: bool) -> None:
    """Print the output container of each JOB_ID."""
    rows = [{"job_id": job_id, "container": container_name(job_id)} for job_id in job_ids]
    if as_json or len(rows) > 1:
        emit(as_json, rows, columns=["job_id", "container"])
    else:
        click.echo(rows[0]["container"])


@main.command("blob-name")
@click.option("--task", "task_id", help="Task ID; without it, a job output kind.")
@click.option("--kind", "kind_text", required=True, help=KIND_HELP)
@click.argument("path")
@json_option
def blob_name_command(task_id: str | None, kind_text: str, path: str, as_json: bool) -> None:
    """Print the blob name of PATH under a kind of a task (or of the job)."""
    kind = parse_kind(kind_text)
    if isinstance(kind, JobOutputKind):
        if task_id is not None:
            raise click.UsageError(f"--task applies to task kinds, not the job kind {kind.text}")
        name = job_blob_name(kind, path)
    else:
        if task_id is None:
            raise click.UsageError(f"{kind.text} is a task kind: give --task")
        name = task_blob_name(task_id, kind, path)
    if as_json:
        emit(True, [], columns=[], data={"blob_name": name})
    else:
        click.echo(name)


@main.command("parse")
@click.argument("blob_name")
@json_option
def parse_command(blob_name: str, as_json: bool) -> None:
    """Print the task, kind and path of BLOB_NAME."""
    location = parse_blob_name(blob_name)
    row = {"task_id": location.task_id, "kind": location.kind.text, "path": location.path}
    emit(as_json, [row], columns=["task_id", "kind", "path"], data=row)
