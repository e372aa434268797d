"""Issue 9's contract for the tracked save, on Azurite through a real TCP fault proxy.

When ``close()`` returns, the blob equals the file; when it raises (a library error), the
blob is a prefix of the file. Faults that a later healthy request recovers from never make
``close()`` raise. The proxy (tests/faultproxy.py) sits on 127.0.0.1 between the SDK and
Azurite; a second, direct client sees what really landed. The tracked saves run on both
faces (``face``: the async one is ``conventions.aio.TrackedFile``, driven through the
portal, which also fails a test that blocked the loop or left a task behind).
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from conventions import ConventionsError, StorageError, TaskOutputKind, task_blob_name
from conventions.errors import InvalidTrackingOptionError
from conventions.reconcile import reconcile
from conventions.tracked import (
    TrackedBlobExistsError,
    TrackedFileTruncatedError,
    TrackedSourceError,
)
from scripts.azurite import StorageEndpoint

from .face_fixtures import Face
from .faultproxy import Fault, FaultProxy, ProxiedRequest
from .tracked_faces import TrackedFace
from .vectors import load

BLOB = task_blob_name("task-1", TaskOutputKind.TASK_LOG, "stdout.txt")
RETRIES = 3  # so 4 consecutive faults exhaust one call, fewer do not


def is_append(request: ProxiedRequest) -> bool:
    return request.method == "PUT" and request.query.get("comp") == "appendblock"


def is_create(request: ProxiedRequest) -> bool:
    return request.method == "PUT" and "comp" not in request.query


def proxied_client(endpoint: StorageEndpoint, name: str, faces: TrackedFace) -> Any:
    """A container client of the face under test, with the retries these tests count."""
    return faces.container_client(
        endpoint.connection_string, name, retries=RETRIES, connection_timeout=5, read_timeout=5
    )


@pytest.fixture
def direct(azurite: StorageEndpoint) -> Iterator[ContainerClient]:
    with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
        container = service.create_container(f"tracked-{uuid.uuid4().hex[:12]}")
        yield container
        container.delete_container()


@pytest.fixture
def faces(face: Face) -> TrackedFace:
    return TrackedFace(face)


@pytest.fixture
def proxied(
    proxied_endpoint: StorageEndpoint, direct: ContainerClient, faces: TrackedFace
) -> Iterator[Any]:
    """The tracker's client (the face under test's) through the fault proxy."""
    with proxied_client(proxied_endpoint, direct.container_name, faces) as client:
        yield client


@pytest.fixture
def straight(
    azurite: StorageEndpoint, direct: ContainerClient, faces: TrackedFace
) -> Iterator[Any]:
    """The tracker's client (the face under test's) on ``direct``'s container, no proxy;
    ``direct`` stays the observer."""
    with faces.container_client(azurite.connection_string, direct.container_name) as client:
        yield client


def blob_of(direct: ContainerClient) -> bytes:
    return direct.download_blob(BLOB).readall()


def wait_for(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# -- the pure decision (spec/vectors/tracked.json, "reconcile") --------------------------------


@pytest.mark.parametrize("case", load("tracked.json")["reconcile"]["cases"], ids=lambda c: c["id"])
def test_reconcile_vector(case: dict[str, Any]) -> None:
    decision = reconcile(
        believed=case["believed"],
        blob_length=case["blob_length"],
        blob_extra=case["blob_extra"].encode(),
        file_extra=case["file_extra"].encode(),
        block_size=case["block_size"],
    )
    assert (decision.action, decision.uploaded) == (case["action"], case["uploaded"])
    assert bool(decision.reason) == (decision.action == "conflict")


# -- end to end through the proxy --------------------------------------------------------------


@pytest.mark.parametrize(
    "fault", [Fault.lost_response(), Fault.landed_then_status(500)], ids=lambda f: f.name
)
def test_an_exhausted_append_that_landed_is_recovered_by_the_next_flush(
    fault: Fault,
    fault_proxy: FaultProxy,
    faces: TrackedFace,
    proxied: Any,
    direct: ContainerClient,
    tmp_path: Path,
) -> None:
    # Issue 9, 1: the append lands, every answer of its 1 + 3 attempts is lost; the file
    # grows meanwhile; the next flush must see the landed bytes as its own and go on.
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"first part\n" * 100)
    seen: list[Exception] = []
    tracked = faces.TrackedFile(proxied, BLOB, source, flush_interval=0.05, on_error=seen.append)
    # aiohttp sends a PUT once more, by itself, when a kept-alive connection closes without
    # an answer: on the async face an SDK attempt is one or two requests, so the fault
    # lasts until the first error is reported.
    fault_proxy.inject(fault, times=None if faces.is_async else RETRIES + 1, when=is_append)
    tracked.start()
    wait_for(lambda: seen)
    fault_proxy.clear()
    assert isinstance(seen[0], StorageError)
    if faces.is_async:
        assert fault_proxy.faults_applied(fault.name) >= RETRIES + 1
    else:
        assert fault_proxy.faults_applied(fault.name) == RETRIES + 1
    assert blob_of(direct) == source.read_bytes()  # it landed, though nobody said so
    with source.open("ab") as out:
        out.write(b"second part\n" * 1000)
    tracked.close()  # recovered: no error raised
    assert blob_of(direct) == source.read_bytes()
    assert tracked.uploaded == source.stat().st_size
    assert tracked.errors == tuple(seen)


def test_four_refusals_then_healthy_end_exact_without_error(
    fault_proxy: FaultProxy,
    faces: TrackedFace,
    proxied: Any,
    direct: ContainerClient,
    tmp_path: Path,
) -> None:
    # Issue 9, 4: a transient error that recovered is not a failure.
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"x" * 100)
    seen: list[Exception] = []
    fault_proxy.inject(Fault.refuse(503), times=RETRIES + 1, when=is_append)
    tracked = faces.TrackedFile(proxied, BLOB, source, flush_interval=0.05, on_error=seen.append)
    tracked.start()
    wait_for(lambda: seen)
    tracked.close()
    assert blob_of(direct) == source.read_bytes()
    assert len(seen) == 1


def test_resets_mid_request_for_ever_end_in_an_error_and_a_prefix(
    fault_proxy: FaultProxy,
    faces: TrackedFace,
    proxied: Any,
    direct: ContainerClient,
    tmp_path: Path,
) -> None:
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"before the faults\n")
    tracked = faces.TrackedFile(proxied, BLOB, source, flush_interval=0.05).start()
    wait_for(lambda: tracked.uploaded == 18)
    fault_proxy.inject(Fault.reset_mid_request(), times=None, when=is_append)
    with source.open("ab") as out:
        out.write(b"never stored\n" * 50)
    time.sleep(0.3)
    with pytest.raises(StorageError) as raised:
        tracked.close()
    assert isinstance(raised.value, ConventionsError)
    assert raised.value.errors[0] is raised.value  # type: ignore[attr-defined]
    blob = blob_of(direct)
    assert blob == b"before the faults\n"
    assert source.read_bytes().startswith(blob)
    assert len(blob) < source.stat().st_size


def test_a_lost_create_response_is_not_an_existing_blob(
    fault_proxy: FaultProxy,
    faces: TrackedFace,
    proxied: Any,
    direct: ContainerClient,
    tmp_path: Path,
) -> None:
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"hello\n")
    fault_proxy.inject(Fault.lost_response(), times=1, when=is_create)
    with faces.TrackedFile(proxied, BLOB, source, flush_interval=3600):
        pass
    assert fault_proxy.faults_applied("lost_response") == 1
    assert blob_of(direct) == b"hello\n"
    # A blob that existed before start() still is an error.
    with pytest.raises(TrackedBlobExistsError):
        faces.TrackedFile(proxied, BLOB, source).start()


# -- closing from on_error (the background thread) ---------------------------------------------


def test_on_error_that_closes_runs_the_final_flush_once(
    fault_proxy: FaultProxy,
    faces: TrackedFace,
    proxied: Any,
    direct: ContainerClient,
    tmp_path: Path,
) -> None:
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"status line\n")
    seen: list[Exception] = []
    tracked: Any
    # Closes in the background thread (task), after noting the error.
    on_error = faces.closing(lambda: tracked, seen.append)

    fault_proxy.inject(Fault.refuse(503), times=RETRIES + 1, when=is_append)
    tracked = faces.TrackedFile(proxied, BLOB, source, flush_interval=0.02, on_error=on_error)
    tracked.start()
    wait_for(lambda: seen)
    # The background thread ran the final flush itself, once the callback returned.
    wait_for(lambda: blob_of(direct) == source.read_bytes())
    assert tracked.closed
    tracked.close()  # the owner's close: the blob is the file, nothing to raise
    assert len(seen) == 1


def test_on_error_that_closes_leaves_the_error_for_the_owner(
    faces: TrackedFace, straight: Any, direct: ContainerClient, tmp_path: Path
) -> None:
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"0123456789")
    tracked: Any
    tracked = faces.TrackedFile(
        straight, BLOB, source, flush_interval=0.02, on_error=faces.closing(lambda: tracked)
    ).start()
    wait_for(lambda: tracked.uploaded == 10)
    os.truncate(source, 3)
    wait_for(lambda: tracked.closed)
    with pytest.raises(TrackedFileTruncatedError):
        tracked.close()
    tracked.close()  # raised once
    assert blob_of(direct) == b"0123456789"


def test_close_from_another_thread_while_the_owner_closes(
    faces: TrackedFace, straight: Any, direct: ContainerClient, tmp_path: Path
) -> None:
    # On the async face: two tasks closing at once (each thread waits on the portal).
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"a" * 5000)
    tracked = faces.TrackedFile(straight, BLOB, source, flush_interval=0.01, block_size=100).start()
    other = threading.Thread(target=tracked.close)
    other.start()
    tracked.close()
    other.join(10)
    assert not other.is_alive()
    assert blob_of(direct) == source.read_bytes()


# -- sources and options that cannot work ------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_source_fails_at_start_and_later_without_blocking(
    faces: TrackedFace, straight: Any, direct: ContainerClient, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(TrackedSourceError, match="FIFO"):
        faces.TrackedFile(straight, BLOB, fifo).start()
    later = tmp_path / "later"
    tracked = faces.TrackedFile(straight, "later.txt", later, flush_interval=3600).start()
    os.mkfifo(later)  # appears after start: flushing must not block on it
    outcome: list[Exception] = []

    def close() -> None:
        try:
            tracked.close()
        except TrackedSourceError as error:
            outcome.append(error)

    closing = threading.Thread(target=close)
    closing.start()
    closing.join(10)
    assert not closing.is_alive(), "close() of a FIFO blocked"
    assert len(outcome) == 1
    assert direct.download_blob("later.txt").readall() == b""


@pytest.mark.parametrize("make", ["directory", "device"])
def test_a_directory_or_device_source_fails_at_start(
    make: str, faces: TrackedFace, straight: Any, direct: ContainerClient, tmp_path: Path
) -> None:
    source = tmp_path if make == "directory" else Path(os.devnull)
    with pytest.raises(TrackedSourceError, match=make) as raised:
        faces.TrackedFile(straight, BLOB, source).start()
    assert isinstance(raised.value, ValueError)
    assert not direct.get_blob_client(BLOB).exists()


def test_a_directory_that_appears_later_stops_tracking_at_once(
    faces: TrackedFace, straight: Any, tmp_path: Path
) -> None:
    seen: list[Exception] = []
    later = tmp_path / "later"
    tracked = faces.TrackedFile(
        straight, BLOB, later, flush_interval=0.01, on_error=seen.append
    ).start()
    later.mkdir()
    time.sleep(0.2)  # about 20 intervals: reported once, not retried every interval
    assert len(seen) == 1
    assert isinstance(seen[0], TrackedSourceError)
    with pytest.raises(TrackedSourceError):
        tracked.close()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"flush_interval": math.inf},
        {"flush_interval": math.nan},
        {"flush_interval": 1e300},
        {"flush_interval": 0},
        {"flush_interval": -0.5},
        {"flush_interval": True},
        {"flush_interval": "1"},
        {"block_size": 0},
        {"block_size": 2.5},
        {"block_size": True},
        {"block_size": 4 * 1024 * 1024 + 1},
        {"max_blocks": 0},
        {"max_size": -1},
    ],
    ids=repr,
)
def test_bad_options_raise_the_library_error(
    kwargs: dict[str, Any], faces: TrackedFace, straight: Any, tmp_path: Path
) -> None:
    with pytest.raises(InvalidTrackingOptionError, match=next(iter(kwargs))) as raised:
        faces.TrackedFile(straight, BLOB, tmp_path / "x.txt", **kwargs)
    assert isinstance(raised.value, ConventionsError)
    assert isinstance(raised.value, ValueError)


# -- Hypothesis: random faults while a writer appends ------------------------------------------

FAULTS = [
    Fault.lost_response(),
    Fault.refuse(500),
    Fault.refuse(503),
    Fault.reset_mid_request(),
    Fault.landed_then_status(500),
]
EXAMPLES: list[str] = []  # one entry per example, for the count in the report


class FaultyTrackedMachine(RuleBasedStateMachine):
    """A writer appends while the proxy fails runs of 1-6 consecutive requests."""

    def __init__(
        self,
        proxy: FaultProxy,
        endpoint: StorageEndpoint,
        service: BlobServiceClient,
        base: Path,
        faces: TrackedFace,
    ) -> None:
        super().__init__()
        proxy.clear()
        self.proxy = proxy
        self.applied_before = proxy.faults_applied()
        self.injected = 0
        self.direct = service.create_container(f"faulty-{uuid.uuid4().hex[:12]}")
        self.faces = faces
        self.client = proxied_client(endpoint, self.direct.container_name, faces)
        self.dir = Path(tempfile.mkdtemp(dir=base))
        self.path = self.dir / "log.txt"
        self.path.write_bytes(b"")
        self.written = bytearray()
        self.tracked: Any = None

    @initialize(
        interval=st.sampled_from([0.005, 0.02, 3600.0]),
        block_size=st.sampled_from([7, 64, 4 * 1024 * 1024]),
    )
    def start(self, interval: float, block_size: int) -> None:
        self.tracked = self.faces.TrackedFile(
            self.client, BLOB, self.path, flush_interval=interval, block_size=block_size
        ).start()

    @rule(chunk=st.binary(min_size=1, max_size=150))
    def append(self, chunk: bytes) -> None:
        with self.path.open("ab") as out:
            out.write(chunk)
        self.written += chunk

    @rule(fault=st.sampled_from(FAULTS), times=st.integers(1, 6))
    def faults(self, fault: Fault, times: int) -> None:
        self.proxy.inject(fault, times=times)
        self.injected += times

    @rule()
    def flush(self) -> None:
        assert self.tracked is not None
        # A manual flush raises its error here; the contract is checked at close.
        with contextlib.suppress(ConventionsError):
            self.tracked.flush()

    @invariant()
    def blob_is_a_prefix(self) -> None:
        if self.tracked is not None:
            blob = self.direct.download_blob(BLOB).readall()
            assert bytes(self.written).startswith(blob)

    def teardown(self) -> None:
        try:
            if self.tracked is None:
                return
            healed = self.proxy.faults_applied() - self.applied_before == self.injected
            try:
                self.tracked.close()
                raised: Exception | None = None
            except ConventionsError as error:
                raised = error
            blob = self.direct.download_blob(BLOB).readall()
            if raised is None:
                assert blob == bytes(self.written)
                EXAMPLES.append("exact")
            else:
                # Every fault was used up before close: the final flush was healthy.
                assert not healed, f"close raised after the faults were over: {raised!r}"
                assert bytes(self.written).startswith(blob)
                EXAMPLES.append("prefix+error")
        finally:
            self.proxy.clear()
            self.client.close()
            self.direct.delete_container()
            shutil.rmtree(self.dir, ignore_errors=True)


def test_stateful_faults_end_exact_or_in_an_error_and_a_prefix(
    fault_proxy: FaultProxy,
    proxied_endpoint: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    tmp_path: Path,
    faces: TrackedFace,
) -> None:
    class Machine(FaultyTrackedMachine):
        def __init__(self) -> None:
            super().__init__(fault_proxy, proxied_endpoint, blob_service_client, tmp_path, faces)

    EXAMPLES.clear()
    run_state_machine_as_test(Machine, settings=settings(stateful_step_count=12, deadline=None))
    print(
        f"\nstateful fault examples: {len(EXAMPLES)} "
        f"(exact {EXAMPLES.count('exact')}, prefix+error {EXAMPLES.count('prefix+error')})"
    )
    assert "exact" in EXAMPLES
