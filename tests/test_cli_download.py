"""The CLI's incremental download and --watch against Azurite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient
from click.testing import CliRunner, Result

from conventions import TaskOutputKind
from conventions.cli import main
from conventions.sas import prepare_output_storage
from conventions.storage import JobOutputStorage
from scripts.azurite import StorageEndpoint

from .storage_support import tree

KIND = TaskOutputKind.TASK_OUTPUT


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def job(blob_service_client: BlobServiceClient, job_id: str) -> JobOutputStorage:
    prepare_output_storage(blob_service_client, job_id)
    storage = JobOutputStorage.from_service_client(blob_service_client, job_id)
    for task_id in ("t1", "t2"):
        storage.task(task_id).save_text(KIND, f"{task_id} result", "out.txt")
    return storage


def _job_id(job: JobOutputStorage) -> str:
    return job.container_name.removeprefix("job-")


def test_download_twice_skips_then_overwrite_fetches(
    azurite: StorageEndpoint, job: JobOutputStorage, tmp_path: Path
) -> None:
    conn = ["--connection-string", azurite.connection_string]
    args = ["download", _job_id(job), "--kind", "TaskOutput", str(tmp_path), *conn]
    first = _invoke(*args, "--json")
    assert json.loads(first.stdout)["files"] == 2
    second = _invoke(*args)
    assert second.exit_code == 0
    said = " ".join(second.stderr.split())  # rich wraps long lines
    assert "downloaded 0 files, 0 bytes" in said
    assert "skipped 2 identical files (18 bytes)" in said, said
    forced = json.loads(_invoke(*args, "--json", "--overwrite").stdout)
    assert (forced["files"], forced["skipped"]) == (2, 0)
    assert _invoke(*args, "--idle-exit", "3").exit_code == 2  # only with --watch


def test_watch_prints_outputs_saved_after_it_started_and_exits_when_idle(
    azurite: StorageEndpoint, job: JobOutputStorage, tmp_path: Path
) -> None:
    def later() -> None:
        time.sleep(0.8)
        job.task("t3").save_text(KIND, "late", "new.txt")

    saver = threading.Thread(target=later)
    saver.start()
    started = time.monotonic()
    result = _invoke(
        "download", _job_id(job), "--kind", "TaskOutput", str(tmp_path), "--watch",
        "--interval", "0.2", "--idle-exit", "1.5",
        "--connection-string", azurite.connection_string,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    saver.join()
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert sorted(lines[:2]) == [  # the first round, in completion order
        f"{tmp_path}/t1/out.txt (9 bytes)",
        f"{tmp_path}/t2/out.txt (9 bytes)",
    ]
    assert lines[2:] == [f"{tmp_path}/t3/new.txt (4 bytes)"]
    assert 0.8 + 1.5 <= elapsed < 0.8 + 1.5 + 3.0
    assert "downloaded 3 files" in " ".join(result.stderr.split())
    assert tree(tmp_path)["t3/new.txt"] == b"late"


def test_watch_ends_cleanly_on_ctrl_c(
    azurite: StorageEndpoint, job: JobOutputStorage, tmp_path: Path
) -> None:
    env = {**os.environ, "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string}
    process = subprocess.Popen(
        [sys.executable, "-m", "conventions", "download", _job_id(job), "--kind", "TaskOutput",
         str(tmp_path), "--watch", "--interval", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # the first output fetched: it is running
        if not first.endswith("out.txt (9 bytes)\n"):
            process.kill()
            pytest.fail(f"{first!r}; stderr: {process.communicate(timeout=30)[1]}")
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "stopped watching (Ctrl-C)" in err
    # What it counts is what is on disk: the first file, and the second if its download
    # had started when Ctrl-C came (under load its thread may not have started yet).
    on_disk = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert not [path for path in on_disk if path.name.endswith(".part")]
    count = len(on_disk)
    assert count in (1, 2)
    assert f"downloaded {count} file{'s' if count > 1 else ''}" in " ".join(err.split())
