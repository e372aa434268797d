"""`batch-conventions run` and `logs -f` on Azurite (issue 20): `logs -f` ends (exit 3) when
the writer was killed and keeps following a writer that is merely quiet; `run` exits with its
command's code whatever befell the logs' bookkeeping, unless --strict-logs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from conventions import TaskOutputKind, container_name, task_blob_name
from conventions.follow import COMPLETE_METADATA_KEY, INCOMPLETE_METADATA_KEY
from conventions.sas import prepare_output_storage
from scripts.azurite import StorageEndpoint

from .faultproxy import Fault, FaultProxy, ProxiedRequest


def _is_metadata(request: ProxiedRequest) -> bool:
    return request.method == "PUT" and request.query.get("comp") == "metadata"


def _is_append(request: ProxiedRequest) -> bool:
    return request.method == "PUT" and request.query.get("comp") == "appendblock"


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


# -- run's exit code: the command's, whatever happened to the logs' bookkeeping ---------------


def _proxied_run(
    proxied_endpoint: StorageEndpoint, job_id: str, tmp_path: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    env = _env(proxied_endpoint, job_id)
    command = [
        sys.executable, "-m", "conventions", "run", "--flush-interval", "0.2", "--retries", "0",
        "--log-dir", str(tmp_path), *options, "--", sys.executable, "-c", "print('hello')",
    ]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def _stored(service: BlobServiceClient, job_id: str) -> tuple[bytes, dict[str, str]]:
    blob = service.get_blob_client(
        container_name(job_id), task_blob_name("t1", TaskOutputKind.TASK_LOG, "stdout.txt")
    )
    return blob.download_blob().readall(), dict(blob.get_blob_properties().metadata)


def test_run_exits_0_when_only_the_completion_mark_cannot_be_set(
    fault_proxy: FaultProxy,
    proxied_endpoint: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
) -> None:
    # Before: close() raised for the mark, and run exited 1 for a command that succeeded
    # and whose logs were stored whole.
    prepare_output_storage(blob_service_client, job_id)
    fault_proxy.inject(Fault.refuse(503), times=None, when=_is_metadata)
    result = _proxied_run(proxied_endpoint, job_id, tmp_path)
    assert result.returncode == 0, result.stderr
    assert fault_proxy.faults_applied("refuse") >= 3
    data, metadata = _stored(blob_service_client, job_id)
    assert data == b"hello\n" == (tmp_path / "stdout.txt").read_bytes()
    assert COMPLETE_METADATA_KEY not in metadata


@pytest.mark.parametrize(("strict", "code"), [(False, 0), (True, 1)])
def test_a_log_that_cannot_be_stored_is_reported_and_strict_logs_fails_the_run(
    strict: bool,
    code: int,
    fault_proxy: FaultProxy,
    proxied_endpoint: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    fault_proxy.inject(Fault.refuse(503), times=None, when=_is_append)
    options = ("--strict-logs",) if strict else ()
    result = _proxied_run(proxied_endpoint, job_id, tmp_path, *options)
    assert result.returncode == code, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "could not be stored completely" in errors[0]
    data, metadata = _stored(blob_service_client, job_id)
    assert data == b""
    assert metadata[INCOMPLETE_METADATA_KEY] == "0"  # followers learn it at once


def test_a_log_marked_incomplete_is_printed_and_follow_exits_3_at_once(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    blob = blob_service_client.get_blob_client(
        container_name(job_id), task_blob_name("t1", TaskOutputKind.TASK_LOG, "stdout.txt")
    )
    blob.create_append_blob(metadata={INCOMPLETE_METADATA_KEY: "6", "conventions_live": "2"})
    blob.append_block(b"part 1")
    env = _env(azurite, job_id)
    base = [sys.executable, "-m", "conventions", "logs", job_id, "t1"]
    printed = subprocess.run(base, env=env, capture_output=True, timeout=60)
    assert (printed.returncode, printed.stdout) == (0, b"part 1"), printed.stderr
    assert b"will not be completed" in printed.stderr
    started = time.monotonic()
    followed = subprocess.run([*base, "-f"], env=env, capture_output=True, timeout=60)
    assert (followed.returncode, followed.stdout) == (3, b"part 1"), followed.stderr
    assert time.monotonic() - started < 20
