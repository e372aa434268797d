"""Incremental downloads on Azurite (rules IN-1 to IN-4): what a second run transfers,
counted as GET requests on the wire (a counting transport or the fault proxy's log)."""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient, ContentSettings

from conventions import DownloadError, TaskOutputKind
from conventions.sas import prepare_output_storage
from conventions.storage import JobOutputStorage
from scripts.azurite import StorageEndpoint

from .face_fixtures import Face
from .face_support import counting_transport, service_client
from .faultproxy import Fault, FaultProxy, ProxiedRequest
from .storage_support import tree

KIND = TaskOutputKind.TASK_OUTPUT


def _blob_gets(requests: list[str]) -> list[str]:
    """The blob downloads among recorded requests (``METHOD URL``): GETs that list nothing."""
    return [r for r in requests if r.startswith("GET ") and "comp=list" not in r]


@pytest.fixture
def counted(
    face: Face, azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str
) -> Iterator[tuple[Any, Any]]:
    """The face's ``JobOutputStorage`` and the counting transport under it."""
    transport = counting_transport(face, **azurite.client_kwargs)
    prepare_output_storage(blob_service_client, job_id)
    with service_client(face, azurite, transport=transport) as service:
        yield face.JobOutputStorage.from_service_client(service, job_id), transport


def _seed(job: Any, count: int, size: int = 1000) -> dict[str, bytes]:
    files = {}
    for index in range(count):
        data = os.urandom(size)
        job.task(f"t{index % 3}").save_bytes(KIND, data, f"f{index}.bin")
        files[f"t{index % 3}/f{index}.bin"] = data
    return files


def test_a_second_identical_download_transfers_nothing(
    counted: tuple[Any, Any], tmp_path: Path
) -> None:
    job, transport = counted
    files = _seed(job, 9)
    transport.requests.clear()
    first = job.download(KIND, tmp_path)
    assert (first.files, first.bytes, first.skipped) == (9, 9000, 0)
    assert len(_blob_gets(transport.requests)) == 9
    transport.requests.clear()
    second = job.download(KIND, tmp_path)
    assert _blob_gets(transport.requests) == []
    assert (second.files, second.bytes, second.skipped, second.skipped_bytes) == (0, 0, 9, 9000)
    assert tree(tmp_path) == files
    transport.requests.clear()
    forced = job.download(KIND, tmp_path, overwrite=True)
    assert (forced.files, forced.skipped) == (9, 0)
    assert len(_blob_gets(transport.requests)) == 9


def test_a_blob_rewritten_with_same_size_other_content_is_fetched_again(
    counted: tuple[Any, Any], tmp_path: Path
) -> None:
    job, transport = counted
    _seed(job, 3)
    job.download(KIND, tmp_path)
    # Same size, same second (last-modified alone could not tell): the MD5 does.
    job.task("t1").save_bytes(KIND, b"x" * 1000, "f1.bin")
    transport.requests.clear()
    summary = job.download(KIND, tmp_path)
    assert (summary.files, summary.skipped) == (1, 2)
    assert [r.split("?")[0].rsplit("/", 1)[-1] for r in _blob_gets(transport.requests)] == [
        "f1.bin"
    ]
    assert (tmp_path / "t1" / "f1.bin").read_bytes() == b"x" * 1000


def test_a_local_file_edited_is_fetched_again(counted: tuple[Any, Any], tmp_path: Path) -> None:
    job, transport = counted
    files = _seed(job, 3)
    job.download(KIND, tmp_path)
    edited = tmp_path / "t0" / "f0.bin"
    before = edited.stat()
    edited.write_bytes(b"y" * 1000)  # same size
    os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns))  # even with mtime put back
    (tmp_path / "t2" / "f2.bin").unlink()  # and a file deleted locally
    transport.requests.clear()
    summary = job.download(KIND, tmp_path)
    assert (summary.files, summary.skipped) == (2, 1)
    assert len(_blob_gets(transport.requests)) == 2
    assert tree(tmp_path) == files


def test_blob_without_md5_uses_the_mtime_stamp(counted: tuple[Any, Any], tmp_path: Path) -> None:
    job, transport = counted
    task = job.task("t1")
    client = task.container_client.get_blob_client(task.blob_name(KIND, "log.txt"))
    client.upload_blob(b"0123456789", overwrite=True)
    client.set_http_headers(content_settings=ContentSettings(content_type="text/plain"))
    job.download(KIND, tmp_path)
    local = tmp_path / "t1" / "log.txt"
    modified = client.get_blob_properties().last_modified
    assert local.stat().st_mtime_ns == int(modified.timestamp()) * 10**9  # the stamp
    transport.requests.clear()
    assert job.download(KIND, tmp_path).skipped == 1
    assert _blob_gets(transport.requests) == []
    local.write_bytes(b"abcdefghij")  # same size, new mtime
    assert job.download(KIND, tmp_path).files == 1
    assert local.read_bytes() == b"0123456789"


