"""`batch-conventions logs -f` against a real `run` on Azurite: it ends (exit 3) when the
writer was killed, and keeps following a writer that is merely quiet (issue 20)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from azure.storage.blob import BlobServiceClient

from conventions import TaskOutputKind, container_name, task_blob_name
from conventions.sas import prepare_output_storage
from scripts.azurite import StorageEndpoint


def _env(azurite: StorageEndpoint, job_id: str) -> dict[str, str]:
    env = {
        **os.environ,
        "AZ_BATCH_JOB_ID": job_id,
        "AZ_BATCH_TASK_ID": "t1",
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
    }
    env.pop("CONVENTIONS_CONTAINER_URL", None)
    return env


def _run(program: str, tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "conventions", "run", "--flush-interval", "1",
        "--log-dir", str(tmp_path), "--", sys.executable, "-c", program,
    ]  # fmt: skip
    # A session of its own, so that the test can kill run and its command together.
    return subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip


def _logs(job_id: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "conventions", "logs", job_id, "t1", "-f"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _wait_for_bytes(service: BlobServiceClient, job_id: str, seconds: float = 30) -> None:
    blob = service.get_blob_client(
        container_name(job_id), task_blob_name("t1", TaskOutputKind.TASK_LOG, "stdout.txt")
    )
    deadline = time.monotonic() + seconds
    while not (blob.exists() and blob.get_blob_properties().size > 0):
        assert time.monotonic() < deadline, "run never streamed its log"
        time.sleep(0.2)


def test_logs_follow_exits_3_soon_after_the_writer_is_killed(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str, tmp_path: Path
) -> None:
    # Before: logs -f waited for ever on a log that nobody would ever complete.
    prepare_output_storage(blob_service_client, job_id)
    env = _env(azurite, job_id)
    program = "import time\nwhile True:\n    print('tick', flush=True); time.sleep(0.2)"
    run = _run(program, tmp_path, env)
    follower = None
    try:
        _wait_for_bytes(blob_service_client, job_id)
        follower = _logs(job_id, env)
        time.sleep(2)  # the follower is reading the live log
        os.killpg(run.pid, signal.SIGKILL)  # the node is lost: nothing closes the log
        run.wait(10)
        killed = time.monotonic()
        _, err = follower.communicate(timeout=60)
        took = time.monotonic() - killed
    finally:
        for process in (run, follower):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)
    assert follower.returncode == 3, err
    assert took < 40, took  # 3 x the writer's cadence + 30 s
    lines = [line for line in err.decode().splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert "writer" in lines[0]


def test_logs_follow_keeps_following_a_quiet_writer_to_completion(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str, tmp_path: Path
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    env = _env(azurite, job_id)
    program = "import time\nprint('start', flush=True)\ntime.sleep(20)\nprint('end', flush=True)"
    run = _run(program, tmp_path, env)
    follower = None
    try:
        _wait_for_bytes(blob_service_client, job_id)
        follower = _logs(job_id, env)
        out, err = follower.communicate(timeout=90)
        assert run.wait(30) == 0
    finally:
        for process in (run, follower):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)
    assert follower.returncode == 0, err
    assert out == b"start\nend\n"
