"""Downloading on Azurite: whole jobs, atomic files, hostile blob names, and a property test."""

from __future__ import annotations

import errno
import logging
import stat
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ServiceResponseError
from azure.core.pipeline.transport import (
    AioHttpTransport,
    HttpTransport,
    RequestsTransport,
)
from azure.storage.blob import BlobServiceClient, ContainerClient
from azure.storage.blob.aio import ContainerClient as AsyncContainerClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conventions import (
    DownloadError,
    InvalidKindError,
    JobOutputKind,
    LocalPathError,
    StorageError,
    TaskOutputKind,
    container_name,
)
from conventions.sas import output_container_url, prepare_output_storage
from scripts.azurite import StorageEndpoint

from .face_fixtures import Face
from .storage_support import put_raw, tree
from .strategies import normal_paths

HOSTILE = ["t/$TaskOutput/../../x", "t/$TaskOutput/a/../../../y", "t/$TaskOutput/..\\..\\z"]


@pytest.fixture
def job(
    face: Face, face_service: Any, blob_service_client: BlobServiceClient, job_id: str
) -> Iterator[Any]:
    """The face's ``JobOutputStorage`` (every test that takes it runs on both faces)."""
    prepare_output_storage(blob_service_client, job_id)
    with face.JobOutputStorage.from_service_client(face_service, job_id) as storage:
        yield storage


def test_download_outputs_downloads_exactly_the_given_selection(
    job: Any, tmp_path: Path
) -> None:
    for task_id in ("t1", "t2"):
        job.task(task_id).save_bytes(TaskOutputKind.TASK_OUTPUT, task_id.encode(), "a.bin")
        job.task(task_id).save_bytes(TaskOutputKind.TASK_OUTPUT, b"big" * 10, "b.bin")
    listed = list(job.list_task_outputs(TaskOutputKind.TASK_OUTPUT))
    chosen = [ref for ref in listed if ref.path == "a.bin"]
    seen: list[tuple[int, int]] = []
    summary = job.download_outputs(chosen, tmp_path, progress=lambda f, b: seen.append((f, b)))
    assert tree(tmp_path) == {"t1/a.bin": b"t1", "t2/a.bin": b"t2"}
    assert (summary.files, summary.bytes) == (2, 4)
    assert seen[-1] == (2, 4)


def test_download_task_kind_writes_task_folders(
    face: Face, job: Any, tmp_path: Path
) -> None:
    job.task("t1").save_bytes(TaskOutputKind.TASK_OUTPUT, b"one", "a/b.txt")
    job.task("t2").save_bytes(TaskOutputKind.TASK_OUTPUT, b"two!", "c.txt")
    job.task("t2").save_bytes(TaskOutputKind.TASK_LOG, b"log", "stdout.txt")
    job.save_bytes(JobOutputKind.JOB_OUTPUT, b"job", "summary.csv")
    events: list[tuple[int, int]] = []

    summary = job.download(
        TaskOutputKind.TASK_OUTPUT, tmp_path / "out", progress=lambda f, b: events.append((f, b))
    )
    assert tree(tmp_path / "out") == {"t1/a/b.txt": b"one", "t2/c.txt": b"two!"}
    assert (summary.files, summary.bytes) == (2, 7)
    assert summary.seconds >= 0
    assert isinstance(summary, face.DownloadSummary)
    assert [files for files, _ in events] == [1, 2]
    assert events[-1] == (2, 7)

    job.download(JobOutputKind.JOB_OUTPUT, tmp_path / "job")
    assert tree(tmp_path / "job") == {"summary.csv": b"job"}

    only = job.download(TaskOutputKind.TASK_LOG, tmp_path / "logs", task_ids=["t2"])
    assert tree(tmp_path / "logs") == {"t2/stdout.txt": b"log"}
    assert only.files == 1

    with pytest.raises(InvalidKindError):
        job.download(JobOutputKind.JOB_OUTPUT, tmp_path / "x", task_ids=["t1"])


def test_download_of_empty_kind_is_empty(job: Any, tmp_path: Path) -> None:
    summary = job.download(TaskOutputKind.TASK_PREVIEW, tmp_path / "none")
    assert (summary.files, summary.bytes) == (0, 0)
    assert tree(tmp_path / "none") == {}


def test_sdk_cannot_write_dot_segments(job: Any) -> None:
    """Why hostile names go through ``put_raw``: the SDK's URL loses its dot segments, so
    its shared-key signature no longer matches and the service answers 403.

    This pins a precondition of ``test_hostile_blob_names_never_escape_dest`` (a fact about
    azure-storage-blob and the service), not behaviour of this library: if it ever fails,
    the SDK can write such names and that test could use it instead of ``put_raw``.
    """
    with pytest.raises(HttpResponseError) as caught:
        job.container_client.upload_blob(HOSTILE[0], b"evil")
    assert caught.value.status_code == 403
    assert [b.name for b in job.container_client.list_blobs()] == []


