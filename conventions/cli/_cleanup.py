"""``delete``: remove a job's outputs (by kind, by task) or its whole container."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from conventions.cleanup import DeleteSummary
from conventions.containers import container_name
from conventions.errors import ConventionsError, DeleteError
from conventions.kinds import JobOutputKind

from ._app import NotConfirmedError, emit, job_id_argument, json_option, main, stderr
from ._connect import Connection, connection_options, parse_kind
from ._errors import render
from ._network import network_options

# The commands register themselves on the `main` group; nothing here is imported by name.
__all__: list[str] = []

_SHOWN = 20  # outputs listed before "... and N more"


@main.command("delete")
@job_id_argument
@click.option("--kind", "kind_text", help="Only this kind (TaskLog, JobOutput, job:<custom>...).")
@click.option("--task", "task_ids", multiple=True, help="Only this task (repeatable).")
@click.option("--container", "whole_container", is_flag=True,
              help="Delete the job's whole container (needs a connection string or "
              "--account-url, not a SAS).")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Show what would be deleted; delete nothing.")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask for confirmation.")
@connection_options
@network_options
@json_option
def delete_command(
    job_id: str,
    kind_text: str | None,
    task_ids: tuple[str, ...],
    whole_container: bool,
    dry_run: bool,
    assume_yes: bool,
    connection: Connection,
    as_json: bool,
) -> None:
    """Delete outputs of JOB_ID (all of them, or --kind and/or --task), or --container.

    Shows what it deletes and asks on a terminal; without a terminal it needs --yes.
    With a SAS, deleting outputs needs 'd' and 'l' (batch-conventions sas --permissions
    racwdl). Exit codes: 0 done (or nothing to do), 1 failed, 2 usage or not confirmed.
    """
    kind = parse_kind(kind_text) if kind_text is not None else None
    if whole_container and (kind is not None or task_ids):
        raise click.UsageError("--container deletes everything; drop --kind and --task")
    if task_ids and isinstance(kind, JobOutputKind):
        raise click.UsageError(f"--task applies to task kinds, not {kind.text}")
    with connection.job_storage(job_id) as job:
        if whole_container:
            what = f"container {job.container_name} of job {job_id} and everything in it"
            _confirm(what, dry_run=dry_run, assume_yes=assume_yes, as_json=as_json)
            if dry_run:
                return
            job.delete_container()
            _report(as_json, {"container": container_name(job_id), "deleted_container": True},
                    f"deleted {what}")  # fmt: skip
            return
        planned = list(job.find_outputs(kind, task_ids or None))
        if not planned:
            _report(as_json, {"deleted": 0, "missing": 0, "failed": 0, "dry_run": dry_run},
                    f"no outputs of job {job_id} match: nothing to delete")  # fmt: skip
            return
        if not as_json:
            for reference in planned[:_SHOWN]:
                stderr.print(f"  {reference.blob_name}", markup=False, highlight=False)
            if len(planned) > _SHOWN:
                stderr.print(f"  ... and {len(planned) - _SHOWN} more")
        size = sum(reference.size or 0 for reference in planned)
        what = f"{len(planned)} outputs ({size} bytes) of job {job_id}"
        _confirm(what, dry_run=dry_run, assume_yes=assume_yes, as_json=as_json)
        if dry_run:
            if as_json:
                names = [reference.blob_name for reference in planned]
                emit(True, [], columns=[], data={"dry_run": True, "would_delete": names})
            return
        try:
            summary = job.delete_outputs(planned)
        except DeleteError as error:
            _report_deleted(as_json, job_id, error.summary, error.failures)
            raise
    _report_deleted(as_json, job_id, summary, ())


def _report_deleted(
    as_json: bool, job_id: str, summary: DeleteSummary, failures: Sequence[ConventionsError]
) -> None:
    """The counts (and every failure): JSON on stdout, or lines on stderr."""
    if as_json:
        rows = [{"blob": getattr(f, "blob", None), "error": render(f)} for f in failures]
        data = {"deleted": summary.deleted, "missing": summary.missing,
                "failed": summary.failed, "dry_run": False}  # fmt: skip
        emit(True, [], columns=[], data={**data, "failures": rows} if failures else data)
        return
    for failure in failures:
        stderr.print(f"not deleted: {render(failure)}", markup=False, highlight=False)
    text = f"deleted {summary.deleted} outputs of job {job_id}"
    if summary.missing:
        text += f" ({summary.missing} were already gone)"
    if summary.failed:
        text += f"; {summary.failed} not deleted"
    stderr.print(text, markup=False)


def _confirm(what: str, *, dry_run: bool, assume_yes: bool, as_json: bool) -> None:
    if dry_run:
        if not as_json:
            stderr.print(f"dry run: would delete {what}")
        return
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise NotConfirmedError(
            f"not deleting {what} without confirmation: stdin is not a terminal; pass --yes"
        )
    if not click.confirm(f"Delete {what}?", default=False, err=True):
        stderr.print("nothing deleted")
        sys.exit(2)


def _report(as_json: bool, data: dict[str, object], text: str) -> None:
    if as_json:
        emit(True, [], columns=[], data=data)
    else:
        stderr.print(text, markup=False)