def test_an_interrupted_download_resumed_fetches_only_the_rest(
    face: Face,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    files = _seed(JobOutputStorage.from_service_client(blob_service_client, job_id), 20)
    gets = 0
    lock = threading.Lock()

    def after_six(request: ProxiedRequest) -> bool:
        nonlocal gets
        if request.method != "GET" or request.query.get("comp") == "list":
            return False
        with lock:
            gets += 1
            return gets > 6

    proxy = fault_proxy
    proxy.inject(Fault.refuse(403), times=None, when=after_six)  # the network goes away
    with face.JobOutputStorage.from_connection_string(
        proxied_endpoint.connection_string, job_id, **proxied_endpoint.client_kwargs
    ) as job:
        with pytest.raises(DownloadError) as interrupted:
            job.download(KIND, tmp_path, max_concurrency=2)
        assert interrupted.value.summary.files == 6
        assert len(tree(tmp_path)) == 6  # complete files only, no .part left
        proxy.clear()
        proxy.log.clear()
        resumed = job.download(KIND, tmp_path)
    # A blob's path has a segment after the container's: /<account>/<container>/<blob>.
    fetched = [path for method, path, _ in proxy.log if method == "GET" and path.count("/") > 2]
    assert len(fetched) == 14
    assert (resumed.files, resumed.skipped) == (14, 6)
    assert tree(tmp_path) == files


def test_progress_moves_during_the_download(
    face: Face,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    _seed(JobOutputStorage.from_service_client(blob_service_client, job_id), 12)
    stamps: list[float] = []
    fault_proxy.latency = 0.05
    with face.JobOutputStorage.from_connection_string(
        proxied_endpoint.connection_string, job_id, **proxied_endpoint.client_kwargs
    ) as job:
        started = time.monotonic()
        job.download(
            KIND,
            tmp_path,
            max_concurrency=2,
            progress=lambda f, b: stamps.append(time.monotonic()),
        )
        ended = time.monotonic()
    assert len(stamps) == 12
    # Calls spread over the download, not bunched at its end.
    assert stamps[0] - started < (ended - started) / 2
    assert max(b - a for a, b in itertools.pairwise(stamps)) < (ended - started) / 2


def test_the_summary_keeps_its_frozen_shape(face: Face) -> None:
    summary = face.DownloadSummary(files=1, bytes=2, seconds=0.5)
    assert (summary.skipped, summary.skipped_bytes) == (0, 0)
    with pytest.raises(AttributeError):
        summary.skipped = 3


def test_watch_yields_outputs_saved_after_it_started_and_stops_when_idle(
    face: Face,
    face_service: Any,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    job = face.JobOutputStorage.from_service_client(face_service, job_id)
    # The saver is another party (a task saving while the client watches): the sync face.
    saver_job = JobOutputStorage.from_service_client(blob_service_client, job_id)
    saver_job.task("t1").save_bytes(KIND, b"early", "a.bin")
    tmp_path.joinpath("t1").mkdir()
    tmp_path.joinpath("t1", "a.bin").write_bytes(b"early")  # already here: skipped

    def later() -> None:
        time.sleep(0.6)
        saver_job.task("t2").save_bytes(KIND, b"late", "b.bin")
        time.sleep(0.6)
        saver_job.task("t1").save_bytes(KIND, b"EARLY", "a.bin")  # changed

    saver = threading.Thread(target=later)
    started = time.monotonic()
    saver.start()
    seen: list[tuple[str, bool, float]] = []
    for result in job.watch(KIND, tmp_path, interval=0.2, idle_exit=1.5):
        assert isinstance(result, face.DownloadedOutput)
        seen.append((result.output.blob_name, result.skipped, time.monotonic() - started))
    saver.join()
    elapsed = time.monotonic() - started
    assert [(name, skipped) for name, skipped, _ in seen] == [
        ("t1/$TaskOutput/a.bin", True),
        ("t2/$TaskOutput/b.bin", False),
        ("t1/$TaskOutput/a.bin", False),
    ]
    assert seen[1][2] >= 0.6  # fetched as they appeared
    assert seen[2][2] >= 1.2
    assert 1.2 + 1.5 <= elapsed < 1.2 + 1.5 + 2.0  # then idle for idle_exit seconds
    assert tree(tmp_path) == {"t1/a.bin": b"EARLY", "t2/b.bin": b"late"}


def test_on_bytes_reports_chunks_of_a_large_file_as_they_arrive(
    face: Face,
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    data = os.urandom(300_000)
    JobOutputStorage.from_service_client(blob_service_client, job_id).task("t1").save_bytes(
        KIND, data, "big.bin"
    )
    chunks: list[tuple[str, int]] = []
    with face.JobOutputStorage.from_connection_string(
        azurite.connection_string,
        job_id,
        max_single_get_size=64 * 1024,
        max_chunk_get_size=64 * 1024,
        **azurite.client_kwargs,
    ) as job:
        job.download(KIND, tmp_path, on_bytes=lambda ref, n: chunks.append((ref.path, n)))
    assert len(chunks) == 5  # 300,000 bytes in 64 KiB chunks
    assert sum(n for _, n in chunks) == len(data)
    assert {path for path, _ in chunks} == {"big.bin"}
    assert (tmp_path / "t1" / "big.bin").read_bytes() == data
