"""The client and task CLI commands against Azurite, in-process (click's runner)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from click.testing import CliRunner, Result

from conventions import JobOutputKind, TaskOutputKind, container_name, task_blob_name
from conventions.cli import main
from conventions.sas import prepare_output_storage
from conventions.storage import JobOutputStorage, TaskOutputStorage
from scripts.azurite import StorageEndpoint

from .storage_support import task_env


def _invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def seeded_job(blob_service_client: BlobServiceClient, job_id: str) -> str:
    prepare_output_storage(blob_service_client, job_id)
    job = JobOutputStorage.from_service_client(blob_service_client, job_id)
    job.save_text(JobOutputKind.JOB_OUTPUT, "all done", "summary.txt")
    for task_id in ("t1", "t2"):
        task = job.task(task_id)
        task.save_text(TaskOutputKind.TASK_OUTPUT, f"{task_id} result", "out/résumé +1.txt")
        task.save_text(TaskOutputKind.TASK_LOG, f"{task_id} log", "stdout.txt")
    return job_id


def test_prepare_is_idempotent_and_prints_the_container(azurite: StorageEndpoint) -> None:
    env = {"AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string}
    first = _invoke("prepare", "Sched_1:job-1", env=env)
    second = _invoke("prepare", "--json", "Sched_1:job-1", env=env)
    assert first.stdout == container_name("Sched_1:job-1") + "\n"
    assert _json(second) == {
        "job_id": "Sched_1:job-1",
        "container": container_name("Sched_1:job-1"),
    }


def test_list_everything_by_task_and_by_kind(azurite: StorageEndpoint, seeded_job: str) -> None:
    conn = ["--connection-string", azurite.connection_string]
    everything = _json(_invoke("list", seeded_job, "--json", *conn))
    assert len(everything) == 5
    assert {(row["task"], row["kind"], row["path"]) for row in everything} == {
        ("t1", "TaskLog", "stdout.txt"),
        ("t1", "TaskOutput", "out/résumé +1.txt"),
        ("t2", "TaskLog", "stdout.txt"),
        ("t2", "TaskOutput", "out/résumé +1.txt"),
        (None, "JobOutput", "summary.txt"),
    }
    logs = _json(_invoke("list", seeded_job, "--kind", "TaskLog", "--task", "t2", "--json", *conn))
    assert [(row["task"], row["path"], row["size"]) for row in logs] == [("t2", "stdout.txt", 6)]
    job_outputs = _json(_invoke("list", seeded_job, "--kind", "JobOutput", "--json", *conn))
    assert [row["path"] for row in job_outputs] == ["summary.txt"]
    table = _invoke("list", seeded_job, *conn)
    assert table.exit_code == 0
    assert "résumé +1.txt" in table.stdout
    nothing = _invoke("list", seeded_job, "--task", "t9", *conn)
    assert (nothing.exit_code, nothing.stdout) == (0, "")
    assert f"no outputs of job {seeded_job} match" in nothing.stderr


def test_sas_then_download_through_it(
    azurite: StorageEndpoint, seeded_job: str, tmp_path: Path
) -> None:
    conn = ["--connection-string", azurite.connection_string]
    url = _json(
        _invoke("sas", seeded_job, "--expiry", "1h", "--permissions", "rl", "--json", *conn)
    )["container_url"]
    assert "sig=" in url
    summary = _json(
        _invoke(
            "download",
            seeded_job,
            "--kind",
            "TaskOutput",
            str(tmp_path),
            "--json",
            "--container-url",
            url,
        )
    )
    assert (summary["files"], summary["bytes"]) == (2, len("t1 result") * 2)
    assert (tmp_path / "t1" / "out" / "résumé +1.txt").read_text() == "t1 result"
    assert (tmp_path / "t2" / "out" / "résumé +1.txt").read_text() == "t2 result"


def _read_only_url(azurite: StorageEndpoint, job_id: str) -> tuple[str, str]:
    """A container URL whose SAS may read but not list; and its signature."""
    conn = ["--connection-string", azurite.connection_string]
    url = _json(_invoke("sas", job_id, "--permissions", "r", "--json", *conn))["container_url"]
    return url, url.split("sig=")[1]


def test_access_denied_is_one_line_naming_the_permission_and_no_signature(
    azurite: StorageEndpoint, seeded_job: str
) -> None:
    url, signature = _read_only_url(azurite, seeded_job)
    result = CliRunner().invoke(main, ["list", seeded_job, "--container-url", url])
    assert result.exit_code == 1
    assert "'l'" in result.stderr
    assert signature not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_verbose_shows_the_traceback_but_still_no_signature(
    azurite: StorageEndpoint, seeded_job: str
) -> None:
    url, signature = _read_only_url(azurite, seeded_job)
    result = CliRunner().invoke(main, ["--verbose", "list", seeded_job, "--container-url", url])
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert "AccessDeniedError" in result.stderr
    assert signature not in result.stderr


def test_list_by_task_of_a_job_kind_is_a_usage_error(azurite: StorageEndpoint) -> None:
    result = CliRunner().invoke(
        main,
        ["list", "job-1", "--kind", "JobOutput", "--task", "t1"],
        env={"AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string},
    )
    assert result.exit_code == 2
    assert "--task applies to task kinds, not JobOutput" in result.stderr


def test_account_url_without_the_identity_extra_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "azure.identity", None)  # as if not installed
    result = CliRunner().invoke(
        main,
        ["prepare", "job-1", "--account-url", "https://acct.blob.core.windows.net"],
        env={"AZURE_STORAGE_CONNECTION_STRING": ""},
    )
    assert result.exit_code == 1
    assert "pip install 'batch-file-conventions[identity]'" in result.stderr


def test_missing_connection_is_a_usage_error() -> None:
    result = CliRunner().invoke(
        main, ["list", "job-1"], env={"AZURE_STORAGE_CONNECTION_STRING": ""}
    )
    assert result.exit_code == 2
    assert "--connection-string" in result.stderr


def test_save_from_the_batch_environment(
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    monkeypatch.chdir(tmp_path)
    Path("a.csv").write_text("1,2\n")
    Path("b.csv").write_text("3,4\n")
    rows = _json(_invoke("save", "--json", "*.csv", env=task_env(azurite, job_id, "t9")))
    assert sorted(row["blob_name"] for row in rows) == [
        "t9/$TaskOutput/a.csv",
        "t9/$TaskOutput/b.csv",
    ]


def test_run_streams_logs_and_keeps_the_exit_code(
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    program = "import sys\nprint('hello'); print('oops', file=sys.stderr); sys.exit(4)"
    result = _invoke(
        "run",
        "--flush-interval",
        "0.05",
        "--log-dir",
        str(tmp_path),
        "--",
        sys.executable,
        "-c",
        program,
        env=task_env(azurite, job_id, "t3"),
    )
    assert result.exit_code == 4
    storage = TaskOutputStorage.from_service_client(blob_service_client, job_id, "t3")
    log = TaskOutputKind.TASK_LOG
    assert storage.get_output(log, "stdout.txt").download_text() == "hello\n"
    assert storage.get_output(log, "stderr.txt").download_text() == "oops\n"
    assert (tmp_path / "stdout.txt").read_text() == "hello\n"


def test_run_of_a_retried_task_replaces_the_earlier_logs(
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    storage = TaskOutputStorage.from_service_client(blob_service_client, job_id, "t5")
    for attempt in ("first", "second"):
        log_dir = tmp_path / attempt  # a retried task gets a fresh working directory
        result = _invoke(
            "run", "--log-dir", str(log_dir), "--",
            sys.executable, "-c", f"print('{attempt} attempt')",
            env=task_env(azurite, job_id, "t5"),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        log = storage.get_output(TaskOutputKind.TASK_LOG, "stdout.txt").download_text()
        assert log == f"{attempt} attempt\n"


def test_run_streams_while_the_command_runs(
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    env = {**os.environ, **task_env(azurite, job_id, "t6")}
    env.pop("CONVENTIONS_CONTAINER_URL")
    program = "import time\nfor i in range(40):\n    print(i, flush=True); time.sleep(0.05)"
    command = [
        sys.executable, "-m", "conventions", "run", "--flush-interval", "0.1",
        "--log-dir", str(tmp_path), "--", sys.executable, "-c", program,
    ]  # fmt: skip
    blob = blob_service_client.get_blob_client(
        container_name(job_id), task_blob_name("t6", TaskOutputKind.TASK_LOG, "stdout.txt")
    )
    sizes_while_running = set()
    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL) as process:
        while process.poll() is None:
            if blob.exists():
                sizes_while_running.add(blob.get_blob_properties().size)
            time.sleep(0.02)
    assert process.returncode == 0
    final = "".join(f"{i}\n" for i in range(40)).encode()
    assert blob.download_blob().readall() == final
    # Seen growing in storage before the command ended: at several sizes short of the end.
    assert len({size for size in sizes_while_running if 0 < size < len(final)}) >= 2


def test_run_of_a_missing_command_exits_127(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str, tmp_path: Path
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    result = CliRunner().invoke(
        main,
        ["run", "--log-dir", str(tmp_path), "--", "no-such-program-xyz"],
        env=task_env(azurite, job_id, "t4"),
    )
    assert result.exit_code == 127
    assert "command not found: no-such-program-xyz" in result.stderr
