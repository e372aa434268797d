"""The CLI's ``download --watch`` on Azurite: its exit code is the final state of each
output (a failure that a later round fixed is not a failure at the end)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from azure.storage.blob import BlobServiceClient
from click.testing import CliRunner

from conventions import TaskOutputKind
from conventions.cli import main
from conventions.sas import prepare_output_storage
from conventions.storage import JobOutputStorage
from scripts.azurite import StorageEndpoint

from .storage_support import tree

KIND = TaskOutputKind.TASK_OUTPUT


def _job(client: BlobServiceClient, job_id: str) -> JobOutputStorage:
    prepare_output_storage(client, job_id)
    return JobOutputStorage.from_service_client(client, job_id)


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_watch_exits_0_when_a_failure_was_fixed_by_a_later_round(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str, tmp_path: Path
) -> None:
    job = _job(blob_service_client, job_id)
    job.task("t1").save_text(KIND, "fine", "ok.txt")
    job.task("t1").save_text(KIND, "blocked at first", "late.txt")
    blocker = tmp_path / "t1" / "late.txt"
    blocker.mkdir(parents=True)  # a directory where the file goes: round 1 fails it

    def unblock() -> None:
        time.sleep(0.5)
        blocker.rmdir()

    fixer = threading.Thread(target=unblock)
    fixer.start()
    try:
        code, out, err = _invoke(
            "download", job_id, "--kind", "TaskOutput", str(tmp_path), "--watch",
            "--interval", "0.2", "--idle-exit", "1.2", "--json",
            "--connection-string", azurite.connection_string,
        )  # fmt: skip
    finally:
        fixer.join()
    assert "not downloaded" in err  # round 1 reported it
    assert tree(tmp_path) == {"t1/ok.txt": b"fine", "t1/late.txt": b"blocked at first"}
    summary = json.loads(out[out.rindex("{\n") :])  # after one JSON line per file
    assert summary["failed"] == 0, out
    assert summary["files"] == 2
    assert code == 0, err


def test_cli_watch_exits_1_when_an_output_is_still_failed_at_the_end(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str, tmp_path: Path
) -> None:
    job = _job(blob_service_client, job_id)
    job.task("t1").save_text(KIND, "never", "late.txt")
    (tmp_path / "t1" / "late.txt").mkdir(parents=True)
    code, _, err = _invoke(
        "download", job_id, "--kind", "TaskOutput", str(tmp_path), "--watch",
        "--interval", "0.1", "--idle-exit", "0.5",
        "--connection-string", azurite.connection_string,
    )  # fmt: skip
    assert code == 1
    assert "1 output was not downloaded" in " ".join(err.split())
