"""run_teed: the command's output reaches both our streams and the files, exactly."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from conventions.cli._tee import run_teed

_WRITER = """
import sys, time
for i in range(50):
    sys.stdout.write(f"out {i}\\n"); sys.stdout.flush()
    if i % 10 == 0:
        sys.stderr.write(f"err {i}\\n"); sys.stderr.flush()
sys.stdout.buffer.write(bytes(range(256)))
sys.exit(3)
"""


def test_output_is_teed_byte_for_byte_and_exit_code_kept(tmp_path: Path) -> None:
    out, err = io.BytesIO(), io.BytesIO()
    code = run_teed(
        [sys.executable, "-c", _WRITER],
        tmp_path / "stdout.txt",
        tmp_path / "stderr.txt",
        stdout=out,
        stderr=err,
    )
    expected_out = "".join(f"out {i}\n" for i in range(50)).encode() + bytes(range(256))
    expected_err = "".join(f"err {i}\n" for i in range(0, 50, 10)).encode()
    assert code == 3
    assert (tmp_path / "stdout.txt").read_bytes() == out.getvalue() == expected_out
    assert (tmp_path / "stderr.txt").read_bytes() == err.getvalue() == expected_err


def test_command_killed_by_a_signal_reports_128_plus_signal(tmp_path: Path) -> None:
    code = run_teed(
        [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"],
        tmp_path / "o",
        tmp_path / "e",
        stdout=io.BytesIO(),
        stderr=io.BytesIO(),
    )
    assert code == 128 + 15
