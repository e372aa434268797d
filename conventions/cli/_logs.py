"""``logs``: print a task's log, raw, and follow it while it grows."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import BinaryIO

import click

from conventions._azure_errors import translate_errors
from conventions.errors import FollowTimeoutError, WriterGoneError
from conventions.follow import FollowRestart
from conventions.kinds import TaskOutputKind

from ._app import job_id_argument, main, stderr
from ._connect import Connection, connection_options
from ._network import network_options

# The commands register themselves on the `main` group; nothing here is imported by name.
__all__: list[str] = []


@main.command("logs")
@job_id_argument
@click.argument("task_id")
@click.option("--stderr", "use_stderr", is_flag=True, help="The task's stderr.txt.")
@click.option("--path", help="Another path under the task's TaskLog (default stdout.txt).")
@click.option("-f", "--follow", is_flag=True, help="Keep printing as it grows; exit 0 when "
              "the writer marks it complete, 3 when the writer stopped without completing "
              "it.")  # fmt: skip
@click.option("--interval", default=2.0, show_default=True,
              type=click.FloatRange(min=0.05, max=86400),
              help="Seconds between reads of a log that did not grow (with --follow).")  # fmt: skip
@connection_options
@network_options
def logs_command(
    job_id: str,
    task_id: str,
    use_stderr: bool,
    path: str | None,
    follow: bool,
    interval: float,
    connection: Connection,
) -> None:
    """Print TASK_ID's log (TaskLog/stdout.txt) as stored, byte for byte.

    With --follow, wait for the log if it does not exist yet, print what it gains as
    `batch-conventions run` streams it, and exit 0 once it is marked complete. If the
    log is replaced (a retried task), a notice goes to stderr and printing starts again.
    If its writer stopped without completing it (it says so, or it stopped showing life:
    killed, node lost), exit 3 within 3 x its cadence + 30 s; a quiet writer is waited for.
    """
    if use_stderr and path is not None:
        raise click.UsageError("give --stderr or --path, not both")
    name = path if path is not None else ("stderr.txt" if use_stderr else "stdout.txt")
    out = sys.stdout.buffer
    with connection.job_storage(job_id) as job:
        log = job.task(task_id).reference(TaskOutputKind.TASK_LOG, name)
        if not follow:
            with translate_errors(
                "read", container=log.container_name, blob=log.blob_name, permission="r"
            ):
                log.blob_client.get_blob_properties()  # a missing log: OutputNotFoundError
            # Read what is there now as follow does: one GET per read, no read pinned to
            # an earlier one's ETag (a writer's append would fail it), a replaced log
            # noticed. timeout=0: stop once caught up.
            try:
                _print_follow(log.follow(interval=interval, timeout=0), out)
            except FollowTimeoutError:
                stderr.print("(the log is still being written: not marked complete)", style="dim")
            except WriterGoneError as error:
                # What is stored was printed, which is all this command was asked for.
                stderr.print(f"(the log will not be completed: {error})", style="dim", markup=False)
            return
        stderr.print(f"following {log.blob_name} (Ctrl-C to stop)", style="dim")
        try:
            _print_follow(log.follow(interval=interval), out)
        except KeyboardInterrupt:
            stderr.print("stopped", style="dim")
            sys.exit(130)


def _print_follow(events: Iterable[bytes | FollowRestart], out: BinaryIO) -> None:
    for item in events:
        if isinstance(item, FollowRestart):
            out.flush()
            stderr.print(
                f"--- the log was replaced ({item.reason}); from its start: ---", markup=False
            )
            continue
        out.write(item)
        out.flush()
