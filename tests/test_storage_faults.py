"""The fault suite: every storage operation through a fault-injecting proxy (tests/faultproxy.py).

Each scenario runs one operation (save, save_many, download_to_file, whole-job download,
list_outputs, open) with a fault injected on the requests it makes. Under the retry budget
the result is byte-identical to a clean run; over it, the library's own error and
nothing partial in the destination. Timeouts are short (2 s) so the whole suite stays
well under its CI budget.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from conventions import ConventionsError, DownloadError, StorageError, TaskOutputKind
from conventions.containers import container_name
from conventions.network import TransferLimits, set_transfer_limits
from scripts.azurite import StorageEndpoint

from .face_fixtures import Face
from .faultproxy import Fault, FaultProxy, ProxiedRequest

KIND = TaskOutputKind.TASK_OUTPUT
TASK = "t1"
FILES = {
    "a.txt": b"alpha\n" * 500,
    "sub/b.bin": bytes(range(256)) * 40,
    "sub/deeper/c.csv": b"x,y\n1,2\n",
}
FAST = {"connection_timeout": 2, "read_timeout": 2}
#: The SDK's retry budget here: 3 retries, with back-offs cut to ~0 so the suite is fast.
UNDER_BUDGET = 2
RETRY = {"retry_total": 3, "initial_backoff": 0, "increment_base": 0, "random_jitter_range": 0}


def _is_put(request: ProxiedRequest) -> bool:
    return request.method == "PUT" and request.query.get("restype") != "container"


def _is_blob_get(request: ProxiedRequest) -> bool:
    return request.method == "GET" and request.query.get("comp") != "list"


def _is_list(request: ProxiedRequest) -> bool:
    return request.method == "GET" and request.query.get("comp") == "list"


@contextlib.contextmanager
def _limits(grace: float) -> Iterator[None]:
    previous = set_transfer_limits(TransferLimits(grace=grace, minimum_rate=64 * 1024.0))
    try:
        yield
    finally:
        set_transfer_limits(previous)


@pytest.fixture(autouse=True)
def short_transfer_limits() -> Iterator[None]:
    # Longer than the stalls' read timeouts (2 s each), so a retried stall can still succeed.
    with _limits(8.0):
        yield


@pytest.fixture
def prepared(blob_service_client: BlobServiceClient, job_id: str) -> Iterator[str]:
    """The job's container, with FILES saved (directly, not through the proxy) as t1's."""
    blob_service_client.create_container(container_name(job_id))
    container = blob_service_client.get_container_client(container_name(job_id))
    for path, data in FILES.items():
        container.upload_blob(f"{TASK}/$TaskOutput/{path}", data)
    yield job_id
    container.delete_container()


def _job(face: Face, endpoint: StorageEndpoint, job_id: str, **kwargs: object) -> Any:
    return face.JobOutputStorage.from_connection_string(
        endpoint.connection_string, job_id, **{**FAST, **RETRY, **kwargs}
    )


def _task(face: Face, endpoint: StorageEndpoint, job_id: str, **kwargs: object) -> Any:
    return face.TaskOutputStorage.from_connection_string(
        endpoint.connection_string, job_id, "t2", **{**FAST, **RETRY, **kwargs}
    )


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


# -- operations: each returns what a clean run must reproduce -------------------------------------


def op_download_to_file(face: Face, endpoint: StorageEndpoint, job_id: str, tmp: Path) -> object:
    with _job(face, endpoint, job_id) as job:
        reference = job.task(TASK).get_output(KIND, "sub/b.bin")
        reference.download_to_file(tmp / "dest" / "b.bin")
    return _tree(tmp / "dest")


def op_download(face: Face, endpoint: StorageEndpoint, job_id: str, tmp: Path) -> object:
    with _job(face, endpoint, job_id) as job:
        job.download(KIND, tmp / "dest", max_concurrency=2)
    return _tree(tmp / "dest")


def op_open(face: Face, endpoint: StorageEndpoint, job_id: str, tmp: Path) -> object:
    with _job(face, endpoint, job_id) as job:
        reference = job.task(TASK).reference(KIND, "a.txt")
        with reference.open() as stream:
            return stream.read()


def op_list_outputs(face: Face, endpoint: StorageEndpoint, job_id: str, tmp: Path) -> object:
    with _job(face, endpoint, job_id) as job:
        return [(ref.path, ref.size) for ref in job.task(TASK).list_outputs(KIND)]


def _sources(tmp: Path) -> Path:
    source = tmp / "src"
    for path, data in FILES.items():
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        (source / path).write_bytes(data)
    return source


def _saved(blob_service_client: BlobServiceClient, job_id: str) -> dict[str, bytes]:
    container = blob_service_client.get_container_client(container_name(job_id))
    return {
        blob.name: container.download_blob(blob.name).readall()
        for blob in container.list_blobs(name_starts_with="t2/")
    }


def op_save(face: Face, endpoint: StorageEndpoint, job_id: str, tmp: Path) -> object:
    source = _sources(tmp)
    with _task(face, endpoint, job_id) as storage:
        storage.save(KIND, "sub/b.bin", base_dir=source)
    return None


def op_save_many(face: Face, endpoint: StorageEndpoint, job_id: str, tmp: Path) -> object:
    source = _sources(tmp)
    with _task(face, endpoint, job_id) as storage:
        storage.save_many(KIND, "**/*.*", base_dir=source, max_concurrency=2)
    return None


Operation = Callable[[Face, StorageEndpoint, str, Path], object]
READS: dict[str, tuple[Operation, Callable[[ProxiedRequest], bool]]] = {
    "download_to_file": (op_download_to_file, _is_blob_get),
    "download": (op_download, _is_blob_get),
    "list_outputs": (op_list_outputs, _is_list),
    "open": (op_open, _is_blob_get),
}
WRITES: dict[str, tuple[Operation, Callable[[ProxiedRequest], bool]]] = {
    "save": (op_save, _is_put),
    "save_many": (op_save_many, _is_put),
}
OPERATIONS = {**READS, **WRITES}

#: Faults the SDK retries (status, reset...), each tried under and over the budget. An
#: upload's answer has no body: "mid-response" there is a lost answer, and "stall" sends
#: no head at all.
RETRIED = {
    "reset_mid_request": Fault.reset_mid_request(),
    "reset_mid_response": Fault.reset_mid_response(),
    "refuse_503": Fault.refuse(503),
    "landed_then_500": Fault.landed_then_status(500),
    "stall": Fault.stall(30),
}

#: Every scenario with every operation, but a request cut mid-body only where the request
#: has a body (a GET has none to cut).
CASES = [
    (scenario, operation)
    for scenario in sorted(RETRIED)
    for operation in sorted(OPERATIONS)
    if not (scenario == "reset_mid_request" and operation in READS)
]
FOR_WRITES = {"reset_mid_response": Fault.lost_response(), "stall": Fault.hang(30)}


def _fault(scenario: str, operation: str) -> Fault:
    if operation in WRITES and scenario in FOR_WRITES:
        return FOR_WRITES[scenario]
    return RETRIED[scenario]


def _clean_result(
    face: Face,
    name: str,
    endpoint: StorageEndpoint,
    job_id: str,
    tmp: Path,
    blobs: BlobServiceClient,
) -> object:
    operation, _ = OPERATIONS[name]
    result = operation(face, endpoint, job_id, tmp / "clean")
    return result if name in READS else _saved(blobs, job_id)


def _outcome(
    face: Face,
    name: str,
    endpoint: StorageEndpoint,
    job_id: str,
    tmp: Path,
    blobs: BlobServiceClient,
) -> object:
    operation, _ = OPERATIONS[name]
    result = operation(face, endpoint, job_id, tmp / "faulty")
    return result if name in READS else _saved(blobs, job_id)


@pytest.mark.parametrize(("scenario", "operation"), CASES)
def test_under_the_retry_budget_the_result_is_byte_identical(
    face: Face,
    scenario: str,
    operation: str,
    prepared: str,
    azurite: StorageEndpoint,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    blob_service_client: BlobServiceClient,
    tmp_path: Path,
) -> None:
    clean = _clean_result(face, operation, azurite, prepared, tmp_path, blob_service_client)
    _, when = OPERATIONS[operation]
    fault_proxy.inject(_fault(scenario, operation), times=UNDER_BUDGET, when=when)
    assert (
        _outcome(face, operation, proxied_endpoint, prepared, tmp_path, blob_service_client)
        == clean
    )
    assert fault_proxy.faults_applied() == UNDER_BUDGET


def _nothing_partial(tmp: Path) -> None:
    """No temporary file, and every file present is complete (a whole-job download keeps
    the files it finished; a single download_to_file leaves its target absent)."""
    dest = tmp / "faulty" / "dest"
    found = _tree(dest) if dest.exists() else {}
    assert not [name for name in found if name.endswith(".part")], sorted(found)
    for name, data in found.items():
        expected = FILES.get(name.removeprefix(f"{TASK}/")) or FILES.get(f"sub/{name}")
        assert data == expected, name


def _storage_error(error: ConventionsError) -> StorageError:
    """The storage error behind *error*: a whole-job download finishes what it can and
    reports each output's failure in ``DownloadError`` (every one a ``StorageError`` here)."""
    if isinstance(error, DownloadError):
        assert error.failures
        assert all(isinstance(failure.error, StorageError) for failure in error.failures)
        error = error.failures[0].error
    assert isinstance(error, StorageError), repr(error)
    return error


