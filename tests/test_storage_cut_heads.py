"""Cut response heads (issue 19, rule IG-5): a connection that closes inside the head of a
request, the first or any later one of a download, never yields a wrong file, a short
file, a foreign exception or a success for nothing done.

Under the retry budget the result is byte-identical to a clean run; over it, the library's
own error naming container and blob, and nothing left at the destination. Blobs with a
stored Content-MD5 and without one (append blobs: tracked logs) are both covered: the
promise is "every byte, in order, or our error" either way.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient

from conventions import ConventionsError, DownloadError, StorageError, TaskOutputKind
from conventions.containers import container_name
from scripts.azurite import StorageEndpoint

from .face_fixtures import Face
from .faultproxy import Fault, FaultProxy, ProxiedRequest
from .storage_support import tree

KIND = TaskOutputKind.TASK_OUTPUT
TASK = "t1"
FAST = {"connection_timeout": 2, "read_timeout": 2}
RETRY = {"retry_total": 3, "initial_backoff": 0, "increment_base": 0, "random_jitter_range": 0}
#: 10 MiB: three GETs on the library's client (4 MiB first request, then 4 + 2 MiB).
DATA = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(10 * 1024 * 1024 // 32))
BLOBS = {"appended": "log.txt", "with-md5": "data.bin"}


@pytest.fixture(scope="module")
def job(blob_service_client: BlobServiceClient) -> Iterator[str]:
    """A job whose t1 holds DATA twice: as an append blob (no MD5) and a block blob (MD5)."""
    job_id = f"test-{uuid.uuid4().hex[:8]}"
    container = blob_service_client.create_container(container_name(job_id))
    appended = container.get_blob_client(f"{TASK}/$TaskOutput/{BLOBS['appended']}")
    appended.create_append_blob()
    for start in range(0, len(DATA), 4 * 1024 * 1024):
        appended.append_block(DATA[start : start + 4 * 1024 * 1024])
    container.upload_blob(f"{TASK}/$TaskOutput/{BLOBS['with-md5']}", DATA)
    assert appended.get_blob_properties().content_settings.content_md5 is None
    yield job_id
    container.delete_container()


def _nth_blob_get(n: int) -> Callable[[ProxiedRequest], bool]:
    """The *n*-th blob GET (from 1) and, with the fault's ``times``, those after it."""
    seen = [0]

    def when(request: ProxiedRequest) -> bool:
        if request.method != "GET" or request.query.get("comp") == "list":
            return False
        seen[0] += 1
        return seen[0] >= n

    return when


def _storage(face: Face, endpoint: StorageEndpoint, job_id: str) -> Any:
    return face.JobOutputStorage.from_connection_string(
        endpoint.connection_string, job_id, **FAST, **RETRY
    )


def _download_to_file(mc: int) -> Callable[[Any, str, Path], bytes]:
    def run(job: Any, name: str, dest: Path) -> bytes:
        reference = job.task(TASK).get_output(KIND, name)
        reference.download_to_file(dest / name, max_concurrency=mc)
        return (dest / name).read_bytes()

    return run


def _download_bytes(job: Any, name: str, _dest: Path) -> bytes:
    data: bytes = job.task(TASK).get_output(KIND, name).download_bytes(max_concurrency=4)
    return data


def _whole_job(job: Any, name: str, dest: Path) -> bytes:
    outputs = [ref for ref in job.list_task_outputs(KIND) if ref.path == name]
    job.download_outputs(outputs, dest, max_concurrency=2)
    return (dest / TASK / name).read_bytes()


OPERATIONS: dict[str, Callable[[Any, str, Path], bytes]] = {
    "download_to_file-mc1": _download_to_file(1),
    "download_to_file-mc4": _download_to_file(4),
    "download_bytes": _download_bytes,
    "whole-job": _whole_job,
}
#: Where the head is cut: inside the status line, after a bare status line, and with
#: every header but the empty line that ends the head.
CUTS = {"status": 9, "bare-status": 17, "all-but-end": -2}


