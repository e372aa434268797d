"""Clean-up on Azurite: JobOutputStorage.delete / delete_container, and the CLI's delete
and logs commands."""

from __future__ import annotations

import json
import os
import pickle
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from click.testing import CliRunner, Result

from conventions import DeleteError, JobOutputKind, TaskOutputKind, cleanup
from conventions.cli import main
from conventions.errors import AccessDeniedError, ContainerNotFoundError, StorageError
from conventions.references import OutputFileReference
from conventions.sas import output_container_url, prepare_output_storage
from conventions.storage import JobOutputStorage
from scripts.azurite import StorageEndpoint

from .face_fixtures import Face
from .face_support import check_the_loop_now, service_client, unwrapped
from .faultproxy import Fault, FaultProxy, ProxiedRequest
from .vectors import cases

OUT, LOG = TaskOutputKind.TASK_OUTPUT, TaskOutputKind.TASK_LOG


def _seed(client: BlobServiceClient, job_id: str, tasks: int = 3) -> JobOutputStorage:
    prepare_output_storage(client, job_id)
    job = JobOutputStorage.from_service_client(client, job_id)
    _fill(job, tasks)
    return job


def _fill(job: Any, tasks: int = 3) -> None:
    job.save_text(JobOutputKind.JOB_OUTPUT, "summary", "summary.txt")
    for index in range(tasks):
        task = job.task(f"t{index}")
        task.save_text(OUT, f"result {index}", "out/a.txt")
        task.save_text(OUT, f"result {index}", "out/b.txt")
        task.save_text(LOG, f"log {index}", "stdout.txt")


@pytest.fixture
def job(
    face: Face, face_service: Any, blob_service_client: BlobServiceClient, job_id: str
) -> Iterator[Any]:
    """The face's ``JobOutputStorage`` (every test that takes it runs on both faces)."""
    prepare_output_storage(blob_service_client, job_id)
    with face.JobOutputStorage.from_service_client(face_service, job_id) as storage:
        yield storage


def _delete_blobs(face: Face, client: Any, names: Any, **options: Any) -> Any:
    """The face's ``cleanup.delete_blobs`` (``conventions.aio.cleanup``'s through the portal)."""
    if face.portal is None:
        return cleanup.delete_blobs(client, names, **options)
    from conventions.aio import cleanup as aio_cleanup

    return face.portal.call(aio_cleanup.delete_blobs, client, names, **options)


def _names(job: Any) -> set[str]:
    return {ref.blob_name for ref in job.list_all()}


def _invoke(*args: str, env: dict[str, str], stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)


