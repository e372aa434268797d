"""run_teed: the command's output reaches both our streams and the files, exactly."""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from conventions import TaskOutputKind, container_name, task_blob_name
from conventions.cli._tee import run_teed
from conventions.sas import prepare_output_storage
from scripts.azurite import StorageEndpoint

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


# -- `batch-conventions run` as a process: broken stdout, reused directory, merged streams -----

_MANY_LINES = (
    "import sys\nfor i in range(20000):\n    print(f'line {i}')\nprint('bye', file=sys.stderr)"
)


def _run_env(azurite: StorageEndpoint, job_id: str, task_id: str) -> dict[str, str]:
    env = {
        **os.environ,
        "AZ_BATCH_JOB_ID": job_id,
        "AZ_BATCH_TASK_ID": task_id,
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
    }
    env.pop("CONVENTIONS_CONTAINER_URL", None)
    return env


def _shell(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # A hang fails the test: every run below must end within seconds.
    return subprocess.run(
        ["bash", "-c", script], env=env, cwd=cwd, capture_output=True, text=True, timeout=90
    )


def _log(service: BlobServiceClient, job_id: str, task_id: str, name: str) -> bytes:
    blob = task_blob_name(task_id, TaskOutputKind.TASK_LOG, name)
    return service.get_container_client(container_name(job_id)).download_blob(blob).readall()


@pytest.fixture
def task_dir(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str, tmp_path: Path
) -> Path:
    prepare_output_storage(blob_service_client, job_id)
    (tmp_path / "program.py").write_text(_MANY_LINES)
    return tmp_path


_RUN = f"{shlex.quote(sys.executable)} -m conventions run --flush-interval 0.2 --"
_PROGRAM = f"{shlex.quote(sys.executable)} program.py"


@pytest.mark.parametrize(
    "redirect", ["| head -1", "> /dev/full"] if Path("/dev/full").exists() else ["| head -1"]
)
def test_run_with_a_closed_or_full_stdout_finishes_and_logs_everything(
    redirect: str,
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
    task_dir: Path,
) -> None:
    result = _shell(
        f'{_RUN} {_PROGRAM} {redirect}; echo "status=${{PIPESTATUS[0]}}" >&2',
        _run_env(azurite, job_id, "t1"),
        task_dir,
    )
    expected = "".join(f"line {i}\n" for i in range(20000)).encode()
    assert "status=0" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    if redirect.startswith("|"):
        assert result.stdout == "line 0\n"
    assert (task_dir / "stdout.txt").read_bytes() == expected
    assert _log(blob_service_client, job_id, "t1", "stdout.txt") == expected
    assert _log(blob_service_client, job_id, "t1", "stderr.txt") == b"bye\n"


def test_a_rerun_in_the_same_directory_starts_the_logs_afresh(
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
    task_dir: Path,
) -> None:
    env = _run_env(azurite, job_id, "t2")
    for attempt in ("first", "second"):
        command = f"{shlex.quote(sys.executable)} -c \"print('{attempt}')\""
        result = _shell(f"{_RUN} {command}", env, task_dir)
        assert result.returncode == 0, result.stderr
    assert (task_dir / "stdout.txt").read_bytes() == b"second\n"
    assert _log(blob_service_client, job_id, "t2", "stdout.txt") == b"second\n"


_HALF_LINES = """
import sys, time
for i in range(200):
    sys.stdout.write(f"out {i}"); sys.stdout.flush()
    sys.stderr.write(f"err {i}"); sys.stderr.flush()
    time.sleep(0.001)
    sys.stdout.write("\\n"); sys.stdout.flush()
    sys.stderr.write("\\n"); sys.stderr.flush()
"""


def test_both_streams_into_one_file_keep_every_line_whole(
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
    task_dir: Path,
) -> None:
    (task_dir / "halves.py").write_text(_HALF_LINES)
    result = _shell(
        f"{_RUN} {shlex.quote(sys.executable)} halves.py > both.txt 2>&1",
        _run_env(azurite, job_id, "t3"),
        task_dir,
    )
    assert result.returncode == 0, result.stderr
    lines = (task_dir / "both.txt").read_text().splitlines()
    assert sorted(lines) == sorted(
        [f"out {i}" for i in range(200)] + [f"err {i}" for i in range(200)]
    )
    assert (
        _log(blob_service_client, job_id, "t3", "stdout.txt")
        == "".join(f"out {i}\n" for i in range(200)).encode()
    )
