"""Issue 20 on Azurite: a tracked log streams for its whole lifetime within its block budget,
a stored log whose completion mark cannot be set is a success, and the writer shows life.

Faults go through the real TCP proxy (tests/faultproxy.py); a direct client sees what landed.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient, LinearRetry
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from conventions import StorageError, TaskOutputKind, task_blob_name
from conventions.follow import (
    COMPLETE_METADATA_KEY,
    INCOMPLETE_METADATA_KEY,
    LIVE_METADATA_KEY,
)
from conventions.tracked import AppendBlobLimitError, TrackedFile, TrackedFileTruncatedError
from scripts.azurite import StorageEndpoint

from .faultproxy import Fault, FaultProxy, ProxiedRequest

BLOB = task_blob_name("task-1", TaskOutputKind.TASK_LOG, "stdout.txt")


def is_metadata(request: ProxiedRequest) -> bool:
    return request.method == "PUT" and request.query.get("comp") == "metadata"


@pytest.fixture
def direct(azurite: StorageEndpoint) -> Iterator[ContainerClient]:
    with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
        container = service.create_container(f"budget-{uuid.uuid4().hex[:12]}")
        yield container
        container.delete_container()


@pytest.fixture
def proxied(
    proxied_endpoint: StorageEndpoint, direct: ContainerClient
) -> Iterator[ContainerClient]:
    with ContainerClient.from_connection_string(
        proxied_endpoint.connection_string,
        direct.container_name,
        retry_policy=LinearRetry(backoff=0, random_jitter_range=0, retry_total=2),
        connection_timeout=5,
        read_timeout=5,
    ) as client:
        yield client


def test_a_5ms_writer_streams_for_30s_within_300_blocks(
    direct: ContainerClient, tmp_path: Path
) -> None:
    # Before the budget: 20 flushes a second spent the 300 blocks in 15 s, then every
    # flush raised AppendBlobLimitError and the rest of the file never reached the blob.
    source = tmp_path / "stdout.txt"
    blob = direct.get_blob_client(BLOB)
    sizes: list[tuple[float, int]] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.25):
            sizes.append((time.monotonic(), blob.get_blob_properties().size))

    tracked = TrackedFile(
        direct, BLOB, source, max_blocks=300, lifetime=60, flush_interval=0.05
    ).start()
    started = time.monotonic()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with source.open("ab", buffering=0) as out:
        line = 0
        while time.monotonic() - started < 30:
            out.write(f"line {line:06d}\n".encode())
            line += 1
            time.sleep(0.005)
    ended = time.monotonic()
    tracked.close()
    stop.set()
    watcher.join(10)
    properties = blob.get_blob_properties()
    assert blob.download_blob().readall() == source.read_bytes()
    assert (properties.append_blob_committed_block_count or 0) <= 300
    assert properties.append_blob_committed_block_count
    assert tracked.errors == ()
    # Live throughout: bytes in the first 5 s, and still growing in the last 10 s.
    assert any(size > 0 for at, size in sizes if at - started < 5), sizes[:20]
    last = [size for at, size in sizes if ended - 10 <= at < ended]
    assert len(set(last)) >= 5, last
    assert properties.metadata[COMPLETE_METADATA_KEY] == str(source.stat().st_size)


@pytest.mark.parametrize(
    "fault", [Fault.refuse(503), Fault.lost_response()], ids=["refused", "response-lost"]
)
def test_a_stored_log_whose_completion_mark_fails_closes_normally(
    fault: Fault,
    fault_proxy: FaultProxy,
    proxied: ContainerClient,
    direct: ContainerClient,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"all of it\n" * 50)
    tracked = TrackedFile(proxied, BLOB, source, flush_interval=3600).start()
    fault_proxy.inject(fault, times=None, when=is_metadata)
    with caplog.at_level(logging.WARNING, logger="conventions"):
        tracked.close()  # the blob equals the file: no error, only a warning
    assert direct.download_blob(BLOB).readall() == source.read_bytes()
    assert fault_proxy.faults_applied(fault.name) >= 3  # tried again before giving up
    assert len(tracked.errors) == 1
    assert isinstance(tracked.errors[0], StorageError)
    assert any("could not be marked complete" in r.getMessage() for r in caplog.records)


def test_a_failed_close_marks_the_log_incomplete(direct: ContainerClient, tmp_path: Path) -> None:
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"0123456789")
    tracked = TrackedFile(direct, BLOB, source, flush_interval=3600).start()
    tracked.flush()
    source.write_bytes(b"01")  # truncated: the log cannot be completed
    with pytest.raises(TrackedFileTruncatedError):
        tracked.close()
    metadata = direct.get_blob_client(BLOB).get_blob_properties().metadata
    assert metadata[INCOMPLETE_METADATA_KEY] == "10"
    assert COMPLETE_METADATA_KEY not in metadata
    assert LIVE_METADATA_KEY not in metadata


def test_a_quiet_writer_refreshes_its_liveness_without_spending_blocks(
    direct: ContainerClient, tmp_path: Path
) -> None:
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"one line\n")
    blob = direct.get_blob_client(BLOB)
    with TrackedFile(direct, BLOB, source, flush_interval=0.05):
        time.sleep(0.5)
        first = blob.get_blob_properties()
        assert first.metadata[LIVE_METADATA_KEY] == "2"  # 0.05 s, within [2 s, 5 min]
        time.sleep(4.5)  # quiet for two periods
        later = blob.get_blob_properties()
        assert later.last_modified > first.last_modified
        assert later.append_blob_committed_block_count == 1


class BudgetedMachine(RuleBasedStateMachine):
    """Random writes and pauses under a tight block budget, background flushes only: the
    background thread never meets the block limit (it keeps the reserve), the blob is
    always a prefix of the file, and close() ends exact, or, only when the bytes left
    need more blocks than remain, in AppendBlobLimitError with a prefix."""

    def __init__(self, service: BlobServiceClient, base: Path) -> None:
        super().__init__()
        self.container = service.create_container(f"budget-{uuid.uuid4().hex[:12]}")
        self.path = Path(tempfile.mkdtemp(dir=base)) / "log.txt"
        self.path.write_bytes(b"")
        self.written = bytearray()
        self.tracked: TrackedFile | None = None
        self.max_blocks = 0

    @initialize(
        max_blocks=st.integers(2, 12),
        block_size=st.sampled_from([64, 256]),
        lifetime=st.sampled_from([0.2, 1.0, 5.0]),
    )
    def start(self, max_blocks: int, block_size: int, lifetime: float) -> None:
        self.max_blocks = max_blocks
        self.tracked = TrackedFile(
            self.container, BLOB, self.path, flush_interval=0.01,
            max_blocks=max_blocks, block_size=block_size, lifetime=lifetime,
        ).start()  # fmt: skip

    @rule(chunk=st.binary(min_size=1, max_size=100))
    def append(self, chunk: bytes) -> None:
        with self.path.open("ab") as out:
            out.write(chunk)
        self.written += chunk

    @rule(seconds=st.floats(0, 0.05))
    def pause(self, seconds: float) -> None:
        time.sleep(seconds)

    @invariant()
    def blob_is_a_prefix_and_the_background_never_meets_the_limit(self) -> None:
        if self.tracked is None:
            return
        blob = self.container.get_blob_client(BLOB)
        assert bytes(self.written).startswith(blob.download_blob().readall())
        assert self.tracked.errors == ()

    def teardown(self) -> None:
        try:
            if self.tracked is None:
                return
            properties = self.container.get_blob_client(BLOB).get_blob_properties()
            try:
                self.tracked.close()
            except AppendBlobLimitError:
                stored = self.container.download_blob(BLOB).readall()
                assert bytes(self.written).startswith(stored)
                assert len(self.written) - len(stored) > 0
            else:
                assert self.container.download_blob(BLOB).readall() == bytes(self.written)
            final = self.container.get_blob_client(BLOB).get_blob_properties()
            assert (final.append_blob_committed_block_count or 0) <= self.max_blocks
            assert (properties.append_blob_committed_block_count or 0) < self.max_blocks
        finally:
            self.container.delete_container()


def test_stateful_budget_keeps_the_reserve_and_the_blob_a_prefix(
    blob_service_client: BlobServiceClient, tmp_path: Path
) -> None:
    class Machine(BudgetedMachine):
        def __init__(self) -> None:
            super().__init__(blob_service_client, tmp_path)

    run_state_machine_as_test(
        Machine, settings=settings(max_examples=12, stateful_step_count=12, deadline=None)
    )
