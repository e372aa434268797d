"""Tracked save (conventions.tracked) against a real Blob service (Azurite).

Requests are observed, and a lost response is injected, by a transport below azure-core's
retry policy: real HTTP, no mocks.
"""

from __future__ import annotations

import datetime
import logging
import os
import pickle
import random
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from azure.core.exceptions import ServiceResponseError
from azure.core.pipeline.transport import AioHttpTransport, RequestsTransport
from azure.storage.blob import (
    BlobServiceClient,
    ContainerClient,
    ContainerSasPermissions,
    LinearRetry,
    generate_container_sas,
)
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from conventions import (
    AccessDeniedError,
    ContainerNotFoundError,
    StorageError,
    TaskOutputKind,
    container_name,
    task_blob_name,
)
from conventions.tracked import (
    MAX_APPEND_BLOB_SIZE,
    MAX_APPEND_BLOCK_SIZE,
    AppendBlobLimitError,
    AppendConflictError,
    TrackedBlobExistsError,
    TrackedFile,
    TrackedFileChangedError,
    TrackedFileMissingError,
    TrackedFileReplacedError,
    TrackedFileTruncatedError,
    TrackingError,
)
from scripts.azurite import StorageEndpoint

from .face_fixtures import Face
from .tracked_faces import TrackedFace
from .vectors import cases

BLOB = task_blob_name("task-1", TaskOutputKind.TASK_LOG, "stdout.txt")

ERRORS: dict[str, type[TrackingError]] = {
    cls.__name__: cls
    for cls in (
        AppendBlobLimitError,
        AppendConflictError,
        TrackedBlobExistsError,
        TrackedFileChangedError,
        TrackedFileMissingError,
        TrackedFileReplacedError,
        TrackedFileTruncatedError,
    )
}


class RecordingTransport(RequestsTransport):  # type: ignore[misc]  # lazily exported: Any
    """Records every request that reaches the wire; optionally loses append responses.

    It sits below the retry policy, so a lost response is retried by azure-core like a
    real one. ``on_append`` runs before each append request is sent.
    """

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, int]] = []  # (method, comp, status)
        self.lose_appends = 0
        self.lost = 0
        self.on_append: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def send(self, request: Any, **kwargs: Any) -> Any:
        comp = parse_qs(urlparse(request.url).query).get("comp", [""])[0]
        if comp == "appendblock" and self.on_append is not None:
            self.on_append()
        response = super().send(request, **kwargs)
        with self._lock:
            self.sent.append((request.method, comp, response.status_code))
            lose = comp == "appendblock" and self.lost < self.lose_appends
            if lose:
                self.lost += 1
        if lose:
            # The append landed on the server; its response never arrives.
            raise ServiceResponseError("connection reset (injected by the test)")
        return response

    def appends(self) -> list[int]:
        """Status codes of the append requests sent so far."""
        with self._lock:
            return [status for _, comp, status in self.sent if comp == "appendblock"]

    def count(self) -> int:
        with self._lock:
            return len(self.sent)


@pytest.fixture
def recording(azurite: StorageEndpoint, job_id: str) -> Iterator[tuple[ContainerClient, Any]]:
    """A fresh container reached through a RecordingTransport, retrying without delay."""
    transport = RecordingTransport()
    with BlobServiceClient.from_connection_string(
        azurite.connection_string,
        transport=transport,
        retry_policy=LinearRetry(backoff=0, random_jitter_range=0),
        **azurite.client_kwargs,
    ) as service:
        container = service.create_container(container_name(job_id))
        transport.sent.clear()
        yield container, transport


