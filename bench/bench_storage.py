"""Benchmark: save_many and JobOutputStorage.download against plain azure-storage-blob loops.

Not a test. Starts its own Azurite (scripts/azurite.py), then, in the same run and on the
same files:

- uploads N small files with a plain ``upload_blob`` loop, with ``save_many`` at
  concurrency 1 (the library's overhead) and at the default 8;
- downloads them with a plain ``list_blobs`` + ``download_blob().readinto`` loop, and with
  ``JobOutputStorage.download`` at concurrency 1 and 8.

Run: ``.venv/bin/python bench/bench_storage.py [--files N] [--size BYTES]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from azure.storage.blob import BlobServiceClient  # noqa: E402

from conventions import TaskOutputKind, container_name, task_blob_name  # noqa: E402
from conventions.sas import prepare_output_storage  # noqa: E402
from conventions.storage import JobOutputStorage, TaskOutputStorage  # noqa: E402
from scripts.azurite import Azurite  # noqa: E402

KIND = TaskOutputKind.TASK_OUTPUT


def _timed(label: str, action: Callable[[], object], results: dict[str, float]) -> None:
    started = time.perf_counter()
    action()
    results[label] = time.perf_counter() - started
    print(f"  {label:<40} {results[label]:7.3f} s")


def run(files: int, size: int) -> dict[str, float]:
    """Run the benchmark and return the timings by label."""
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, Azurite() as azurite:
        source = Path(tmp) / "src"
        for i in range(files):
            path = source / f"d{i % 10}" / f"f{i}.bin"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(os.urandom(size))
        relative = sorted(p.relative_to(source).as_posix() for p in source.rglob("*.bin"))
        service = BlobServiceClient.from_connection_string(azurite.endpoint.connection_string)
        print(f"{files} files of {size} bytes, Azurite on {azurite.endpoint.blob_endpoint}")

        def plain_upload(job_id: str) -> None:
            container = service.get_container_client(container_name(job_id))
            for rel in relative:
                with open(source / rel, "rb") as file:
                    container.upload_blob(task_blob_name("t1", KIND, rel), file, overwrite=True)

        def library_upload(job_id: str, concurrency: int) -> None:
            with TaskOutputStorage.from_service_client(service, job_id, "t1") as task:
                task.save_many(KIND, relative, base_dir=source, max_concurrency=concurrency)

        for job_id in ("bench-plain", "bench-c1", "bench-c8"):
            prepare_output_storage(service, job_id)
        _timed("upload: plain SDK loop", lambda: plain_upload("bench-plain"), results)
        _timed("upload: save_many, concurrency 1", lambda: library_upload("bench-c1", 1), results)
        _timed("upload: save_many, concurrency 8", lambda: library_upload("bench-c8", 8), results)

        def plain_download(dest: Path) -> None:
            container = service.get_container_client(container_name("bench-plain"))
            for blob in container.list_blobs(name_starts_with="t1/$TaskOutput/"):
                target = dest / blob.name
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "wb") as file:
                    container.download_blob(blob.name).readinto(file)

        def library_download(dest: Path, concurrency: int) -> None:
            with JobOutputStorage.from_service_client(service, "bench-plain") as job:
                summary = job.download(KIND, dest, max_concurrency=concurrency)
            assert summary.files == files, summary

        _timed("download: plain SDK loop", lambda: plain_download(Path(tmp) / "p"), results)
        _timed(
            "download: download(), concurrency 1",
            lambda: library_download(Path(tmp) / "c1", 1),
            results,
        )
        _timed(
            "download: download(), concurrency 8",
            lambda: library_download(Path(tmp) / "c8", 8),
            results,
        )
        service.close()
    for op in ("upload", "download"):
        plain = results[f"{op}: plain SDK loop"]
        for label, seconds in results.items():
            if label.startswith(op) and "plain" not in label:
                print(f"  {label:<40} {plain / seconds:5.2f}x the plain loop's speed")
    return results


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--size", type=int, default=1024)
    args = parser.parse_args(argv)
    run(args.files, args.size)


if __name__ == "__main__":
    main()
