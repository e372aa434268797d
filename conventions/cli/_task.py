"""Task-side commands, configured from the Batch environment: save and run."""

from __future__ import annotations

import contextlib
import os
import sys
from datetime import timedelta
from pathlib import Path

import click

from conventions.errors import ConventionsError
from conventions.kinds import TaskOutputKind
from conventions.urls import redact_sas

from ._app import emit, json_option, main, stderr
from ._connect import Connection, connection_options, parse_duration, parse_task_kind
from ._network import network_options
from ._save import plan_saves, save_with_progress
from ._tee import run_teed

# The commands register themselves on the `main` group; nothing here is imported by name.
__all__: list[str] = []


@main.command("save")
@click.option(
    "--kind",
    "kind_text",
    default="TaskOutput",
    show_default=True,
    help="The task output kind to store the files as: TaskOutput, TaskPreview, TaskLog or "
    "TaskIntermediate (any case), or custom:<text>.",
)
@click.option(
    "--destination",
    metavar="NAME",
    help="Store the one PATH under this path instead of its own (needed for an absolute PATH).",
)
@click.option(
    "--allow-empty",
    is_flag=True,
    help="Succeed when a pattern matches no file (by default that exits 1).",
)
@click.option(
    "--max-concurrency",
    default=8,
    show_default=True,
    type=click.IntRange(1, 64),
    help="How many files upload at once.",
)
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@connection_options
@network_options
@json_option
def save_command(
    kind_text: str,
    destination: str | None,
    allow_empty: bool,
    max_concurrency: int,
    paths: tuple[str, ...],
    connection: Connection,
    as_json: bool,
) -> None:
    """Save files (or quoted glob patterns, ** recurses) as outputs of the current Batch task.

    Each PATH is relative to the current folder and is also its path under the kind,
    unless --destination is given. A pattern that matches no file exits 1 (see
    --allow-empty). The job and task come from AZ_BATCH_JOB_ID and AZ_BATCH_TASK_ID; the
    container from the options, else as from_environment does: CONVENTIONS_CONTAINER_URL,
    AZURE_STORAGE_CONNECTION_STRING or CONVENTIONS_ACCOUNT_URL (+ AZURE_CLIENT_ID).
    """
    kind = parse_task_kind(kind_text)
    items = plan_saves(paths, destination=destination, allow_empty=allow_empty, cwd=os.getcwd())
    if not items:
        if as_json:
            emit(True, [], columns=[])
        else:
            stderr.print("nothing saved: no file matched (accepted by --allow-empty)")
        return
    with connection.task_storage() as storage:
        references = save_with_progress(
            storage, kind, items, max_concurrency=max_concurrency, show=not as_json
        )
    rows = [{"path": ref.path, "blob_name": ref.blob_name, "size": ref.size} for ref in references]
    emit(
        as_json,
        rows,
        columns=["path", "blob_name", "size"],
        title=f"saved as {kind.text}",
        sizes=["size"],
        total_of="files",
    )


@main.command("run", context_settings={"ignore_unknown_options": True})
@click.option(
    "--flush-interval",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Seconds between uploads of what the logs gained, for as long as the logs' block "
    "budget allows; then uploads come less often, so that the logs stream for --lifetime.",
)
@click.option(
    "--lifetime",
    default="180d",
    show_default=True,
    metavar="DURATION",
    callback=lambda _ctx, _param, value: _positive_duration(value),
    help="How long the logs must keep streaming (7d, 12h, 30m, 90s); a Batch task lives "
    "180 days at most.",
)
@click.option(
    "--strict-logs",
    is_flag=True,
    help="Exit 1 (or the command's non-zero code) when a log could not be stored "
    "completely; by default that is reported on stderr and the command's code is kept.",
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
@network_options
def run_command(
    flush_interval: float,
    lifetime: timedelta,
    strict_logs: bool,
    log_dir: Path,
    command: tuple[str, ...],
    connection: Connection,
) -> None:
    """Run COMMAND, streaming its stdout and stderr live to TaskLog.

    The output is copied to this process's own streams (so the Batch agent's
    stdout.txt and stderr.txt are complete) and to LOG_DIR/stdout.txt and
    LOG_DIR/stderr.txt, which are uploaded to <task>/$TaskLog/stdout.txt and
    stderr.txt while the command runs. A new run truncates the two files and
    replaces the two blobs. If this process's own stdout or stderr is closed or full
    (run ... | head -1), the copy to it stops and the command keeps running, still
    logged to the files and to storage. Exits with the command's exit code; a log that
    could not be stored completely is reported on stderr (and marked incomplete on its
    blob where storage allows), and with --strict-logs also makes the exit code 1 if the
    command's was 0.

    Example: batch-conventions run --flush-interval 15 -- python simulate.py --steps 100
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / "stdout.txt", log_dir / "stderr.txt"
    for path in (out_path, err_path):
        # Before tracking starts: a retried task in the same directory must not upload
        # an earlier attempt's output.
        path.write_bytes(b"")
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
                    lifetime=lifetime.total_seconds(),
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
        _say(f"error: command not found: {command[0]} ({error.strerror})")
        sys.exit(127)
    except ConventionsError as error:
        if code is None:
            raise
        # The command ran; its exit code wins, but a lost log never passes silently.
        _say(f"error: the logs could not be stored completely: {redact_sas(str(error))}")
        _quiet_if_broken()
        sys.exit((code or 1) if strict_logs else code)
    if code:
        _say(f"command exited with code {code}", style="dim")
    _quiet_if_broken()
    sys.exit(code)


def _positive_duration(text: str) -> timedelta:
    duration = parse_duration(text)
    if duration <= timedelta(0):
        raise click.BadParameter(f"{text!r} is not a duration more than 0, such as 180d or 12h")
    return duration


def _say(message: str, style: str | None = None) -> None:
    """Print to our stderr, which may be closed or full: never fail for that."""
    with contextlib.suppress(OSError, ValueError):
        stderr.print(message, style=style)


def _quiet_if_broken() -> None:
    """If our stdout or stderr broke, point it at the null device, so that exiting (which
    flushes them) neither fails nor changes the exit code."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            with contextlib.suppress(OSError, ValueError):
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, stream.fileno())
                os.close(null)