class AsyncRecordingTransport(AioHttpTransport):  # type: ignore[misc]  # lazily exported: Any
    """The async face's recorder: every request that reaches the wire (method, comp,
    status), for the same counts as ``RecordingTransport``."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()

    async def send(self, request: Any, **kwargs: Any) -> Any:
        comp = parse_qs(urlparse(request.url).query).get("comp", [""])[0]
        response = await super().send(request, **kwargs)
        with self._lock:
            self.sent.append((request.method, comp, response.status_code))
        return response

    def appends(self) -> list[int]:
        """Status codes of the append requests sent so far."""
        with self._lock:
            return [status for _, comp, status in self.sent if comp == "appendblock"]


@pytest.fixture
def recorded(
    face: Face, azurite: StorageEndpoint, job_id: str
) -> Iterator[tuple[Any, ContainerClient, Any]]:
    """The tracker's container client of the face under test, through a recording transport
    (retrying without delay), and a sync client on the same fresh container to look."""
    with BlobServiceClient.from_connection_string(
        azurite.connection_string, **azurite.client_kwargs
    ) as observer:
        container = observer.create_container(container_name(job_id))
        if face.portal is None:
            transport: Any = RecordingTransport()
            with BlobServiceClient.from_connection_string(
                azurite.connection_string,
                transport=transport,
                retry_policy=LinearRetry(backoff=0, random_jitter_range=0),
                **azurite.client_kwargs,
            ) as service:
                yield service.get_container_client(container.container_name), container, transport
            return
        import azure.storage.blob.aio as blob_aio

        transport = face.portal.call(AsyncRecordingTransport)
        aio_service = face.portal.call(
            blob_aio.BlobServiceClient.from_connection_string,
            azurite.connection_string,
            transport=transport,
            retry_policy=blob_aio.LinearRetry(backoff=0, random_jitter_range=0),
            **azurite.client_kwargs,
        )
        with aio_service:
            yield aio_service.get_container_client(container.container_name), container, transport


@pytest.fixture
def container(blob_service_client: BlobServiceClient, job_id: str) -> ContainerClient:
    return blob_service_client.create_container(container_name(job_id))


def blob_bytes(container: ContainerClient, name: str = BLOB) -> bytes:
    return container.download_blob(name).readall()


# -- scenario vectors (spec/vectors/tracked.json) ----------------------------------------------


@pytest.mark.parametrize("case", cases("tracked.json"))
def test_tracked_vector(
    case: dict[str, Any],
    face: Face,
    recorded: tuple[Any, ContainerClient, Any],
    tmp_path: Path,
) -> None:
    # On both faces: the async one's TrackedFile is driven through the portal.
    client, container, transport = recorded
    source = tmp_path / "stdout.txt"
    if not case.get("no_file"):
        source.write_bytes(b"")
    if "existing_blob" in case:
        container.upload_blob(BLOB, case["existing_blob"].encode())
    tracked = TrackedFace(face).TrackedFile(
        client, BLOB, source, flush_interval=3600, **case.get("options", {})
    )
    if "start_raises" in case:
        with pytest.raises(ERRORS[case["start_raises"]]) as info:
            tracked.start()
        assert info.value.container == container.container_name
        assert info.value.blob == BLOB
        assert blob_bytes(container) == case["existing_blob"].encode()
        return
    tracked.start()
    for step in case["steps"]:
        if "write" in step:
            with source.open("ab") as out:
                out.write(step["write"].encode())
        elif "rewrite" in step:  # in place, from the start, same inode
            with source.open("r+b") as out:
                out.write(step["rewrite"].encode())
        elif "truncate" in step:
            os.truncate(source, step["truncate"])
        elif "replace" in step:
            other = tmp_path / "other.txt"
            other.write_bytes(step["replace"].encode())
            os.replace(other, source)
        elif "remove" in step:
            source.unlink()
        elif "flush" in step:
            before = len(transport.appends())
            tracked.flush()
            assert len(transport.appends()) - before == step["requests"]
            assert blob_bytes(container) == step["flush"].encode()
        elif "flush_raises" in step:
            with pytest.raises(ERRORS[step["flush_raises"]]):
                tracked.flush()
        elif "close" in step:
            tracked.close()
            assert blob_bytes(container) == step["close"].encode() == source.read_bytes()
        elif "close_raises" in step:
            with pytest.raises(ERRORS[step["close_raises"]]) as raised:
                tracked.close()
            assert raised.value.errors[0] is raised.value
            assert blob_bytes(container) == step["blob"].encode()
        else:
            raise AssertionError(f"unknown step {step}")
    assert tracked.closed


# -- Hypothesis: random writes, flushes and pauses with a live background thread ---------------


class TrackedMachine(RuleBasedStateMachine):
    def __init__(self, service: BlobServiceClient, base: Path) -> None:
        super().__init__()
        self.container = service.create_container(f"tracked-{uuid.uuid4().hex[:12]}")
        self.dir = Path(tempfile.mkdtemp(dir=base))
        self.path = self.dir / "log.txt"
        self.written = bytearray()
        self.tracked: TrackedFile | None = None

    @initialize(
        interval=st.sampled_from([0.005, 0.02, 0.2]),
        block_size=st.sampled_from([16, 256, MAX_APPEND_BLOCK_SIZE]),
        exists=st.booleans(),
    )
    def start(self, interval: float, block_size: int, exists: bool) -> None:
        if exists:
            self.path.write_bytes(b"")
        self.tracked = TrackedFile(
            self.container, BLOB, self.path, flush_interval=interval, block_size=block_size
        ).start()

    @rule(chunk=st.binary(max_size=200))
    def append(self, chunk: bytes) -> None:
        with self.path.open("ab") as out:
            out.write(chunk)
        self.written += chunk

    @rule()
    def flush(self) -> None:
        assert self.tracked is not None
        self.tracked.flush()
        assert blob_bytes(self.container) == bytes(self.written)
        assert self.tracked.uploaded == len(self.written)

    @rule(seconds=st.floats(min_value=0, max_value=0.03))
    def pause(self, seconds: float) -> None:
        time.sleep(seconds)

    @invariant()
    def blob_is_the_uploaded_prefix(self) -> None:
        if self.tracked is None:
            return
        uploaded = self.tracked.uploaded
        content = blob_bytes(self.container)
        assert bytes(self.written).startswith(content)
        assert len(content) >= uploaded
        assert self.tracked.errors == ()

    def teardown(self) -> None:
        try:
            if self.tracked is not None:
                if self.path.exists():
                    self.tracked.close()
                else:  # never written: reported by close (decision D-34)
                    with pytest.raises(TrackedFileMissingError):
                        self.tracked.close()
                assert blob_bytes(self.container) == bytes(self.written)
        finally:
            self.container.delete_container()
            shutil.rmtree(self.dir, ignore_errors=True)


def test_stateful_blob_is_always_the_uploaded_prefix(
    blob_service_client: BlobServiceClient, tmp_path: Path
) -> None:
    class Machine(TrackedMachine):
        def __init__(self) -> None:
            super().__init__(blob_service_client, tmp_path)

    run_state_machine_as_test(
        Machine,
        settings=settings(max_examples=15, stateful_step_count=15, deadline=None),
    )


# -- the .NET integration test, and the .NET 4.x duplication hazard ----------------------------


def test_writer_thread_with_5ms_flushes_is_byte_identical(
    container: ContainerClient, tmp_path: Path
) -> None:
    source = tmp_path / "stdout.txt"
    rng = random.Random(5)
    with source.open("ab", buffering=0) as out:  # kept open by the writer all along
        tracked = TrackedFile(container, BLOB, source, flush_interval=0.005).start()

        def writer() -> None:
            for i in range(200):
                out.write(f"line {i:03d} {'x' * rng.randrange(0, 120)}\n".encode())
                time.sleep(rng.uniform(0.002, 0.003))

        thread = threading.Thread(target=writer)
        thread.start()
        thread.join()
        tracked.close()
    assert blob_bytes(container) == source.read_bytes()
    assert source.read_bytes().count(b"\n") == 200
    assert tracked.errors == ()


def test_growth_during_a_flush_is_left_for_the_next_flush(
    recording: tuple[ContainerClient, RecordingTransport], tmp_path: Path
) -> None:
    # .NET 4.x reads the length, then copies to end of file, then stores the length it read:
    # bytes written in between are uploaded twice. Here they wait for the next flush.
    container, transport = recording
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"A" * 40)

    def grow() -> None:
        with source.open("ab") as out:
            out.write(b"late")

    tracked = TrackedFile(container, BLOB, source, flush_interval=3600, block_size=16).start()
    transport.on_append = grow  # the file grows while each append is in flight
    assert tracked.flush() == 40
    assert blob_bytes(container) == b"A" * 40
    transport.on_append = None
    tracked.close()
    assert blob_bytes(container) == source.read_bytes() == b"A" * 40 + b"late" * 3


def test_a_lost_append_response_is_retried_without_duplicating(
    recording: tuple[ContainerClient, RecordingTransport],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    container, transport = recording
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"0123456789abcdef" * 4)
    transport.lose_appends = 1
    tracked = TrackedFile(container, BLOB, source, flush_interval=3600, block_size=16).start()
    with caplog.at_level(logging.WARNING, logger="conventions"):
        assert tracked.flush() == 64
    assert transport.lost == 1
    # The first append landed (201, response lost), its retry was refused (412), reconciled.
    assert transport.appends()[:2] == [201, 412]
    assert "reconciled" in caplog.text
    with source.open("ab") as out:
        out.write(b"tail")
    tracked.close()
    assert blob_bytes(container) == source.read_bytes()
    assert tracked.errors == ()


def test_reconciling_without_read_permission_says_it_needs_r(
    azurite: StorageEndpoint, job_id: str, tmp_path: Path
) -> None:
    # A task-side SAS with "acw" creates and appends; only a lost append response makes
    # the tracker read the blob back (properties and bytes), which needs 'r'.
    assert azurite.account_key is not None
    name = container_name(job_id)
    with BlobServiceClient.from_connection_string(
        azurite.connection_string, **azurite.client_kwargs
    ) as service:
        service.create_container(name)
        sas = generate_container_sas(
            azurite.account_name,
            name,
            account_key=azurite.account_key,
            permission=ContainerSasPermissions(add=True, create=True, write=True),
            expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1),
        )
        url = f"{service.url.rstrip('/')}/{name}?{sas}"
    transport = RecordingTransport()
    transport.lose_appends = 1
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"0123456789abcdef")
    with ContainerClient.from_container_url(
        url,
        transport=transport,
        retry_policy=LinearRetry(backoff=0, random_jitter_range=0),
        **azurite.client_kwargs,
    ) as container:
        tracked = TrackedFile(container, BLOB, source, flush_interval=3600).start()
        with pytest.raises(AccessDeniedError) as raised:
            tracked.flush()
        with pytest.raises(AccessDeniedError):
            tracked.close()  # the error is kept and raised again
    assert transport.lost == 1
    assert transport.appends()[:2] == [201, 412]  # the retry was refused: reconcile needed
    error = raised.value
    assert error.permission == "r"
    assert "permission 'r'" in str(error)
    assert "reconciling a retried append needs read" in str(error)
    assert "'racw'" in str(error)
    assert (error.container, error.blob) == (name, BLOB)
    assert re.search(r"sig=(?!REDACTED)", str(error)) is None
    assert sas.split("sig=")[1].split("&")[0] not in str(error)


def test_someone_else_appending_is_a_conflict(container: ContainerClient, tmp_path: Path) -> None:
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"mine")
    tracked = TrackedFile(container, BLOB, source, flush_interval=3600).start()
    tracked.flush()
    container.get_blob_client(BLOB).append_block(b"theirs")
    with source.open("ab") as out:
        out.write(b" more")
    with pytest.raises(AppendConflictError, match="holds 10"):
        tracked.flush()
    with pytest.raises(AppendConflictError):
        tracked.close()


# -- background errors: kept, reported, raised by close ----------------------------------------


def test_background_errors_are_kept_reported_and_raised_on_close(
    container: ContainerClient, tmp_path: Path
) -> None:
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"abcdef")
    seen: list[Exception] = []
    reported = threading.Event()

    def on_error(error: Exception) -> None:
        seen.append(error)
        reported.set()

    tracked = TrackedFile(container, BLOB, source, flush_interval=0.01, on_error=on_error)
    tracked.start()
    deadline = time.monotonic() + 5
    while tracked.uploaded < 6 and time.monotonic() < deadline:
        time.sleep(0.005)
    os.truncate(source, 2)
    assert reported.wait(5)
    time.sleep(0.05)  # the thread stopped: the same error is not reported again
    assert len(seen) == 1
    assert isinstance(seen[0], TrackedFileTruncatedError)
    with pytest.raises(TrackedFileTruncatedError) as raised:
        tracked.close()
    assert raised.value is seen[0]
    assert raised.value.errors == (seen[0],)
    assert container.container_name in str(raised.value)
    assert BLOB in str(raised.value)
    assert blob_bytes(container) == b"abcdef"
    tracked.close()  # closing again does nothing


def test_an_on_error_callback_that_raises_is_kept_too(
    container: ContainerClient, tmp_path: Path
) -> None:
    source = tmp_path / "stdout.txt"

    def on_error(error: Exception) -> None:
        raise RuntimeError("callback bug")

    tracked = TrackedFile(container, BLOB, source, on_error=on_error).start()
    with pytest.raises(TrackedFileMissingError) as raised:
        tracked.close()
    kept = raised.value.errors
    assert [type(error) for error in kept] == [TrackedFileMissingError, RuntimeError]


def test_the_body_exception_wins_over_the_close_error(
    container: ContainerClient, tmp_path: Path
) -> None:
    with (
        pytest.raises(KeyError),
        TrackedFile(container, BLOB, tmp_path / "never.txt", flush_interval=3600),
    ):
        raise KeyError("body")


def test_file_created_after_tracking_starts(container: ContainerClient, tmp_path: Path) -> None:
    source = tmp_path / "later.txt"
    with TrackedFile(container, BLOB, source, flush_interval=0.005) as tracked:
        time.sleep(0.03)
        assert blob_bytes(container) == b""
        source.write_bytes(b"first line\n")
        deadline = time.monotonic() + 5
        while tracked.uploaded == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert blob_bytes(container) == b"first line\n"
        with source.open("ab") as out:
            out.write(b"second line\n")
    assert blob_bytes(container) == source.read_bytes()


def test_truncation_in_background_while_a_writer_keeps_writing(
    container: ContainerClient, tmp_path: Path
) -> None:
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"x" * 1000)
    tracked = TrackedFile(container, BLOB, source, flush_interval=0.005).start()
    deadline = time.monotonic() + 5
    while tracked.uploaded < 1000 and time.monotonic() < deadline:
        time.sleep(0.005)
    source.write_bytes(b"y" * 10)  # "w" mode: truncates in place (same inode)
    with pytest.raises(TrackedFileTruncatedError, match="shrank to 10 bytes"):
        tracked.close()


# -- idle costs nothing ------------------------------------------------------------------------


def test_idle_tracking_sends_no_request_and_burns_no_cpu(
    recording: tuple[ContainerClient, RecordingTransport], tmp_path: Path
) -> None:
    container, transport = recording
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"some output\n")
    tracked = TrackedFile(container, BLOB, source, flush_interval=0.02).start()
    deadline = time.monotonic() + 5
    while tracked.uploaded == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    sent = transport.count()
    time.sleep(0.2)  # about ten idle intervals
    assert tracked.flush() == 0
    assert transport.count() == sent
    tracked.close()
    # close sends one request only: the completion mark (metadata), no append.
    assert transport.count() == sent + 1
    assert transport.sent[-1][:2] == ("PUT", "metadata")

    slow = TrackedFile(container, "idle.txt", source, flush_interval=60).start()
    cpu = time.process_time()
    time.sleep(0.5)
    assert time.process_time() - cpu < 0.05
    slow.close()


# -- start, limits, misuse, pickling -----------------------------------------------------------


def test_start_in_a_missing_container_raises_container_not_found(
    blob_service_client: BlobServiceClient, job_id: str, tmp_path: Path
) -> None:
    container = blob_service_client.get_container_client(container_name(job_id))
    tracked = TrackedFile(container, BLOB, tmp_path / "x.txt")
    with pytest.raises(ContainerNotFoundError) as raised:
        tracked.start()
    assert raised.value.container == container_name(job_id)
    assert "sig=" not in str(raised.value)
    tracked.close()


def test_flush_before_start_and_after_close_raise(
    container: ContainerClient, tmp_path: Path
) -> None:
    tracked = TrackedFile(container, BLOB, tmp_path / "x.txt")
    with pytest.raises(TrackingError, match="not started"):
        tracked.flush()
    (tmp_path / "x.txt").write_bytes(b"x")
    tracked.start()
    with pytest.raises(TrackingError, match="already started"):
        tracked.start()
    tracked.close()
    with pytest.raises(TrackingError, match="closed"):
        tracked.flush()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"flush_interval": 0},
        {"flush_interval": -1.0},
        {"block_size": 0},
        {"block_size": MAX_APPEND_BLOCK_SIZE + 1},
        {"max_blocks": 50_001},
        {"max_size": MAX_APPEND_BLOB_SIZE + 1},
    ],
)
def test_bad_arguments_raise_value_error(
    container: ContainerClient, tmp_path: Path, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        TrackedFile(container, BLOB, tmp_path / "x.txt", **kwargs)


def test_service_limits() -> None:
    assert MAX_APPEND_BLOCK_SIZE == 4 * 1024 * 1024
    assert MAX_APPEND_BLOB_SIZE == 50_000 * 4 * 1024 * 1024  # about 195 GiB


@pytest.mark.parametrize("cls", [*ERRORS.values(), TrackingError])
def test_errors_pickle_with_their_attributes(cls: type[TrackingError]) -> None:
    error = cls("tracked save failed", container="job-x", blob=BLOB)
    other = TrackedFileTruncatedError("second", container="job-x", blob=BLOB)
    error.errors = (error, other)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert isinstance(copy, StorageError)
    assert (str(copy), copy.container, copy.blob) == ("tracked save failed", "job-x", BLOB)
    assert [str(e) for e in copy.errors] == ["tracked save failed", "second"]
