"""Task-side commands, configured from the Batch environment: save and run."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from conventions.errors import ConventionsError
from conventions.kinds import TaskOutputKind
from conventions.urls import redact_sas

from ._app import emit, json_option, main, stderr
from ._connect import Connection, connection_options
from ._tee import run_teed

# The commands register themselves on the `main` group; nothing here is imported by name.
__all__: list[str] = []


@main.command("save")
@click.option("--kind", "kind_text", default="TaskOutput", show_default=True)
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@connection_options
@json_option
def save_command(
    kind_text: str, paths: tuple[str, ...], connection: Connection, as_json: bool
) -> None:
    """Save files (or glob patterns) as outputs of the current Batch task.

    The job and task come from AZ_BATCH_JOB_ID and AZ_BATCH_TASK_ID; the container from
    the options, else as from_environment does: CONVENTIONS_CONTAINER_URL,
    AZURE_STORAGE_CONNECTION_STRING or CONVENTIONS_ACCOUNT_URL (+ AZURE_CLIENT_ID).
    """
    kind = TaskOutputKind.custom(kind_text)
    with connection.task_storage() as storage:
        # Each argument may be a glob (quoted, so that the shell leaves it to us).
        references = [ref for path in paths for ref in storage.save_many(kind, path)]
    rows = [{"path": ref.path, "blob_name": ref.blob_name, "size": ref.size} for ref in references]
    emit(as_json, rows, columns=["path", "blob_name", "size"], title=f"saved as {kind.text}")


@main.command("run", context_settings={"ignore_unknown_options": True})
@click.option(
    "--flush-interval",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Seconds between uploads of what the logs gained.",
)
@click.option(
    "--log-dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the local stdout.txt and stderr.txt copies go.",
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@connection_options
def run_command(
    flush_interval: float, log_dir: Path, command: tuple[str, ...], connection: Connection
) -> None:
    """Run COMMAND, streaming its stdout and stderr live to TaskLog.

    The output is copied to this process's own streams (so the Batch agent's
    stdout.txt and stderr.txt are complete) and to LOG_DIR/stdout.txt and
    LOG_DIR/stderr.txt, which are uploaded to ``<task>/$TaskLog/stdout.txt`` and
    ``stderr.txt`` while the command runs. Exits with the command's exit code; if the
    command succeeded but a log could not be stored, exits 1.

    Example: batch-conventions run --flush-interval 15 -- python simulate.py --steps 100
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / "stdout.txt", log_dir / "stderr.txt"
    code: int | None = None
    try:
        with connection.task_storage() as storage:
            # A retried task's new logs replace the old attempt's, as the Batch agent's
            # stdout.txt does (decision D-33 refuses that by default).
            out_tracker, err_tracker = (
                storage.save_tracked(
                    path,
                    kind=TaskOutputKind.TASK_LOG,
                    destination=path.name,
                    flush_interval=flush_interval,
                    overwrite=True,
                )
                for path in (out_path, err_path)
            )
            with out_tracker, err_tracker:
                code = run_teed(
                    command,
                    out_path,
                    err_path,
                    stdout=sys.stdout.buffer,
                    stderr=sys.stderr.buffer,
                )
    except FileNotFoundError as error:
        if code is not None:
            raise
        stderr.print(f"Error: command not found: {command[0]} ({error.strerror})")
        sys.exit(127)
    except ConventionsError as error:
        if code is None:
            raise
        # The command ran; its exit code wins, but a lost log never passes silently.
        stderr.print(f"Error: the logs could not be stored: {redact_sas(str(error))}")
        sys.exit(code or 1)
    if code:
        stderr.print(f"command exited with code {code}", style="dim")
    sys.exit(code)
