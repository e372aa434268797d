"""Live logs on Azurite: OutputFileReference.follow and the completion mark."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from conventions import TaskOutputKind
from conventions.containers import container_name
from conventions.errors import FollowTimeoutError
from conventions.follow import COMPLETE_METADATA_KEY, FollowEvent, FollowRestart
from conventions.sas import prepare_output_storage
from conventions.tracked import TrackedFile
from scripts.azurite import StorageEndpoint

from .face_fixtures import Face
from .face_support import counting_transport

LOG = TaskOutputKind.TASK_LOG


@pytest.fixture
def job(
    face: Face, azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str
) -> Iterator[Any]:
    """The job's storage on the face under test (the job's container prepared)."""
    prepare_output_storage(blob_service_client, job_id)
    with face.JobOutputStorage.from_connection_string(
        azurite.connection_string, job_id, **azurite.client_kwargs
    ) as storage:
        yield storage


@pytest.fixture
def writer(blob_service_client: BlobServiceClient, job_id: str) -> Any:
    """The job's container on the sync face: what a task's ``run`` writes with."""
    return blob_service_client.get_container_client(container_name(job_id))


class _Follower(threading.Thread):
    """Runs ``follow`` in a thread, keeping each event with the time it arrived."""

    def __init__(self, events: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self._events = events
        self.received: list[tuple[float, FollowEvent]] = []
        self.error: BaseException | None = None
        self.finished_at: float | None = None

    def run(self) -> None:
        try:
            for event in self._events():  # type: ignore[attr-defined]
                self.received.append((time.monotonic(), event))
            self.finished_at = time.monotonic()
        except BaseException as error:  # noqa: BLE001 - re-raised by the test
            self.error = error

    def data(self) -> bytes:
        return b"".join(event for _, event in self.received if isinstance(event, bytes))

    def wait_for(self, data: bytes, seconds: float = 20.0) -> None:
        deadline = time.monotonic() + seconds
        while self.data() != data:
            assert time.monotonic() < deadline, (self.data(), self.error)
            time.sleep(0.02)


def test_follow_sees_a_run_log_grow_and_stops_at_completion(
    azurite: StorageEndpoint, job: Any, job_id: str, tmp_path: Path
) -> None:
    # Before the task starts: the log does not exist yet, and follow waits for it.
    log = job.task("t1").reference(LOG, "stdout.txt")
    follower = _Follower(lambda: log.follow(interval=0.05, timeout=120))
    follower.start()
    env = {
        **os.environ,
        "AZ_BATCH_JOB_ID": job_id,
        "AZ_BATCH_TASK_ID": "t1",
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
    }
    env.pop("CONVENTIONS_CONTAINER_URL", None)
    program = "import time\nfor i in range(30):\n    print(i, flush=True); time.sleep(0.05)"
    command = [
        sys.executable, "-m", "conventions", "run", "--flush-interval", "0.1",
        "--log-dir", str(tmp_path), "--", sys.executable, "-c", program,
    ]  # fmt: skip
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True, timeout=120)
    ended = time.monotonic()
    follower.join(60)
    assert not follower.is_alive()
    assert follower.error is None
    assert follower.data() == "".join(f"{i}\n" for i in range(30)).encode()
    assert not any(isinstance(event, FollowRestart) for _, event in follower.received)
    # It grew while the command ran: several pieces arrived before the command ended...
    assert sum(1 for at, _ in follower.received if at < ended) >= 2
    # ...and follow returned by itself, on the completion mark (no timeout raised).
    assert follower.finished_at is not None


def test_follow_waits_for_a_log_that_appears_later(job: Any, writer: Any, tmp_path: Path) -> None:
    follower = _Follower(lambda: job.task("t2").reference(LOG, "late.txt").follow(interval=0.05))
    follower.start()
    time.sleep(0.5)  # several reads find nothing
    assert follower.is_alive()
    assert follower.received == []
    source = tmp_path / "late.txt"
    with TrackedFile(writer, "t2/$TaskLog/late.txt", source, flush_interval=3600) as tracked:
        source.write_bytes(b"first\n")
        tracked.flush()
        follower.wait_for(b"first\n")
        with source.open("ab") as handle:
            handle.write(b"second\n")
    follower.join(20)
    assert not follower.is_alive()
    assert follower.error is None
    assert follower.data() == b"first\nsecond\n"


def test_follow_notices_a_replaced_log_and_starts_again(
    job: Any, writer: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    name = "t3/$TaskLog/stdout.txt"
    # A first attempt that died without closing its log (so: never marked complete).
    blob = writer.get_blob_client(name)
    blob.create_append_blob()
    blob.append_block(b"attempt one: step 1\n")
    follower = _Follower(lambda: job.task("t3").reference(LOG, "stdout.txt").follow(interval=0.05))
    follower.start()
    follower.wait_for(b"attempt one: step 1\n")
    # The retry's `run` replaces the log with a new append blob; it is already longer
    # than what was read when the follower looks again.
    source = tmp_path / "stdout.txt"
    source.write_bytes(b"attempt two: step 1\nattempt two: step 2\n")
    with TrackedFile(writer, name, source, overwrite=True, flush_interval=3600):
        pass
    follower.join(20)
    assert not follower.is_alive()
    assert follower.error is None
    events = [event for _, event in follower.received]
    restarts = [index for index, event in enumerate(events) if isinstance(event, FollowRestart)]
    assert len(restarts) == 1
    before, after = events[: restarts[0]], events[restarts[0] + 1 :]
    assert b"".join(before) == b"attempt one: step 1\n"  # type: ignore[arg-type]
    assert b"".join(after) == source.read_bytes()  # type: ignore[arg-type]
    restart = events[restarts[0]]
    assert isinstance(restart, FollowRestart)
    assert (restart.attempt, restart.offset) == (2, 20)
    assert any("starting again from byte 0" in record.getMessage() for record in caplog.records)


def test_follow_gives_up_after_its_timeout(job: Any) -> None:
    started = time.monotonic()
    with pytest.raises(FollowTimeoutError, match="never appeared"):
        list(job.task("t4").reference(LOG, "stdout.txt").follow(interval=0.05, timeout=0.3))
    assert 0.3 <= time.monotonic() - started < 10


def test_close_marks_the_log_complete_and_a_replacement_drops_the_mark(
    job: Any, writer: Any, tmp_path: Path
) -> None:
    source = tmp_path / "log.txt"
    source.write_bytes(b"12345")
    name = "t5/$TaskLog/log.txt"
    with TrackedFile(writer, name, source, flush_interval=3600):
        blob = writer.get_blob_client(name)
        assert COMPLETE_METADATA_KEY not in blob.get_blob_properties().metadata
    assert blob.get_blob_properties().metadata[COMPLETE_METADATA_KEY] == "5"
    # A complete log is followed to its end and follow returns at once.
    assert list(job.task("t5").reference(LOG, "log.txt").follow(timeout=10)) == [b"12345"]
    replacement = TrackedFile(writer, name, source, overwrite=True).start()
    try:
        assert COMPLETE_METADATA_KEY not in blob.get_blob_properties().metadata
    finally:
        replacement.close()


def test_follow_of_a_block_blob_reads_it_once(job: Any) -> None:
    job.task("t6").save_text(LOG, "uploaded at the end\n", "stdout.txt")
    events = list(job.task("t6").reference(LOG, "stdout.txt").follow(timeout=10))
    assert events == [b"uploaded at the end\n"]


def test_each_follow_read_is_one_request_on_the_librarys_client(
    face: Face,
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
    monkeypatch: Any,
) -> None:
    # The library's client asks 4 MiB in a download's first request; a read of more would
    # be two GETs, the second pinned to the first one's ETag, which a writer's append
    # changes in between (a 412 while following a busy log). Each read must be one GET.
    import conventions.aio.live
    import conventions.live
    from conventions.follow import completion_metadata

    live: Any = conventions.aio.live if face.is_async else conventions.live
    prepare_output_storage(blob_service_client, job_id)
    data = os.urandom(9 * 1024 * 1024 + 3)
    writer = blob_service_client.get_blob_client(container_name(job_id), "t1/$TaskLog/big.txt")
    writer.create_append_blob()
    for offset in range(0, len(data), 4 * 1024 * 1024):
        writer.append_block(data[offset : offset + 4 * 1024 * 1024])
    writer.set_blob_metadata(completion_metadata(len(data)))
    transport = counting_transport(face, **azurite.client_kwargs)
    reads: list[int] = []
    real_read = live._read

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return real_read(*args, **kwargs)

    monkeypatch.setattr(live, "_read", counted)
    with face.JobOutputStorage.from_connection_string(
        azurite.connection_string, job_id, transport=transport, **azurite.client_kwargs
    ) as job:
        log = job.task("t1").reference(LOG, "big.txt")
        events = list(log.follow(interval=0.05, timeout=60))
    assert not any(isinstance(event, FollowRestart) for event in events)
    received = b"".join(event for event in events if isinstance(event, bytes))
    assert received == data
    gets = [request for request in transport.requests if request.startswith("GET ")]
    assert len(reads) >= 3  # 9 MiB in reads of at most 4 MiB
    assert len(gets) == len(reads)


def test_a_download_of_a_log_that_grows_meanwhile_says_to_follow_it(job: Any, writer: Any) -> None:
    # Past a download's first request the SDK pins each GET to the first one's ETag; an
    # append in between fails it (412). Not silent, and the message says what to do.
    from conventions.errors import StorageError

    blob = writer.get_blob_client("t1/$TaskLog/grow.txt")
    blob.create_append_blob()
    for _ in range(3):
        blob.append_block(os.urandom(4 * 1024 * 1024))
    stream = job.task("t1").reference(LOG, "grow.txt").open()  # first 4 MiB fetched
    blob.append_block(b"more")
    with pytest.raises(StorageError, match="changed while it was read") as raised:
        stream.read()
    assert "follow()" in str(raised.value)


def _growing_log(writer: Any, name: str) -> tuple[Any, bytearray]:
    blob = writer.get_blob_client(f"t1/$TaskLog/{name}")
    blob.create_append_blob()
    content = bytearray()
    for _ in range(3):  # 12 MiB: past the library client's 4 MiB first request
        piece = os.urandom(4 * 1024 * 1024)
        blob.append_block(piece)
        content += piece
    return blob, content


def _append_on_responses(
    face: Face, monkeypatch: pytest.MonkeyPatch, blob: Any, content: bytearray, times: int
) -> list[int]:
    """Append to the blob between a download's first request and the next, the first
    *times* times, deterministically. The sync face appends when a download's answer
    arrives (``TransferDeadline.hook``); the async face, which drives its own ranged GETs,
    before it starts them (``conventions.aio._fetch._ranged``), in a thread: the append is
    a blocking request, which must not hold the event loop."""
    done: list[int] = []

    def append() -> None:
        if len(done) < times:
            piece = os.urandom(1000)
            blob.append_block(piece)
            content.extend(piece)
            done.append(1)

    if face.is_async:
        import conventions.aio._fetch

        fetch: Any = conventions.aio._fetch
        real_ranged = fetch._ranged

        async def ranged(*args: Any, **kwargs: Any) -> Any:
            await asyncio.to_thread(append)
            return await real_ranged(*args, **kwargs)

        monkeypatch.setattr(fetch, "_ranged", ranged)
        return done
    from conventions.network import TransferDeadline

    real = TransferDeadline.hook

    def hook(self: TransferDeadline, response: Any) -> None:
        real(self, response)
        append()

    monkeypatch.setattr(TransferDeadline, "hook", hook)
    return done


@pytest.mark.parametrize("how", ["download_to_file", "download_bytes", "download"])
def test_a_log_that_grows_during_a_download_is_read_again_whole(
    face: Face,
    job: Any,
    writer: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    blob, content = _growing_log(writer, "live.txt")
    appended = _append_on_responses(face, monkeypatch, blob, content, times=1)
    log = job.task("t1").get_output(LOG, "live.txt")
    if how == "download_to_file":
        got = log.download_to_file(tmp_path / "live.txt").read_bytes()
    elif how == "download_bytes":
        got = log.download_bytes()
    else:
        summary = job.download(LOG, tmp_path / "all")
        assert summary.files == 1
        got = (tmp_path / "all" / "t1" / "live.txt").read_bytes()
    assert appended == [1]  # the first attempt was refused (412), the second read it all
    assert got == bytes(content)
    assert [p.name for p in tmp_path.rglob("*.part")] == []


def test_a_log_that_keeps_changing_raises_blob_changed_after_three_reads(
    face: Face, job: Any, writer: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conventions.errors import BlobChangedError

    blob, content = _growing_log(writer, "busy.txt")
    _append_on_responses(face, monkeypatch, blob, content, times=1000)
    log = job.task("t1").get_output(LOG, "busy.txt")
    with pytest.raises(BlobChangedError, match="changed while it was read"):
        log.download_to_file(tmp_path / "busy.txt")
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file left