@pytest.mark.parametrize(("scenario", "operation"), CASES)
def test_over_the_retry_budget_the_librarys_error_and_nothing_partial(
    face: Face,
    scenario: str,
    operation: str,
    prepared: str,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    blob_service_client: BlobServiceClient,
    tmp_path: Path,
) -> None:
    _, when = OPERATIONS[operation]
    fault_proxy.inject(_fault(scenario, operation), times=None, when=when)
    started = time.monotonic()
    with pytest.raises(ConventionsError) as caught:
        _outcome(face, operation, proxied_endpoint, prepared, tmp_path, blob_service_client)
    assert time.monotonic() - started < 30
    error = _storage_error(caught.value)
    assert error.container == container_name(prepared)
    if operation != "list_outputs":
        assert error.blob is not None
        assert error.blob in str(error)
    _nothing_partial(tmp_path)
    if operation == "download_to_file":
        assert not (tmp_path / "faulty" / "dest" / "b.bin").exists()


@pytest.mark.parametrize("operation", sorted(READS))
def test_latency_changes_nothing(
    face: Face,
    operation: str,
    prepared: str,
    azurite: StorageEndpoint,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    blob_service_client: BlobServiceClient,
    tmp_path: Path,
) -> None:
    clean = _clean_result(face, operation, azurite, prepared, tmp_path, blob_service_client)
    fault_proxy.latency = 0.15
    assert (
        _outcome(face, operation, proxied_endpoint, prepared, tmp_path, blob_service_client)
        == clean
    )


