"""Micro benchmark: tracked save vs a plain append_block loop, against a local Azurite.

Run from the repository root (needs `npm ci` done, as scripts/test does)::

    .venv/bin/python bench/bench_tracked.py

Prints, for the same 20 MB of data in the same run:
- plain: azure-storage-blob `append_block` of 4 MiB blocks, no append position;
- tracked, one flush: the file written first, then TrackedFile uploads it on close;
- tracked, streaming: a writer appends 64 KiB chunks while TrackedFile flushes every 50 ms;
and the process CPU time of idle TrackedFiles over 2 s (flush every 10 ms and every 60 s).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from azure.storage.blob import BlobServiceClient, ContainerClient

from conventions.tracked import MAX_APPEND_BLOCK_SIZE, TrackedFile
from scripts.azurite import Azurite

SIZE = 20 * 1000 * 1000
CHUNK = 64 * 1024


def plain(container: ContainerClient, data: bytes) -> float:
    blob = container.get_blob_client("plain.bin")
    started = time.perf_counter()
    blob.create_append_blob()
    for offset in range(0, len(data), MAX_APPEND_BLOCK_SIZE):
        blob.append_block(data[offset : offset + MAX_APPEND_BLOCK_SIZE])
    return time.perf_counter() - started


def tracked_one_flush(container: ContainerClient, data: bytes, directory: Path) -> float:
    source = directory / "one.bin"
    source.write_bytes(data)
    started = time.perf_counter()
    with TrackedFile(container, "one.bin", source, flush_interval=3600):
        pass
    elapsed = time.perf_counter() - started
    assert container.download_blob("one.bin").readall() == data
    return elapsed


def tracked_streaming(container: ContainerClient, data: bytes, directory: Path) -> float:
    source = directory / "stream.bin"
    source.write_bytes(b"")
    started = time.perf_counter()
    with (
        TrackedFile(container, "stream.bin", source, flush_interval=0.05),
        source.open("ab", buffering=0) as out,
    ):
        for offset in range(0, len(data), CHUNK):
            out.write(data[offset : offset + CHUNK])
    elapsed = time.perf_counter() - started
    assert container.download_blob("stream.bin").readall() == data
    return elapsed


def idle_cpu(container: ContainerClient, directory: Path, interval: float) -> float:
    source = directory / f"idle-{interval}.txt"
    source.write_bytes(b"nothing new\n")
    with TrackedFile(container, f"idle-{interval}.txt", source, flush_interval=interval) as t:
        t.flush()
        cpu = time.process_time()
        time.sleep(2.0)
        return time.process_time() - cpu


def main() -> None:
    data = os.urandom(SIZE)
    with Azurite() as azurite, tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        service = BlobServiceClient.from_connection_string(azurite.connection_string)
        container = service.create_container(f"bench-{uuid.uuid4().hex[:8]}")
        base = plain(container, data)
        one = tracked_one_flush(container, data, directory)
        stream = tracked_streaming(container, data, directory)
        mb = SIZE / 1e6
        print(f"data: {mb:.0f} MB; Python {sys.version.split()[0]}")
        print(f"plain append_block loop (4 MiB): {base:6.2f} s  {mb / base:7.1f} MB/s")
        print(
            f"tracked, one flush on close:     {one:6.2f} s  {mb / one:7.1f} MB/s"
            f"  ratio {one / base:.2f}"
        )
        print(
            f"tracked, streaming 64 KiB writes: {stream:5.2f} s  {mb / stream:7.1f} MB/s"
            f"  ratio {stream / base:.2f}"
        )
        for interval in (0.01, 60.0):
            cpu = idle_cpu(container, directory, interval)
            print(f"idle TrackedFile, flush every {interval:>5} s: {cpu * 1000:6.1f} ms CPU in 2 s")


if __name__ == "__main__":
    main()
