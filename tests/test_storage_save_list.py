"""Saving, listing and getting outputs on Azurite: the .NET integration tests, and more.

Parity rows come from .NET ``IntegrationTests/JobOutputStorageTests.cs``,
``TaskOutputStorageTests.cs`` and ``CloudJobExtensionsTests.cs`` (see
``dotnet-parity.md``); each test says which.
"""

from __future__ import annotations

import http.server
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from conventions import (
    ContainerNotFoundError,
    InvalidIdError,
    InvalidKindError,
    InvalidPathError,
    JobOutputKind,
    OutputNotFoundError,
    StorageError,
    TaskOutputKind,
    container_name,
)
from conventions.sas import prepare_output_storage
from scripts.azurite import ACCOUNT_KEY, ACCOUNT_NAME, StorageEndpoint

from .face_fixtures import Face
from .face_support import counting_transport

TASK_ID = "test-task"
XML = '<?xml version="1.0" encoding="utf-8"?><root><résumé a="+%#"/></root>'


@pytest.fixture
def job(
    face: Face, face_service: Any, blob_service_client: BlobServiceClient, job_id: str
) -> Iterator[Any]:
    """The face's ``JobOutputStorage`` (every test that takes it runs on both faces)."""
    prepare_output_storage(blob_service_client, job_id)
    with face.JobOutputStorage.from_service_client(face_service, job_id) as storage:
        yield storage


@pytest.fixture
def task(
    face: Face, face_service: Any, blob_service_client: BlobServiceClient, job_id: str
) -> Iterator[Any]:
    """The face's ``TaskOutputStorage`` (every test that takes it runs on both faces)."""
    prepare_output_storage(blob_service_client, job_id)
    with face.TaskOutputStorage.from_service_client(face_service, job_id, TASK_ID) as storage:
        yield storage


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "Files").mkdir()
    (tmp_path / "Files" / "TestText1.txt").write_text("Test text 1\n", encoding="utf-8")
    (tmp_path / "File" / "Under").mkdir(parents=True)
    (tmp_path / "File" / "Under" / "TestText2.txt").write_text("two\n", encoding="utf-8")
    (tmp_path / "TestTextForOutsideWorkingDirectory.txt").write_bytes(b"outside")
    return tmp_path


def _names(storage: Any) -> list[str]:
    return [blob.name for blob in storage.container_client.list_blobs()]


# -- .NET JobOutputStorageTests / TaskOutputStorageTests ------------------------------------


def test_saved_job_output_is_listed_with_its_url(job: Any, files: Path) -> None:
    source = files / "Files" / "TestText1.txt"
    job.save(JobOutputKind.JOB_OUTPUT, source, destination="TestText1.txt")
    [ref] = job.list_outputs(JobOutputKind.JOB_OUTPUT)
    assert ref.url.endswith(f"{job.container_name}/%24JobOutput/TestText1.txt")
    assert (ref.kind, ref.task_id, ref.path, ref.size) == (
        JobOutputKind.JOB_OUTPUT, None, "TestText1.txt", len("Test text 1\n")
    )


