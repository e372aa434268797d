"""Clean-up on Azurite: JobOutputStorage.delete / delete_container, and the CLI's delete
and logs commands."""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from click.testing import CliRunner, Result

from conventions import JobOutputKind, TaskOutputKind
from conventions.cleanup import delete_blobs
from conventions.cli import main
from conventions.errors import AccessDeniedError, ContainerNotFoundError
from conventions.sas import output_container_url, prepare_output_storage
from conventions.storage import JobOutputStorage
from scripts.azurite import StorageEndpoint

OUT, LOG = TaskOutputKind.TASK_OUTPUT, TaskOutputKind.TASK_LOG


def _seed(client: BlobServiceClient, job_id: str, tasks: int = 3) -> JobOutputStorage:
    prepare_output_storage(client, job_id)
    job = JobOutputStorage.from_service_client(client, job_id)
    job.save_text(JobOutputKind.JOB_OUTPUT, "summary", "summary.txt")
    for index in range(tasks):
        task = job.task(f"t{index}")
        task.save_text(OUT, f"result {index}", "out/a.txt")
        task.save_text(OUT, f"result {index}", "out/b.txt")
        task.save_text(LOG, f"log {index}", "stdout.txt")
    return job


def _names(job: JobOutputStorage) -> set[str]:
    return {ref.blob_name for ref in job.list_all()}


def _invoke(*args: str, env: dict[str, str], stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)