@pytest.mark.parametrize("blob", sorted(BLOBS))
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize(("cut", "reset"), [("bare-status", False), ("all-but-end", True)])
@pytest.mark.parametrize("nth", [2, 3])
def test_a_cut_head_after_the_first_request_is_retried_to_the_same_bytes(
    face: Face,
    blob: str,
    operation: str,
    cut: str,
    reset: bool,
    nth: int,
    job: str,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    tmp_path: Path,
) -> None:
    fault_proxy.inject(Fault.cut_head(CUTS[cut], reset=reset), times=1, when=_nth_blob_get(nth))
    with _storage(face, proxied_endpoint, job) as storage:
        data = OPERATIONS[operation](storage, BLOBS[blob], tmp_path)
    assert fault_proxy.faults_applied("cut_head") == 1
    assert len(data) == len(DATA)
    assert data == DATA


@pytest.mark.parametrize("blob", sorted(BLOBS))
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_cut_heads_past_the_retry_budget_are_the_librarys_error_and_leave_nothing(
    face: Face,
    blob: str,
    operation: str,
    job: str,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    tmp_path: Path,
) -> None:
    fault_proxy.inject(Fault.cut_head(CUTS["bare-status"]), times=None, when=_nth_blob_get(2))
    with (
        _storage(face, proxied_endpoint, job) as storage,
        pytest.raises(ConventionsError) as caught,
    ):
        OPERATIONS[operation](storage, BLOBS[blob], tmp_path)
    error = caught.value
    if isinstance(error, DownloadError):
        assert len(error.failures) == 1
        error = error.failures[0].error
    assert isinstance(error, StorageError), repr(error)
    assert error.container == container_name(job)
    assert error.blob == f"{TASK}/$TaskOutput/{BLOBS[blob]}"
    assert tree(tmp_path) == {}  # no file, no .part


@pytest.mark.parametrize("nbytes", [0, 9, 17, 60, 200, -40, -2])
@pytest.mark.parametrize("reset", [False, True])
def test_a_cut_head_anywhere_in_the_head_never_leaves_a_hole(
    face: Face,
    nbytes: int,
    reset: bool,
    job: str,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    tmp_path: Path,
) -> None:
    # Parallel chunks into a file, no MD5 to catch a hole: the case that wrote zeros.
    fault_proxy.inject(Fault.cut_head(nbytes, reset=reset), times=1, when=_nth_blob_get(2))
    with _storage(face, proxied_endpoint, job) as storage:
        data = _download_to_file(4)(storage, BLOBS["appended"], tmp_path)
    assert data == DATA


#: Other operations, every answer cut: the library's error, never a foreign exception
#: (ValueError, AttributeError, DeserializationError) and never a success.
OTHERS: dict[str, Callable[[Any, ContainerClient], object]] = {
    "get_output": lambda job, _: job.task(TASK).get_output(KIND, BLOBS["with-md5"]),
    "list_outputs": lambda job, _: list(job.task(TASK).list_outputs(KIND)),
    "save_bytes": lambda job, _: job.task("t9").save_bytes(KIND, b"new", "n.txt"),
    "open": lambda job, _: job.task(TASK).reference(KIND, BLOBS["with-md5"]).open().read(),
    "delete": lambda job, _: job.task("t8").reference(KIND, "gone.txt").delete(),
}


@pytest.mark.parametrize("operation", sorted(OTHERS))
@pytest.mark.parametrize("nbytes", [17, -2])
def test_every_operation_turns_cut_heads_into_the_librarys_error(
    face: Face,
    operation: str,
    nbytes: int,
    job: str,
    blob_service_client: BlobServiceClient,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
) -> None:
    container = blob_service_client.get_container_client(container_name(job))
    container.upload_blob("t8/$TaskOutput/gone.txt", b"x", overwrite=True)
    fault_proxy.inject(Fault.cut_head(nbytes), times=None)
    with _storage(face, proxied_endpoint, job) as storage, pytest.raises(StorageError) as caught:
        OTHERS[operation](storage, container)
    assert caught.value.container == container_name(job)
    assert fault_proxy.faults_applied("cut_head") >= 2  # retried before giving up
