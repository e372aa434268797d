"""What only the async face has: it cancels cleanly (no file, no ``.part``, no task left
running), it never blocks its event loop (every file step is a thread hop), and it
closes what it opens (no unclosed aiohttp session). Against Azurite, through the fault
proxy where a download must be caught mid-way."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import threading
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from azure.storage.blob import BlobServiceClient

import conventions.aio as aio
import conventions.aio._tracked_flush as aio_tracked_flush
from conventions import TaskOutputKind, container_name, task_blob_name
from conventions._tracked_source import TrackedSource, read_at
from conventions.follow import COMPLETE_METADATA_KEY
from conventions.storage import TaskOutputStorage
from scripts.azurite import StorageEndpoint

from .faultproxy import Fault, FaultProxy, ProxiedRequest
from .loopwatch import LoopWatch, watching_loop

OUT = TaskOutputKind.TASK_OUTPUT
_T = TypeVar("_T")

#: A callback that uses more CPU than this holds the loop (tests/loopwatch.py).
SLOW = 0.1


@pytest.fixture
def loop_watch() -> Iterator[LoopWatch]:
    with watching_loop(cpu_limit=SLOW) as watch:
        yield watch


def run(main: Callable[[], Awaitable[_T]]) -> _T:
    """Run *main* on a fresh loop in debug mode; fail on a task left pending, and on a
    ResourceWarning (an unclosed session or connector) once the loop is gone."""
    leftovers: list[asyncio.Task[Any]] = []

    async def checked() -> _T:
        asyncio.get_running_loop().slow_callback_duration = SLOW
        result = await main()
        await asyncio.sleep(0)  # let finished tasks be done
        leftovers.extend(task for task in asyncio.all_tasks() if task is not asyncio.current_task())
        return result

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        result = asyncio.run(checked(), debug=True)
        gc.collect()
    assert leftovers == [], f"tasks left running: {leftovers}"
    # aiohttp's advice on a large bytes body (the SDK sends a block as bytes) is not a
    # leak; whether the loop was held is what the slow-callback check measures.
    unclosed = [
        str(w.message)
        for w in caught
        if issubclass(w.category, ResourceWarning) and "large body" not in str(w.message)
    ]
    assert unclosed == [], unclosed
    return result


def _task(endpoint: StorageEndpoint, job_id: str) -> aio.TaskOutputStorage:
    return aio.TaskOutputStorage.from_connection_string(
        endpoint.connection_string, job_id, "t1", **endpoint.client_kwargs
    )


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def _big_blob(azurite: StorageEndpoint, job_id: str, size: int) -> bytes:
    data = os.urandom(size)
    with TaskOutputStorage.from_connection_string(
        azurite.connection_string, job_id, "t1", **azurite.client_kwargs
    ) as storage:
        storage.save_bytes(OUT, data, "big.bin")  # with its Content-MD5
    return data


@pytest.fixture
def job(blob_service_client: BlobServiceClient, job_id: str) -> str:
    blob_service_client.create_container(container_name(job_id))
    return job_id


def test_the_async_face_saves_lists_reads_downloads_and_deletes(
    azurite: StorageEndpoint, job: str, tmp_path: Path
) -> None:
    job_id = job
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    for i in range(20):
        (src / "d" / f"f{i}.txt").write_bytes(os.urandom(1000 + i))
    big = os.urandom(9 * 1024 * 1024 + 5)
    (src / "big.bin").write_bytes(big)

    async def main() -> None:
        async with aio.TaskOutputStorage.from_connection_string(
            azurite.connection_string, job_id, "t1", **azurite.client_kwargs
        ) as storage:
            refs = await storage.save_many(OUT, "d/*.txt", base_dir=src, max_concurrency=8)
            assert len(refs) == 20
            ref = await storage.save(OUT, "big.bin", base_dir=src, max_concurrency=4)
            assert ref.content_md5 is not None
            await storage.save_text(OUT, "hello", "hello.txt")
            listed = [r async for r in storage.list_outputs(OUT)]
            assert len(listed) == 22
            got = await storage.get_output(OUT, "big.bin")
            assert await got.download_bytes(max_concurrency=4) == big
            path = await got.download_to_file(tmp_path / "big.out", max_concurrency=3)
            assert path.read_bytes() == big
            assert await (await storage.get_output(OUT, "hello.txt")).download_text() == "hello"
            async with await got.open() as stream:
                assert await stream.read(10) == big[:10]
        async with aio.JobOutputStorage.from_connection_string(
            azurite.connection_string, job_id, **azurite.client_kwargs
        ) as job:
            summary = await job.download(OUT, tmp_path / "all", max_concurrency=16)
            assert summary.files == 22, summary
            again = await job.download(OUT, tmp_path / "all", max_concurrency=16)
            assert again.skipped == 22, again
            assert (tmp_path / "all" / "t1" / "big.bin").read_bytes() == big
            results = [r async for r in job.watch(OUT, tmp_path / "w", interval=0.2, idle_exit=0.5)]
            assert len(results) == 22
            assert [t async for t in job.task_ids()] == ["t1"]
            deleted = await job.delete(OUT)
            assert deleted.deleted == 22
            assert [r async for r in job.list_all()] == []

    run(main)


def test_a_64_mib_download_never_blocks_the_loop(
    azurite: StorageEndpoint, job: str, tmp_path: Path, loop_watch: LoopWatch
) -> None:
    data = _big_blob(azurite, job, 64 * 1024 * 1024)

    async def main() -> None:
        async with _task(azurite, job) as storage:
            ref = await storage.get_output(OUT, "big.bin")
            await ref.download_to_file(tmp_path / "big.bin", max_concurrency=4)

    run(main)
    assert (tmp_path / "big.bin").read_bytes() == data
    assert loop_watch.file_calls == []
    assert loop_watch.slow == []


def test_a_1000_file_save_many_never_blocks_the_loop(
    azurite: StorageEndpoint, job: str, tmp_path: Path, loop_watch: LoopWatch
) -> None:
    for index in range(1000):
        (tmp_path / f"f{index:04}.txt").write_bytes(os.urandom(4096))

    async def main() -> int:
        async with _task(azurite, job) as storage:
            refs = await storage.save_many(OUT, "*.txt", base_dir=tmp_path, max_concurrency=64)
            return len(refs)

    assert run(main) == 1000
    assert loop_watch.file_calls == []
    assert loop_watch.slow == []


def _chunk_request(request: ProxiedRequest) -> bool:
    # A ranged GET past the first 4 MiB: the download is under way when it stalls.
    rng = request.headers.get("x-ms-range", "")
    return request.method == "GET" and rng.startswith("bytes=") and not rng.startswith("bytes=0-")


@pytest.mark.parametrize("how", ["download_to_file", "job.download"])
def test_a_cancelled_download_leaves_no_file_no_part_and_no_task(
    azurite: StorageEndpoint,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    job: str,
    tmp_path: Path,
    how: str,
) -> None:
    _big_blob(azurite, job, 12 * 1024 * 1024)
    fault_proxy.inject(Fault.stall(60), times=None, when=_chunk_request)
    dest = tmp_path / "dest"

    async def main() -> None:
        async with _task(proxied_endpoint, job) as storage:
            if how == "download_to_file":
                ref = await storage.get_output(OUT, "big.bin")
                await _cancel_when_stalled(
                    ref.download_to_file(dest / "big.bin", max_concurrency=2), fault_proxy
                )
                return
            async with aio.JobOutputStorage.from_connection_string(
                proxied_endpoint.connection_string, job, **proxied_endpoint.client_kwargs
            ) as whole:
                await _cancel_when_stalled(
                    whole.download(OUT, dest, max_concurrency=2), fault_proxy
                )

    run(main)
    assert fault_proxy.faults_applied("stall") >= 1
    # Neither the file nor its temporary file: nothing at all was left behind.
    files = [path for path in dest.rglob("*") if not path.is_dir()] if dest.exists() else []
    assert files == []


async def _cancel_when_stalled(work: Awaitable[Any], proxy: FaultProxy) -> None:
    task = asyncio.ensure_future(work)
    for _ in range(200):  # until a chunk request is held by the proxy (at most 20 s)
        if proxy.faults_applied("stall") or task.done():
            break
        await asyncio.sleep(0.1)
    assert not task.done(), "the download ended before it could be cancelled"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_the_async_face_prepares_a_container_and_signs_a_url_for_its_tasks(
    azurite: StorageEndpoint, job_id: str
) -> None:
    from azure.storage.blob.aio import BlobServiceClient as AsyncService

    async def main() -> bytes:
        async with AsyncService.from_connection_string(
            azurite.connection_string, **azurite.client_kwargs
        ) as service:
            name = await aio.prepare_output_storage(service, job_id)
            assert name == container_name(job_id)
            assert await aio.prepare_output_storage(service, job_id) == name  # idempotent
            url = await aio.output_container_url(service, job_id)
        async with aio.TaskOutputStorage.from_container_url(url, "t1", job_id=job_id) as task:
            ref = await task.save_bytes(OUT, b"signed", "x.bin")
            return await ref.download_bytes()

    assert run(main) == b"signed"


def test_the_loop_watch_sees_file_work_and_cpu_work_done_on_the_loop(tmp_path: Path) -> None:
    """The check above can fail: a file opened, or a hash computed, on the loop is seen;
    the same work in a thread hop is not."""
    target = tmp_path / "x.bin"

    def burn() -> None:
        started = time.thread_time()
        while time.thread_time() - started < 3 * SLOW:  # CPU work, however loaded the machine
            hashlib.sha256(bytes(1024 * 1024)).digest()

    async def on_the_loop() -> None:
        target.write_bytes(b"x")
        burn()

    async def in_threads() -> None:
        await asyncio.to_thread(target.write_bytes, b"x")
        await asyncio.to_thread(burn)

    with watching_loop(cpu_limit=SLOW) as blocked:
        asyncio.run(on_the_loop())
    assert any(call.startswith("open(") and "x.bin" in call for call in blocked.file_calls)
    assert len(blocked.slow) == 1
    with watching_loop(cpu_limit=SLOW) as clean:
        asyncio.run(in_threads())
    assert clean.file_calls == []
    assert clean.slow == []
# -- the tracked save (conventions.aio.TrackedFile) ---------------------------------------------

LOG = TaskOutputKind.TASK_LOG


def _is_append(request: ProxiedRequest) -> bool:
    return request.method == "PUT" and request.query.get("comp") == "appendblock"


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as out:
        out.write(data)


def _others() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]


def _metadata(service: BlobServiceClient, job_id: str, name: str) -> dict[str, str]:
    blob = service.get_blob_client(container_name(job_id), task_blob_name("t1", LOG, name))
    return dict(blob.get_blob_properties().metadata)


def test_a_cancelled_tracked_save_flushes_closes_and_leaves_no_task(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job: str, tmp_path: Path
) -> None:
    # The body of `async with save_tracked(...)` is cancelled: leaving it still runs the
    # final flush (as Ctrl-C in the sync face), the flusher task ends, and the cancel goes on.
    log = tmp_path / "run.log"

    async def main() -> tuple[bytes, list[asyncio.Task[Any]]]:
        async with _task(azurite, job) as storage:
            growing = asyncio.Event()

            async def body() -> None:
                async with storage.save_tracked(log, destination="run.log", flush_interval=0.05):
                    await asyncio.to_thread(log.write_bytes, b"x" * 1000)
                    growing.set()
                    await asyncio.sleep(3600)

            task = asyncio.create_task(body())
            await growing.wait()
            await asyncio.sleep(0.2)  # a few background flushes
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            left = _others()
            ref = await storage.get_output(LOG, "run.log")
            return await ref.download_bytes(), left

    stored, left = run(main)
    assert left == []
    assert stored == b"x" * 1000
    assert COMPLETE_METADATA_KEY in _metadata(blob_service_client, job, "run.log")


def test_a_cancelled_close_ends_the_flusher_and_a_later_close_finishes(
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    blob_service_client: BlobServiceClient,
    job: str,
    tmp_path: Path,
) -> None:
    # The flusher's append lands but its answer never comes (the proxy holds it); close()
    # waits for the flusher and is cancelled: the flusher task is cancelled and awaited
    # (nothing left running, no file left open), the save is not reported as done, and
    # a later close() runs the final flush, reconciling the append that had landed.
    log = tmp_path / "run.log"
    log.write_bytes(b"y" * 500)
    fault_proxy.inject(Fault.hang(60), times=1, when=_is_append)

    async def main() -> tuple[list[asyncio.Task[Any]], bool, int, bytes]:
        async with _task(proxied_endpoint, job) as storage:
            tracked = storage.save_tracked(log, destination="run.log", flush_interval=0.05)
            await tracked.start()
            for _ in range(200):  # until the append is held (at most 10 s)
                if fault_proxy.faults_applied("hang"):
                    break
                await asyncio.sleep(0.05)
            assert fault_proxy.faults_applied("hang") == 1
            closing = asyncio.create_task(tracked.close())
            await asyncio.sleep(0.3)
            assert not closing.done(), "close() did not wait for the held append"
            closing.cancel()
            with pytest.raises(asyncio.CancelledError):
                await closing
            left = _others()
            complete_early = COMPLETE_METADATA_KEY in _metadata(
                blob_service_client, job, "run.log"
            )
            await tracked.close()  # the final flush, now
            ref = await storage.get_output(LOG, "run.log")
            return left, complete_early, tracked.uploaded, await ref.download_bytes()

    left, complete_early, uploaded, stored = run(main)
    assert left == []
    assert not complete_early
    assert uploaded == 500
    assert stored == b"y" * 500
    assert COMPLETE_METADATA_KEY in _metadata(blob_service_client, job, "run.log")


def test_a_tracked_save_reads_its_file_off_the_loop_and_never_blocks_it(
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job: str,
    tmp_path: Path,
    loop_watch: LoopWatch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every file step (opening, each block read, the tail check, the whole-file check at
    # close) runs in a thread, none on the loop's; and no callback on the loop uses 0.1 s
    # of CPU (tests/loopwatch.py).
    loop_thread: list[int] = []
    steps: list[tuple[str, bool]] = []

    def spy(name: str, function: Callable[..., _T]) -> Callable[..., _T]:
        def step(*args: Any, **kwargs: Any) -> _T:
            steps.append((name, threading.get_ident() in loop_thread))
            return function(*args, **kwargs)

        return step

    monkeypatch.setattr(TrackedSource, "open", spy("open", TrackedSource.open))
    monkeypatch.setattr(TrackedSource, "verify", spy("verify", TrackedSource.verify))
    monkeypatch.setattr(aio_tracked_flush, "read_at", spy("read_at", read_at))
    log = tmp_path / "big.log"
    half = 8 * 1024 * 1024
    data = os.urandom(2 * half)
    log.write_bytes(data[:half])

    async def main() -> None:
        loop_thread.append(threading.get_ident())
        async with _task(azurite, job) as storage, storage.save_tracked(
            log, destination="big.log", flush_interval=0.05
        ) as tracked:
            for _ in range(600):  # until the first half is up (at most 60 s)
                if tracked.uploaded == half:
                    break
                await asyncio.sleep(0.1)
            await asyncio.to_thread(_append, log, data[half:])

    run(main)
    blob = blob_service_client.get_blob_client(
        container_name(job), task_blob_name("t1", LOG, "big.log")
    )
    assert blob.download_blob().readall() == data
    assert {name for name, _ in steps} == {"open", "read_at", "verify"}
    assert [name for name, on_loop in steps if on_loop] == []
    assert loop_watch.file_calls == []
    assert loop_watch.slow == []


def test_a_close_cancelled_in_its_final_flush_runs_it_again_when_called_again(
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    blob_service_client: BlobServiceClient,
    job: str,
    tmp_path: Path,
) -> None:
    # No background flush (an hour's interval): close()'s own final flush holds the append
    # (it lands, no answer comes) and is cancelled. The outcome is not known, so the save
    # is neither failed nor succeeded: calling close() again runs the final flush, which
    # reconciles the append that landed, and succeeds.
    log = tmp_path / "run.log"
    log.write_bytes(b"z" * 300)
    fault_proxy.inject(Fault.hang(60), times=1, when=_is_append)

    async def main() -> tuple[list[asyncio.Task[Any]], int, bytes]:
        async with _task(proxied_endpoint, job) as storage:
            tracked = storage.save_tracked(log, destination="run.log", flush_interval=3600)
            await tracked.start()
            closing = asyncio.create_task(tracked.close())
            for _ in range(200):  # until the final flush's append is held (at most 10 s)
                if fault_proxy.faults_applied("hang"):
                    break
                await asyncio.sleep(0.05)
            assert fault_proxy.faults_applied("hang") == 1
            closing.cancel()
            with pytest.raises(asyncio.CancelledError):
                await closing
            left = _others()
            await tracked.close()
            ref = await storage.get_output(LOG, "run.log")
            return left, tracked.uploaded, await ref.download_bytes()

    left, uploaded, stored = run(main)
    assert left == []
    assert (uploaded, stored) == (300, b"z" * 300)
    assert COMPLETE_METADATA_KEY in _metadata(blob_service_client, job, "run.log")