def test_hostile_blob_names_never_escape_dest(
    blob_service_client: BlobServiceClient,
    job: Any,
    job_id: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = output_container_url(blob_service_client, job_id, permissions="rcwl")
    for name in HOSTILE:
        put_raw(url, name, b"evil")
    job.task("t").save_bytes(TaskOutputKind.TASK_OUTPUT, b"good", "ok.txt")
    stored = {b.name for b in job.container_client.list_blobs()}
    assert "t/$TaskOutput/../../x" in stored  # Azurite really holds the hostile name
    dest = tmp_path / "a" / "dest"

    with caplog.at_level(logging.WARNING, logger="conventions"):
        summary = job.download(TaskOutputKind.TASK_OUTPUT, dest)

    assert summary.files == 1
    assert tree(tmp_path) == {"a/dest/t/ok.txt": b"good"}
    assert "../../x" in caplog.text
    assert [r.path for r in job.task("t").list_outputs(TaskOutputKind.TASK_OUTPUT)] == ["ok.txt"]


def test_download_refuses_a_target_that_resolves_outside_dest(
    job: Any, tmp_path: Path
) -> None:
    job.task("t1").save_bytes(TaskOutputKind.TASK_OUTPUT, b"x", "x.txt")
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    (dest / "t1").symlink_to(outside, target_is_directory=True)
    with pytest.raises(DownloadError, match="symbolic link") as caught:
        job.download(TaskOutputKind.TASK_OUTPUT, dest)
    [failure] = caught.value.failures
    assert isinstance(failure.error, LocalPathError)
    assert failure.error.errno == errno.ELOOP
    assert failure.local_path == str(dest / "t1" / "x.txt")
    assert list(outside.iterdir()) == []


class _FailingTransport(HttpTransport):  # type: ignore[type-arg]
    """A real HTTP transport (requests) that fails the n-th blob GET, as a dropped
    connection would."""

    def __init__(self, fail_on_get: int) -> None:
        self.inner: Any = RequestsTransport()
        self.fail_on_get = fail_on_get
        self.gets = 0

    def send(self, request: Any, **kwargs: Any) -> Any:
        if request.method == "GET" and "%24TaskOutput" in request.url:
            self.gets += 1
            if self.gets == self.fail_on_get:
                raise ServiceResponseError("injected: connection dropped mid-download")
        return self.inner.send(request, **kwargs)

    def open(self) -> None:
        self.inner.open()

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> _FailingTransport:
        self.inner.__enter__()
        return self

    def __exit__(self, *args: object) -> None:
        self.inner.__exit__(*args)


class _AsyncFailingTransport(AioHttpTransport):  # type: ignore[misc]
    """``_FailingTransport`` for the async face: a real aiohttp transport that fails the
    n-th blob GET. A subclass, not a wrapper: through a wrapping ``AsyncHttpTransport``
    Azurite refused every request (403 AuthorizationFailure; cause not investigated)."""

    def __init__(self, fail_on_get: int) -> None:
        super().__init__()
        self.fail_on_get = fail_on_get
        self.gets = 0

    async def send(self, request: Any, **kwargs: Any) -> Any:
        if request.method == "GET" and "%24TaskOutput" in request.url:
            self.gets += 1
            if self.gets == self.fail_on_get:
                raise ServiceResponseError("injected: connection dropped mid-download")
        return await super().send(request, **kwargs)


def test_failed_download_leaves_nothing_behind(
    face: Face, azurite: StorageEndpoint, job: Any, job_id: str, tmp_path: Path
) -> None:
    data = bytes(range(256)) * 40  # 10 KiB: ten 1 KiB GETs
    job.task("t1").save_bytes(TaskOutputKind.TASK_OUTPUT, data, "big.bin")
    transport: Any
    client_class: Any
    if face.is_async:
        transport, client_class = _AsyncFailingTransport(fail_on_get=3), AsyncContainerClient
    else:
        transport, client_class = _FailingTransport(fail_on_get=3), ContainerClient
    client = client_class.from_connection_string(
        azurite.connection_string,
        container_name(job_id),
        transport=transport,
        retry_total=0,
        max_single_get_size=1024,
        max_chunk_get_size=1024,
        **azurite.client_kwargs,
    )
    with face.TaskOutputStorage(client, "t1") as task:
        ref = task.get_output(TaskOutputKind.TASK_OUTPUT, "big.bin")
        target = tmp_path / "dir" / "big.bin"
        with pytest.raises(StorageError, match="injected"):
            ref.download_to_file(target, max_concurrency=1)  # one chunk at a time: exact GETs
        assert transport.gets == 3
        assert list((tmp_path / "dir").iterdir()) == []  # no partial file, no temp file

        target.write_bytes(b"previous")
        transport.gets, transport.fail_on_get = 0, 2
        with pytest.raises(StorageError):
            ref.download_to_file(target)  # parallel chunks (the default): the same
        assert target.read_bytes() == b"previous"  # untouched
        assert [p.name for p in (tmp_path / "dir").iterdir()] == ["big.bin"]

        transport.fail_on_get = 0
        assert ref.download_to_file(target) == target
        assert target.read_bytes() == data


def test_download_to_file_overwrites_and_creates_parents(
    job: Any, tmp_path: Path
) -> None:
    ref = job.save_bytes(JobOutputKind.JOB_OUTPUT, b"new", "n.txt")
    target = tmp_path / "x" / "y" / "n.txt"
    ref.download_to_file(target)
    ref.download_to_file(str(target))
    assert tree(tmp_path) == {"x/y/n.txt": b"new"}


def test_downloaded_files_get_the_mode_a_plain_open_gives(
    job: Any, tmp_path: Path
) -> None:
    ref = job.save_bytes(JobOutputKind.JOB_OUTPUT, b"x", "m.txt")
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"x")  # created by open(), under the process umask
    downloaded = ref.download_to_file(tmp_path / "m.txt")
    assert stat.S_IMODE(downloaded.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


# -- property: whatever is saved lists and downloads back exactly ----------------------------

_Key = tuple[str | None, str]  # (task id or None, kind text)
_TASK_KINDS = [TaskOutputKind.TASK_OUTPUT, TaskOutputKind.TASK_LOG, TaskOutputKind.custom("Extra")]
_JOB_KINDS = [
    JobOutputKind.JOB_OUTPUT,
    JobOutputKind.custom("JobOutputX", allow_near_standard=True),
]

_entries = st.lists(
    st.tuples(
        st.sampled_from(["t1", "t2", "Task_3", None]),
        st.integers(min_value=0, max_value=2),
        normal_paths(),
        st.binary(max_size=300),
    ),
    min_size=1,
    max_size=12,
)


def _conflicts(path: str, kept: set[str]) -> bool:
    """True if one of the two is a folder of the other (a file cannot also be a directory)."""
    return any(path.startswith(k + "/") or k.startswith(path + "/") or k == path for k in kept)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(entries=_entries)
def test_saved_outputs_list_and_download_back_exactly(
    face: Face,
    face_service: Any,
    blob_service_client: BlobServiceClient,
    entries: list[tuple[str | None, int, str, bytes]],
) -> None:
    job_id = f"prop-{uuid.uuid4().hex[:12]}"
    prepare_output_storage(blob_service_client, job_id)
    expected: dict[_Key, dict[str, bytes]] = {}
    kept: dict[_Key, set[str]] = {}
    key: _Key
    try:
        with face.JobOutputStorage.from_service_client(face_service, job_id) as job:
            for task_id, kind_index, path, data in entries:
                if task_id is None:
                    job_kind = _JOB_KINDS[kind_index % 2]
                    key = (None, job_kind.text)
                    if _conflicts(path, kept.setdefault(key, set())):
                        continue
                    job.save_bytes(job_kind, data, path)
                else:
                    task_kind = _TASK_KINDS[kind_index]
                    key = (task_id, task_kind.text)
                    if _conflicts(path, kept.setdefault(key, set())):
                        continue
                    job.task(task_id).save_bytes(task_kind, data, path)
                kept[key].add(path)
                expected.setdefault(key, {})[path] = data

            for task_kind in _TASK_KINDS:
                want = {
                    f"{task}/{path}": data
                    for (task, text), files in expected.items()
                    if task is not None and text == task_kind.text
                    for path, data in files.items()
                }
                listed = {
                    f"{r.task_id}/{r.path}": r.size for r in job.list_task_outputs(task_kind)
                }
                assert listed == {name: len(data) for name, data in want.items()}
                with tempfile.TemporaryDirectory() as dest:
                    summary = job.download(task_kind, dest, max_concurrency=4)
                    assert tree(Path(dest)) == want
                    assert summary.files == len(want)
                    assert summary.bytes == sum(len(d) for d in want.values())
            for job_kind in _JOB_KINDS:
                want = expected.get((None, job_kind.text), {})
                assert {r.path: r.download_bytes() for r in job.list_outputs(job_kind)} == want
                with tempfile.TemporaryDirectory() as dest:
                    job.download(job_kind, dest)
                    assert tree(Path(dest)) == want
    finally:
        blob_service_client.delete_container(container_name(job_id))