def _env(azurite: StorageEndpoint) -> dict[str, str]:
    return {"AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string}


def test_delete_by_kind_leaves_other_kinds_and_the_job_outputs(job: Any) -> None:
    _fill(job)
    before = _names(job)
    summary = job.delete(OUT)
    assert (summary.deleted, summary.missing) == (6, 0)
    assert _names(job) == {name for name in before if "/$TaskOutput/" not in name}
    # Idempotent: nothing left of that kind, nothing deleted.
    assert job.delete(OUT).deleted == 0


def test_delete_for_a_list_of_tasks_every_kind_or_one(job: Any) -> None:
    _fill(job)
    before = _names(job)
    assert job.delete(task_ids=["t0", "t2"]).deleted == 6
    assert _names(job) == {name for name in before if not name.startswith(("t0/", "t2/"))}
    assert job.delete(LOG, task_ids=["t1"]).deleted == 1
    assert _names(job) == {"$JobOutput/summary.txt", "t1/$TaskOutput/out/a.txt",
                           "t1/$TaskOutput/out/b.txt"}  # fmt: skip


def test_more_than_one_batch_and_blobs_already_gone(face: Face, job: Any) -> None:
    task = job.task("t1")
    refs = [task.save_bytes(OUT, b"x", f"f{index:03}") for index in range(300)]
    refs[5].delete()  # gone before the batch: counted as missing, not a failure
    summary = job.delete_outputs(refs)
    assert (summary.deleted, summary.missing) == (299, 1)
    assert _names(job) == set()
    check_the_loop_now(face)


def test_parallel_single_deletes_do_the_same(face: Face, job: Any) -> None:
    _fill(job)
    names = [ref.blob_name for ref in job.find_outputs(LOG)] + ["t9/$TaskLog/none.txt"]
    summary = _delete_blobs(face, job.container_client, names, batch=False)
    assert (summary.deleted, summary.missing) == (3, 1)


def test_delete_container(job: Any) -> None:
    _fill(job, tasks=1)
    job.delete_container()
    with pytest.raises(ContainerNotFoundError):
        list(job.list_all())
    with pytest.raises(ContainerNotFoundError):
        job.delete_container()


def test_a_sas_without_d_says_it_needs_d_and_sas_can_grant_it(
    face: Face, azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    _seed(blob_service_client, job_id, tasks=1)
    url = output_container_url(blob_service_client, job_id)  # the default: racwl
    with (
        face.JobOutputStorage.from_container_url(url) as job,
        pytest.raises(DeleteError, match="a SAS needs permission 'd'") as raised,
    ):
        job.delete(LOG)
    (failure,) = raised.value.failures
    assert isinstance(failure, AccessDeniedError)
    assert failure.permission == "d"
    assert "sig=" not in str(raised.value)
    # The CLI says the same, in one line, exit 1.
    result = _invoke("delete", job_id, "--kind", "TaskLog", "--yes", "--container-url", url,
                     env={})  # fmt: skip
    assert result.exit_code == 1
    assert "a SAS needs permission 'd'" in result.stderr
    # `sas` grants d when asked, and then the same delete works.
    granted = _invoke("sas", job_id, "--permissions", "racwdl", env=_env(azurite))
    assert granted.exit_code == 0, granted.output
    with face.JobOutputStorage.from_container_url(granted.stdout.strip()) as job:
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
    assert data == {"deleted": 2, "missing": 0, "failed": 0, "dry_run": False}
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
    # Random bytes without "=": 9 MiB of them held "sig=" about once in 60 runs, which the
    # leak check (rightly) refuses to see in CLI output.
    start = os.urandom(9 * 1024 * 1024).replace(b"=", b"+")
    blob = job.container_client.get_blob_client("t1/$TaskLog/stdout.txt")
    blob.create_append_blob()
    for offset in range(0, len(start), 4 * 1024 * 1024):
        blob.append_block(start[offset : offset + 4 * 1024 * 1024])
    stop = threading.Event()
    appended: list[bytes] = []

    def keep_appending() -> None:
        while not stop.is_set():
            piece = os.urandom(100).replace(b"=", b"+")
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


# -- every failure, retried batches, a listing that fails midway (issue 19 item 6) ---------------

RETRY = {"retry_total": 3, "initial_backoff": 0, "increment_base": 0, "random_jitter_range": 0}


def _many(job: Any, count: int) -> list[Any]:
    task = job.task("t1")
    return [task.save_bytes(OUT, b"x", f"f{index:04}") for index in range(count)]


def test_every_failure_is_listed_in_one_delete_error(job: Any) -> None:
    refs = _many(job, 10)
    leased = [refs[1], refs[4], refs[8]]  # a leased blob refuses a delete without its lease
    leases = [ref.blob_client.acquire_lease() for ref in leased]
    try:
        with pytest.raises(DeleteError) as raised:
            job.delete_outputs(refs)
    finally:
        for lease in leases:
            lease.release()
    error = raised.value
    assert isinstance(error, StorageError)
    assert [getattr(f, "blob", None) for f in error.failures] == [r.blob_name for r in leased]
    assert all(isinstance(failure, StorageError) for failure in error.failures)
    assert (error.summary.deleted, error.summary.missing, error.summary.failed) == (7, 0, 3)
    assert str(error).startswith(
        f"3 of 10 outputs were not deleted from container {job.container_name!r} (7 were deleted"
    )
    assert "3 x StorageError" in str(error)
    assert _names(job) == {ref.blob_name for ref in leased}
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is DeleteError
    assert (str(copy), copy.summary, copy.container) == (str(error), error.summary, error.container)
    assert [getattr(f, "blob", None) for f in copy.failures] == [r.blob_name for r in leased]


@pytest.mark.parametrize("case", cases("delete.json"))
def test_delete_vectors_a_retried_delete_counts_what_its_lost_attempt_deleted(
    face: Face,
    case: dict[str, Any],
    blob_service_client: BlobServiceClient,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    job_id: str,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    refs = _many(JobOutputStorage.from_service_client(blob_service_client, job_id), case["blobs"])
    for ref in refs[: case["gone"]]:
        ref.delete()

    def is_delete(request: ProxiedRequest) -> bool:
        batched = request.method == "POST" and request.query.get("comp") == "batch"
        return batched or request.method == "DELETE"

    if case["lost_answers"]:
        fault_proxy.inject(Fault.lost_response(), times=case["lost_answers"], when=is_delete)
    with face.JobOutputStorage.from_connection_string(
        proxied_endpoint.connection_string, job_id, **RETRY
    ) as job:
        names = [ref.blob_name for ref in refs]
        summary = _delete_blobs(face, job.container_client, names, batch=case["batch"])
        assert fault_proxy.faults_applied("lost_response") == case["lost_answers"]
        expected = case["expected"]
        assert (summary.deleted, summary.missing, summary.failed) == (
            expected["deleted"], expected["missing"], expected["failed"]
        )  # fmt: skip
        assert _names(job) == set()


def test_a_listing_that_fails_midway_says_how_many_were_deleted_before(
    face: Face, job: Any
) -> None:
    refs = _many(job, 600)
    broken = StorageError(f"could not list blobs in container {job.container_name!r}: reset")

    def listing() -> Iterator[Any]:
        yield from map(unwrapped, refs[:512])  # two whole batches, then the listing fails
        raise broken

    with pytest.raises(DeleteError) as raised:
        job.delete_outputs(listing(), max_concurrency=1)
    error = raised.value
    assert "stopped after 512 were deleted" in str(error)
    assert "could not list blobs" in str(error)
    assert error.failures == (broken,)
    assert error.__cause__ is broken
    assert (error.summary.deleted, error.summary.failed) == (512, 0)
    assert len(_names(job)) == 88
    # A listing that fails before anything was sent raises as it is.
    with pytest.raises(StorageError) as first:
        job.delete_outputs(_failing_at_once(broken))
    assert first.value is broken
    check_the_loop_now(face)


def _failing_at_once(error: StorageError) -> Iterator[OutputFileReference]:
    raise error
    yield  # a generator


def test_delete_takes_from_the_listing_only_as_batches_finish(
    face: Face,
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
) -> None:
    answered = [0]

    def count(response: Any) -> None:
        if response.http_request.method == "POST":
            answered[0] += 1

    ahead: list[int] = []

    def names() -> Iterator[str]:
        for index in range(3000):  # none exists: each is "already gone"
            ahead.append(index - 256 * answered[0])
            yield f"t1/$TaskOutput/none{index:05}"

    prepare_output_storage(blob_service_client, job_id)
    with service_client(face, azurite, raw_response_hook=count) as service:
        client = service.get_container_client(f"job-{job_id}")
        summary = _delete_blobs(face, client, names(), max_concurrency=1)
    assert summary.missing == 3000
    # One request at a time, two in the window: never more than 3 batches' names ahead.
    assert max(ahead) < 3 * 256, max(ahead)
    check_the_loop_now(face)


def test_cli_delete_prints_every_failure_and_the_counts_and_json(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    job = JobOutputStorage.from_service_client(blob_service_client, job_id)
    refs = _many(job, 4)
    leases = [ref.blob_client.acquire_lease() for ref in refs[:2]]
    try:
        text = _invoke("delete", job_id, "--yes", env=_env(azurite))
        for ref in refs[2:]:
            job.task("t1").save_bytes(OUT, b"x", ref.path)
        as_json = _invoke("delete", job_id, "--yes", "--json", env=_env(azurite))
    finally:
        for lease in leases:
            lease.release()
    assert text.exit_code == 1
    said = " ".join(text.stderr.split())
    for ref in refs[:2]:
        assert f"not deleted: could not delete blob {ref.blob_name!r}" in said
    assert "deleted 2 outputs of job" in said
    assert "2 not deleted" in said
    assert said.count("error:") == 1
    assert as_json.exit_code == 1
    data: dict[str, Any] = json.loads(as_json.stdout)
    assert (data["deleted"], data["missing"], data["failed"]) == (2, 0, 2)
    assert [failure["blob"] for failure in data["failures"]] == [ref.blob_name for ref in refs[:2]]
    assert all("could not delete" in failure["error"] for failure in data["failures"])