def test_relative_path_uses_current_directory_and_keeps_directories(
    job: Any, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(files)
    ref = job.save(JobOutputKind.JOB_OUTPUT, "Files/TestText1.txt")
    assert ref.blob_name == "$JobOutput/Files/TestText1.txt"
    assert _names(job) == ["$JobOutput/Files/TestText1.txt"]


def test_relative_path_against_base_dir(task: Any, files: Path) -> None:
    ref = task.save(TaskOutputKind.TASK_PREVIEW, "Files/TestText1.txt", base_dir=files)
    assert ref.blob_name == f"{TASK_ID}/$TaskPreview/Files/TestText1.txt"
    assert ref.download_text() == "Test text 1\n"


def test_explicit_destination_renames(task: Any, files: Path) -> None:
    task.save(
        TaskOutputKind.TASK_PREVIEW,
        "Files/TestText1.txt",
        base_dir=files,
        destination="Renamed.txt",
    )
    assert _names(task) == [f"{TASK_ID}/$TaskPreview/Renamed.txt"]


def test_backslash_relative_path_becomes_slashes(task: Any, files: Path) -> None:
    (files / "File\\Under\\TestText2.txt").write_text("two\n")  # a real file on POSIX
    ref = task.save(TaskOutputKind.TASK_PREVIEW, "File\\Under\\TestText2.txt", base_dir=files)
    assert ref.blob_name == f"{TASK_ID}/$TaskPreview/File/Under/TestText2.txt"


def test_multi_level_destination_is_kept_and_gettable(job: Any, files: Path) -> None:
    source = files / "Files" / "TestText1.txt"
    job.save(JobOutputKind.JOB_OUTPUT, source, destination="This/File/Is/Gettable.txt")
    hierarchy = [b.name for b in job.container_client.walk_blobs("$JobOutput/This/File/Is/")]
    assert hierarchy == ["$JobOutput/This/File/Is/Gettable.txt"]
    ref = job.get_output(JobOutputKind.JOB_OUTPUT, "This/File/Is/Gettable.txt")
    assert ref.download_bytes() == source.read_bytes()


def test_get_output_reads_back_identical_bytes(task: Any, files: Path) -> None:
    source = files / "Files" / "TestText1.txt"
    task.save(TaskOutputKind.TASK_PREVIEW, source, destination="TestText1.txt")
    ref = task.get_output(TaskOutputKind.TASK_PREVIEW, "TestText1.txt")
    assert ref.download_bytes() == source.read_bytes()
    assert ref.size == source.stat().st_size


def test_save_text_reads_back_as_same_string(task: Any) -> None:
    ref = task.save_text(TaskOutputKind.TASK_OUTPUT, XML, "TextNotFromFile.xml")
    assert ref.blob_name == f"{TASK_ID}/$TaskOutput/TextNotFromFile.xml"
    assert task.get_output(TaskOutputKind.TASK_OUTPUT, "TextNotFromFile.xml").download_text() == XML
    properties = ref.blob_client.get_blob_properties()
    content_type = properties.content_settings.content_type
    assert content_type in ("application/xml", "text/xml; charset=utf-8")


def test_up_level_parts_are_stripped(task: Any, files: Path) -> None:
    # .NET's test runs on Windows with "..\\"; the local file is found the POSIX way here.
    name = "TestTextForOutsideWorkingDirectory.txt"
    ref = task.save(TaskOutputKind.TASK_OUTPUT, f"../{name}", base_dir=files / "Files")
    assert ref.blob_name == f"{TASK_ID}/$TaskOutput/{name}"
    assert ref.download_bytes() == b"outside"
    ref = task.save(
        TaskOutputKind.TASK_LOG, files / name, destination=f"..\\{name}", base_dir=files
    )
    assert ref.blob_name == f"{TASK_ID}/$TaskLog/{name}"


def test_escaping_path_raises_before_any_request(task: Any, files: Path) -> None:
    # .NET sends it and gets 404 ContainerNotFound; we refuse it (decision D-2).
    with pytest.raises(InvalidPathError):
        task.save(TaskOutputKind.TASK_OUTPUT, "Under\\..\\..\\..\\..\\X.txt", base_dir=files)
    assert _names(task) == []


_EMPTY_DESTINATION_CALLS = {
    "save": lambda storage, kind: storage.save(kind, "a.txt", destination=""),
    "save_text": lambda storage, kind: storage.save_text(kind, "x", ""),
    "save_bytes": lambda storage, kind: storage.save_bytes(kind, b"x", ""),
}


@pytest.mark.parametrize("side", ["task", "job"])
@pytest.mark.parametrize("call", sorted(_EMPTY_DESTINATION_CALLS))
def test_empty_destination_raises_before_any_request(
    face: Face,
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    side: str,
    call: str,
) -> None:
    # .NET throws ArgumentException for an empty destination; so do we (InvalidPathError).
    prepare_output_storage(blob_service_client, job_id)
    (tmp_path / "a.txt").write_text("a")
    monkeypatch.chdir(tmp_path)  # so that save's relative "a.txt" would be found
    counter = counting_transport(face, **azurite.client_kwargs)
    options = {"transport": counter, **azurite.client_kwargs}
    storage: Any
    kind: TaskOutputKind | JobOutputKind
    if side == "task":
        storage = face.TaskOutputStorage.from_connection_string(
            azurite.connection_string, job_id, TASK_ID, **options
        )
        kind = TaskOutputKind.TASK_OUTPUT
    else:
        storage = face.JobOutputStorage.from_connection_string(
            azurite.connection_string, job_id, **options
        )
        kind = JobOutputKind.JOB_OUTPUT
    with storage:
        with pytest.raises(InvalidPathError, match="rule DP-1"):
            _EMPTY_DESTINATION_CALLS[call](storage, kind)
        assert counter.requests == []
        storage.save_bytes(kind, b"x", "x.txt")
        assert counter.requests != []  # the counter does see requests


# -- .NET CloudJobExtensionsTests -----------------------------------------------------------


# Sync only: prepare_output_storage (conventions.sas) has no async twin.
def test_prepare_creates_the_container_and_is_idempotent(
    blob_service_client: BlobServiceClient, job_id: str
) -> None:
    name = container_name(job_id)
    assert not blob_service_client.get_container_client(name).exists()
    assert prepare_output_storage(blob_service_client, job_id) == name
    assert blob_service_client.get_container_client(name).exists()
    assert prepare_output_storage(blob_service_client, job_id) == name


def test_job_storage_save_is_listed_under_the_job_container(
    job: Any, files: Path
) -> None:
    job.save(JobOutputKind.JOB_OUTPUT, "Files/TestText1.txt", base_dir=files)
    [ref] = job.list_outputs(JobOutputKind.JOB_OUTPUT)
    assert ref.url.endswith(f"/{job.container_name}/%24JobOutput/Files/TestText1.txt")


# -- beyond .NET ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["résumé +1.txt", "Testing$/SpecialCharacters%/stdout.txt", "a b/#hash?.txt", "日本/語.bin"],
)
def test_special_and_unicode_names_are_exact(task: Any, path: str) -> None:
    task.save_bytes(TaskOutputKind.TASK_OUTPUT, path.encode(), path)
    [ref] = task.list_outputs(TaskOutputKind.TASK_OUTPUT)
    assert ref.path == path
    assert ref.download_bytes() == path.encode()
    assert task.get_output(TaskOutputKind.TASK_OUTPUT, path).path == path