def _env(azurite: StorageEndpoint) -> dict[str, str]:
    return {"AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string}


def test_delete_by_kind_leaves_other_kinds_and_the_job_outputs(
    blob_service_client: BlobServiceClient, job_id: str
) -> None:
    job = _seed(blob_service_client, job_id)
    before = _names(job)
    summary = job.delete(OUT)
    assert (summary.deleted, summary.missing) == (6, 0)
    assert _names(job) == {name for name in before if "/$TaskOutput/" not in name}
    # Idempotent: nothing left of that kind, nothing deleted.
    assert job.delete(OUT).deleted == 0


def test_delete_for_a_list_of_tasks_every_kind_or_one(
    blob_service_client: BlobServiceClient, job_id: str
) -> None:
    job = _seed(blob_service_client, job_id)
    before = _names(job)
    assert job.delete(task_ids=["t0", "t2"]).deleted == 6
    assert _names(job) == {name for name in before if not name.startswith(("t0/", "t2/"))}
    assert job.delete(LOG, task_ids=["t1"]).deleted == 1
    assert _names(job) == {"$JobOutput/summary.txt", "t1/$TaskOutput/out/a.txt",
                           "t1/$TaskOutput/out/b.txt"}  # fmt: skip


def test_more_than_one_batch_and_blobs_already_gone(
    blob_service_client: BlobServiceClient, job_id: str
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    job = JobOutputStorage.from_service_client(blob_service_client, job_id)
    task = job.task("t1")
    refs = [task.save_bytes(OUT, b"x", f"f{index:03}") for index in range(300)]
    refs[5].delete()  # gone before the batch: counted as missing, not a failure
    summary = job.delete_outputs(refs)
    assert (summary.deleted, summary.missing) == (299, 1)
    assert _names(job) == set()


def test_parallel_single_deletes_do_the_same(
    blob_service_client: BlobServiceClient, job_id: str
) -> None:
    job = _seed(blob_service_client, job_id)
    names = [ref.blob_name for ref in job.find_outputs(LOG)] + ["t9/$TaskLog/none.txt"]
    summary = delete_blobs(job.container_client, names, batch=False)
    assert (summary.deleted, summary.missing) == (3, 1)


def test_delete_container(blob_service_client: BlobServiceClient, job_id: str) -> None:
    job = _seed(blob_service_client, job_id, tasks=1)
    job.delete_container()
    with pytest.raises(ContainerNotFoundError):
        list(job.list_all())
    with pytest.raises(ContainerNotFoundError):
        job.delete_container()


def test_a_sas_without_d_says_it_needs_d_and_sas_can_grant_it(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    _seed(blob_service_client, job_id, tasks=1)
    url = output_container_url(blob_service_client, job_id)  # the default: racwl
    with JobOutputStorage.from_container_url(url) as job, pytest.raises(
        AccessDeniedError, match="a SAS needs permission 'd'"
    ) as raised:
        job.delete(LOG)
    assert raised.value.permission == "d"
    assert "sig=" not in str(raised.value)
    # The CLI says the same, in one line, exit 1.
    result = _invoke("delete", job_id, "--kind", "TaskLog", "--yes", "--container-url", url,
                     env={})  # fmt: skip
    assert result.exit_code == 1
    assert "a SAS needs permission 'd'" in result.stderr
    # `sas` grants d when asked, and then the same delete works.
    granted = _invoke("sas", job_id, "--permissions", "racwdl", env=_env(azurite))
    assert granted.exit_code == 0, granted.output
    with JobOutputStorage.from_container_url(granted.stdout.strip()) as job:
        assert job.delete(LOG).deleted == 1


def test_cli_delete_dry_run_confirmation_and_json(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    job = _seed(blob_service_client, job_id)
    before = _names(job)
    env = _env(azurite)
    dry = _invoke("delete", job_id, "--kind", "TaskOutput", "--dry-run", env=env)
    assert dry.exit_code == 0
    assert "t0/$TaskOutput/out/a.txt" in dry.stderr
    assert "would delete 6 outputs" in dry.stderr
    assert _names(job) == before
    # Without a terminal and without --yes it refuses, deleting nothing.
    refused = _invoke("delete", job_id, "--kind", "TaskOutput", env=env)
    assert refused.exit_code == 2
    assert "--yes" in refused.stderr
    assert _names(job) == before
    done = _invoke("delete", job_id, "--kind", "TaskOutput", "--task", "t1", "--yes", "--json",
                   env=env)  # fmt: skip
    assert done.exit_code == 0, done.output
    data: dict[str, Any] = json.loads(done.stdout)
    assert data == {"deleted": 2, "missing": 0, "dry_run": False}
    assert _names(job) == before - {"t1/$TaskOutput/out/a.txt", "t1/$TaskOutput/out/b.txt"}
    assert _invoke("delete", job_id, "--container", "--kind", "TaskLog", env=env).exit_code == 2
    gone = _invoke("delete", job_id, "--container", "--yes", env=env)
    assert gone.exit_code == 0, gone.output
    assert not blob_service_client.get_container_client(job.container_name).exists()


def test_cli_logs_prints_raw_bytes_and_follow_exits_at_completion(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    job = JobOutputStorage.from_service_client(blob_service_client, job_id)
    raw = "[bold]not markup[/bold] é\n".encode() + b"\xff\n"
    blob = job.container_client.get_blob_client("t1/$TaskLog/stdout.txt")
    blob.create_append_blob()
    blob.append_block(raw)
    env = _env(azurite)
    shown = _invoke("logs", job_id, "t1", env=env)
    assert shown.exit_code == 0
    assert shown.stdout_bytes == raw
    assert "not marked complete" in shown.stderr
    blob.set_blob_metadata({"conventions_complete": str(len(raw))})
    followed = _invoke("logs", job_id, "t1", "-f", "--interval", "0.05", env=env)
    assert followed.exit_code == 0
    assert followed.stdout_bytes == raw
    missing = _invoke("logs", job_id, "t1", "--stderr", env=env)
    assert missing.exit_code == 1
    assert "no such output" in missing.stderr


def test_cli_logs_reads_a_log_that_grows_while_it_is_read(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    # Past the library client's 4 MiB first request, a plain download would pin its next
    # GET to the first one's ETag, which every append changes (412): `logs` reads as
    # follow does instead, one GET per read.
    prepare_output_storage(blob_service_client, job_id)
    job = JobOutputStorage.from_service_client(blob_service_client, job_id)
    start = os.urandom(9 * 1024 * 1024)
    blob = job.container_client.get_blob_client("t1/$TaskLog/stdout.txt")
    blob.create_append_blob()
    for offset in range(0, len(start), 4 * 1024 * 1024):
        blob.append_block(start[offset : offset + 4 * 1024 * 1024])
    stop = threading.Event()
    appended: list[bytes] = []

    def keep_appending() -> None:
        while not stop.is_set():
            piece = os.urandom(100)
            blob.append_block(piece)
            appended.append(piece)
            time.sleep(0.002)

    writer = threading.Thread(target=keep_appending)
    writer.start()
    try:
        shown = _invoke("logs", job_id, "t1", env=_env(azurite))
    finally:
        stop.set()
        writer.join(30)
    assert shown.exit_code == 0, shown.stderr
    whole = start + b"".join(appended)
    assert len(shown.stdout_bytes) >= len(start)
    assert whole.startswith(shown.stdout_bytes)  # a prefix of the log, nothing else
    assert "not marked complete" in shown.stderr