@pytest.mark.parametrize("operation", ["download_to_file", "download"])
def test_a_slow_but_fast_enough_trickle_is_byte_identical(
    face: Face,
    operation: str,
    prepared: str,
    azurite: StorageEndpoint,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    blob_service_client: BlobServiceClient,
    tmp_path: Path,
) -> None:
    clean = _clean_result(face, operation, azurite, prepared, tmp_path, blob_service_client)
    fault_proxy.inject(Fault.trickle(nbytes=4096, every=0.05), times=None, when=_is_blob_get)
    assert (
        _outcome(face, operation, proxied_endpoint, prepared, tmp_path, blob_service_client)
        == clean
    )
    assert fault_proxy.faults_applied("trickle") >= 1


@pytest.mark.parametrize("operation", ["download_to_file", "download"])
def test_a_trickling_server_is_abandoned_within_the_transfer_bound(
    face: Face,
    operation: str,
    prepared: str,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    blob_service_client: BlobServiceClient,
    tmp_path: Path,
) -> None:
    # One byte every 0.5 s: each read succeeds, so no read timeout can ever fire.
    fault_proxy.inject(Fault.trickle(nbytes=1, every=0.5), times=None, when=_is_blob_get)
    started = time.monotonic()
    with _limits(2.0), pytest.raises(ConventionsError) as caught:
        _outcome(face, operation, proxied_endpoint, prepared, tmp_path, blob_service_client)
    elapsed = time.monotonic() - started
    error = _storage_error(caught.value)
    assert "did not finish within" in str(error)
    # Each file: grace 2 s + <10 KiB at 64 KiB/s. A whole-job download of 3 files, 2 at a
    # time, may run two rounds; 3 s slack covers the SDK's own re-requests.
    rounds = 1 if operation == "download_to_file" else 2
    assert elapsed < rounds * 2.2 + 3, elapsed
    assert error.container == container_name(prepared)
    assert error.blob is not None
    assert error.blob in str(error)
    _nothing_partial(tmp_path)


def test_download_bytes_is_bounded_too(
    face: Face, prepared: str, proxied_endpoint: StorageEndpoint, fault_proxy: FaultProxy
) -> None:
    fault_proxy.inject(Fault.trickle(nbytes=1, every=0.5), times=None, when=_is_blob_get)
    with _job(face, proxied_endpoint, prepared) as job:
        reference = job.task(TASK).get_output(KIND, "a.txt")
        started = time.monotonic()
        with _limits(2.0), pytest.raises(StorageError, match="did not finish within"):
            reference.download_bytes()
    assert time.monotonic() - started < 6