def test_listing_prefix_is_exact(task: Any, job: Any) -> None:
    task.save_bytes(TaskOutputKind.TASK_OUTPUT, b"1", "a.txt")
    task.save_bytes(TaskOutputKind.custom("TaskOutputFoo"), b"2", "b.txt")
    task.container_client.upload_blob(f"{TASK_ID}/$TaskOutput", b"no folder")  # not an output
    other = job.task(f"{TASK_ID}2")
    other.save_bytes(TaskOutputKind.TASK_OUTPUT, b"3", "c.txt")  # "test-task2" shares a prefix
    job.save_bytes(JobOutputKind.JOB_OUTPUT, b"4", "d.txt")
    job.save_bytes(JobOutputKind.custom("JobOutputX", allow_near_standard=True), b"5", "e.txt")

    assert [r.path for r in task.list_outputs(TaskOutputKind.TASK_OUTPUT)] == ["a.txt"]
    assert [r.path for r in job.list_outputs(JobOutputKind.JOB_OUTPUT)] == ["d.txt"]
    assert task.output_prefix(TaskOutputKind.TASK_OUTPUT) == f"{TASK_ID}/$TaskOutput"
    assert job.output_prefix(JobOutputKind.JOB_OUTPUT) == "$JobOutput"


def test_from_connection_string_and_lazy_listing(
    face: Face, blob_service_client: BlobServiceClient, azurite: StorageEndpoint, job_id: str
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    with face.TaskOutputStorage.from_connection_string(
        azurite.connection_string, job_id, "t", **azurite.client_kwargs
    ) as storage:
        assert storage.container_name == container_name(job_id)
        for i in range(7):
            storage.save_bytes(TaskOutputKind.TASK_LOG, b"x", f"{i}.log")
        iterator = storage.list_outputs(TaskOutputKind.TASK_LOG)
        assert isinstance(next(iterator), face.OutputFileReference)
        assert len(list(iterator)) == 6
        assert "sig=" not in repr(storage)


def test_get_output_of_missing_blob_raises(task: Any) -> None:
    # .NET 4.x returns a reference and fails later (hazard 6); we check now (decision D-20).
    with pytest.raises(OutputNotFoundError) as caught:
        task.get_output(TaskOutputKind.TASK_OUTPUT, "missing.txt")
    assert caught.value.blob == f"{TASK_ID}/$TaskOutput/missing.txt"
    assert caught.value.container == task.container_name
    assert "missing.txt" in str(caught.value)


def test_missing_container_names_prepare_output_storage(
    face: Face, face_service: Any, job_id: str
) -> None:
    with face.TaskOutputStorage.from_service_client(face_service, job_id, "t1") as storage:
        with pytest.raises(ContainerNotFoundError, match="prepare_output_storage") as caught:
            storage.save_bytes(TaskOutputKind.TASK_OUTPUT, b"x", "x.txt")
        assert caught.value.container == container_name(job_id)
        assert isinstance(caught.value.__cause__, Exception)
        with pytest.raises(ContainerNotFoundError):
            list(storage.list_outputs(TaskOutputKind.TASK_OUTPUT))
        with pytest.raises(ContainerNotFoundError):
            storage.get_output(TaskOutputKind.TASK_OUTPUT, "x.txt")


def test_reference_delete_and_open(task: Any) -> None:
    data = bytes(range(256)) * 100
    ref = task.save_bytes(TaskOutputKind.TASK_OUTPUT, data, "data.bin")
    with ref.open() as stream:
        assert stream.read(10) == data[:10]
        assert stream.read() == data[10:]
    assert "sig=" not in repr(ref)
    ref.delete()
    with pytest.raises(OutputNotFoundError):
        task.get_output(TaskOutputKind.TASK_OUTPUT, "data.bin")


def test_save_overwrites(task: Any) -> None:
    task.save_bytes(TaskOutputKind.TASK_OUTPUT, b"first", "x.txt")
    task.save_bytes(TaskOutputKind.TASK_OUTPUT, b"second", "x.txt")
    assert task.get_output(TaskOutputKind.TASK_OUTPUT, "x.txt").download_bytes() == b"second"


def test_save_many_list_and_glob(task: Any, tmp_path: Path) -> None:
    for i in range(20):
        (tmp_path / "logs" / f"d{i % 3}").mkdir(parents=True, exist_ok=True)
        (tmp_path / "logs" / f"d{i % 3}" / f"{i}.log").write_text(str(i))
    (tmp_path / "logs" / "skip.txt").write_text("not a log")
    refs = task.save_many(TaskOutputKind.TASK_LOG, "logs/**/*.log", base_dir=tmp_path)
    assert len(refs) == 20
    listed = {r.path: r.download_text() for r in task.list_outputs(TaskOutputKind.TASK_LOG)}
    assert listed == {f"logs/d{i % 3}/{i}.log": str(i) for i in range(20)}

    explicit = task.save_many(
        TaskOutputKind.TASK_OUTPUT, ["logs/skip.txt", "logs/d0/0.log"], base_dir=tmp_path
    )
    assert [r.path for r in explicit] == ["logs/skip.txt", "logs/d0/0.log"]


def test_save_many_validates_every_path_first(task: Any, tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("ok")
    with pytest.raises(InvalidPathError):
        task.save_many(TaskOutputKind.TASK_OUTPUT, ["ok.txt", "a/../../x"], base_dir=tmp_path)
    assert _names(task) == []


def test_unconventional_blobs_are_skipped_with_a_warning(
    task: Any, caplog: pytest.LogCaptureFixture
) -> None:
    task.save_bytes(TaskOutputKind.TASK_OUTPUT, b"ok", "ok.txt")
    # .NET keeps 'a//b.txt' as given (D-7): read (rule RB-1). A name of a directory is not.
    task.container_client.upload_blob(f"{TASK_ID}/$TaskOutput/a//b.txt", b"odd")
    task.container_client.upload_blob(f"{TASK_ID}/$TaskOutput/dir/", b"odd")
    with caplog.at_level(logging.WARNING, logger="conventions"):
        listed = [r.path for r in task.list_outputs(TaskOutputKind.TASK_OUTPUT)]
    assert listed == ["a//b.txt", "ok.txt"]
    assert "dir/" in caplog.text


def test_kinds_and_ids_are_checked(task: Any, job: Any) -> None:
    with pytest.raises(InvalidKindError):
        task.save_bytes(JobOutputKind.JOB_OUTPUT, b"x", "x")
    with pytest.raises(InvalidKindError):
        list(job.list_outputs(TaskOutputKind.TASK_OUTPUT))
    with pytest.raises(InvalidIdError):
        job.task("a/b")
    with pytest.raises(InvalidPathError):
        task.get_output(TaskOutputKind.TASK_OUTPUT, "")
    with pytest.raises(InvalidPathError):
        task.save(TaskOutputKind.TASK_OUTPUT, "/abs/path.txt")


def test_task_ids_and_job_wide_listing(job: Any) -> None:
    for task_id in ("t2", "t1", "T3"):
        job.task(task_id).save_bytes(TaskOutputKind.TASK_OUTPUT, task_id.encode(), "o.txt")
    job.task("t1").save_bytes(TaskOutputKind.TASK_LOG, b"log", "o.log")
    job.save_bytes(JobOutputKind.JOB_OUTPUT, b"job", "j.txt")
    job.container_client.upload_blob("not a task/x", b"x")

    assert list(job.task_ids()) == ["T3", "t1", "t2"]
    outputs = job.list_task_outputs(TaskOutputKind.TASK_OUTPUT)
    expected = [("T3", "o.txt"), ("t1", "o.txt"), ("t2", "o.txt")]
    assert [(r.task_id, r.path) for r in outputs] == expected
    some = job.list_task_outputs(TaskOutputKind.TASK_OUTPUT, task_ids=["t2", "t1"])
    assert [r.task_id for r in some] == ["t2", "t1"]
    assert [r.path for r in job.task("t1").list_outputs(TaskOutputKind.TASK_LOG)] == ["o.log"]


# -- retries are azure-core's, with the caller's options ------------------------------------


class _Always500(http.server.BaseHTTPRequestHandler):
    """A real HTTP server that answers every request 500, as an overloaded service would."""

    attempts = 0

    def do_PUT(self) -> None:
        type(self).attempts += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(500)
        self.send_header("x-ms-error-code", "InternalError")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def always_500() -> Iterator[tuple[str, type[_Always500]]]:
    handler = type("Handler", (_Always500,), {"attempts": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: connecting is refused at once


def _retry_options(retries: int) -> dict[str, int]:
    # azure-storage-blob's ExponentialRetry: retry_total caps all retries, retry_connect and
    # retry_status (3 by default) cap each cause; no backoff so that the test is quick.
    return {
        "retry_total": retries,
        "retry_connect": retries,
        "retry_status": retries,
        "initial_backoff": 0,
        "increment_base": 0,
        "random_jitter_range": 0,
    }


def _connection_string(endpoint: str) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint={endpoint}/{ACCOUNT_NAME};"
    )


@pytest.mark.parametrize("retries", [0, 2, 5])
def test_caller_retry_options_are_honoured_on_connection_failure(
    face: Face, job_id: str, retries: int
) -> None:
    transport = counting_transport(face)
    task = face.TaskOutputStorage.from_connection_string(
        _connection_string(f"http://127.0.0.1:{_closed_port()}"),
        job_id,
        "t1",
        transport=transport,
        **_retry_options(retries),
    )
    with task, pytest.raises(StorageError) as caught:
        task.save_bytes(TaskOutputKind.TASK_OUTPUT, b"x", "x.txt")
    assert len(transport.requests) == retries + 1
    assert type(caught.value) is StorageError
    assert caught.value.container == container_name(job_id)
    assert caught.value.blob == "t1/$TaskOutput/x.txt"
    assert repr(container_name(job_id)) in str(caught.value)
    assert "'t1/$TaskOutput/x.txt'" in str(caught.value)


@pytest.mark.parametrize("retries", [0, 2, 5])
def test_caller_retry_options_are_honoured_on_server_errors(
    face: Face, always_500: tuple[str, type[_Always500]], job_id: str, retries: int
) -> None:
    endpoint, handler = always_500
    job = face.JobOutputStorage.from_connection_string(
        _connection_string(endpoint), job_id, **_retry_options(retries)
    )
    with job, pytest.raises(StorageError) as caught:
        job.save_bytes(JobOutputKind.JOB_OUTPUT, b"x", "x.txt")
    assert handler.attempts == retries + 1
    assert type(caught.value) is StorageError
    assert caught.value.container == container_name(job_id)
    assert caught.value.blob == "$JobOutput/x.txt"
    assert "HTTP 500" in str(caught.value)
    assert "'$JobOutput/x.txt'" in str(caught.value)
