"""Run a command, copying its stdout and stderr both to ours and to local files.

Kept apart from the click command so that it can be tested on its own. The file copies
are made as bytes, chunk by chunk and flushed at once, so that a tracked save of the
files sees the output as soon as the command writes it. The copies on our own streams
("mirrors") are written a whole line at a time (a line ends with ``\n`` or ``\r``),
under one lock shared by both streams, so that when both go to one file a line of one
never cuts a line of the other. A mirror that fails (closed pipe, full disk) is dropped:
the command keeps running, never blocked, and its output still reaches the files.
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


class _Mirror:
    """One of our own output streams, written whole lines at a time; dropped on failure."""

    def __init__(self, target: BinaryIO, lock: threading.Lock) -> None:
        self.target: BinaryIO | None = target
        self._lock = lock
        self._pending = b""

    def write(self, chunk: bytes, *, final: bool = False) -> None:
        data = self._pending + chunk
        end = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
        if final or len(data) - end >= _CHUNK:
            end = len(data)  # the end of the output, or a "line" too long to hold back
        self._pending = data[end:]
        if end and self.target is not None:
            with self._lock:
                try:
                    self.target.write(data[:end])
                    self.target.flush()
                except (OSError, ValueError):  # closed or full: keep running without it
                    self.target = None


def _pump(source: BinaryIO, file: BinaryIO, mirror: _Mirror, failures: list[OSError]) -> None:
    fd = source.fileno()
    writable: BinaryIO | None = file
    while chunk := os.read(fd, _CHUNK):
        if writable is not None:
            try:
                writable.write(chunk)
                writable.flush()
            except OSError as error:  # keep draining, so that the command never blocks
                failures.append(error)
                writable = None
        mirror.write(chunk)
    mirror.write(b"", final=True)


def run_teed(
    command: Sequence[str],
    stdout_path: Path,
    stderr_path: Path,
    *,
    stdout: BinaryIO,
    stderr: BinaryIO,
) -> int:
    """Run *command*; tee its output streams into the two files; return its exit code.

    The files are truncated first: a new run never carries an earlier run's output.
    If *stdout* or *stderr* fails, the copy to it stops and the command goes on; if a
    file cannot be written, the first such error is raised once the command ended.
    SIGINT and SIGTERM received meanwhile are passed on to the command, so that it can
    end cleanly and the logs stay complete. A command killed by a signal gives
    ``128 + signal number``, as a shell reports it.
    """
    with (
        stdout_path.open("wb") as out_file,
        stderr_path.open("wb") as err_file,
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
        lock = threading.Lock()  # one line at a time on our two streams together
        failures: list[OSError] = []
        pumps = [
            threading.Thread(
                target=_pump,
                args=(process.stdout, out_file, _Mirror(stdout, lock), failures),
                daemon=True,
            ),
            threading.Thread(
                target=_pump,
                args=(process.stderr, err_file, _Mirror(stderr, lock), failures),
                daemon=True,
            ),
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
    if failures:
        raise failures[0]
    return 128 - code if code < 0 else code
