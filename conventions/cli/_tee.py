"""Run a command, copying its stdout and stderr both to ours and to local files.

Kept apart from the click command so that it can be tested on its own. The copies
are made as bytes, chunk by chunk and flushed at once, so that a tracked save of the
files sees the output as soon as the command writes it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import BinaryIO

__all__ = ["run_teed"]

_CHUNK = 64 * 1024


def _pump(source: BinaryIO, targets: Sequence[BinaryIO]) -> None:
    fd = source.fileno()
    while chunk := os.read(fd, _CHUNK):
        for target in targets:
            target.write(chunk)
            target.flush()


def run_teed(
    command: Sequence[str],
    stdout_path: Path,
    stderr_path: Path,
    *,
    stdout: BinaryIO,
    stderr: BinaryIO,
) -> int:
    """Run *command*; tee its output streams into the two files; return its exit code.

    SIGINT and SIGTERM received meanwhile are passed on to the command, so that it can
    end cleanly and the logs stay complete. A command killed by a signal gives
    ``128 + signal number``, as a shell reports it.
    """
    with (
        stdout_path.open("ab") as out_file,
        stderr_path.open("ab") as err_file,
        subprocess.Popen(  # noqa: S603 - running the user's command is the point
            list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        ) as process,
    ):
        assert process.stdout is not None
        assert process.stderr is not None

        def forward(signum: int, _frame: FrameType | None) -> None:
            process.send_signal(signum)

        previous = {
            signum: signal.signal(signum, forward)
            for signum in (signal.SIGINT, signal.SIGTERM)
            if threading.current_thread() is threading.main_thread()
        }
        pumps = [
            threading.Thread(target=_pump, args=(process.stdout, [out_file, stdout]), daemon=True),
            threading.Thread(target=_pump, args=(process.stderr, [err_file, stderr]), daemon=True),
        ]
        try:
            for pump in pumps:
                pump.start()
            for pump in pumps:
                pump.join()
            code = process.wait()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    return 128 - code if code < 0 else code
