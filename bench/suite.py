"""The issue-14 benchmark suite: the library against plain azure-storage-blob code, on Azurite.

Run from the repository root (after ``scripts/test`` has set up .venv and node_modules)::

    .venv/bin/python -m bench                 # the full table (many minutes)
    .venv/bin/python -m bench --quick         # everything, small (< 60 s on an idle machine)
    .venv/bin/python -m bench --only listing,rules --repeats 5
    .venv/bin/python -m bench --only aio      # issue 23: the async face (conventions.aio)

Starts its own Azurite (scripts/azurite.py, as the tests do), measures each group's variants
in interleaved repeats, prints the medians and ratios, and writes them with the machine's
cores, Python and package versions to bench/results/latest.json (``--output``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import json  # noqa: E402
import subprocess  # noqa: E402

from azure.storage.blob import BlobServiceClient  # noqa: E402

from bench import measure, ours, ours_aio, plain, plain_aio, rules  # noqa: E402
from bench.measure import FaceRow, Row, Target  # noqa: E402
from bench.proxy import LatencyProxy  # noqa: E402
from conventions import container_name, task_blob_name  # noqa: E402
from scripts.azurite import Azurite  # noqa: E402

__all__ = ["GROUPS", "Sizes", "main", "run"]

DEFAULT_OUTPUT = REPO_ROOT / "bench" / "results" / "latest.json"
MiB = 1024 * 1024


@dataclass(frozen=True)
class Sizes:
    """How big each workload is (the issue's sizes, or ``--quick``'s)."""

    small_files: int  # save_many / whole-job download: files of small_size bytes
    small_size: int
    tasks: int  # tasks the whole-job download's files are spread over
    listing: int  # blobs in the listed job (also the peak-RSS whole-job download)
    large: int  # bytes of the large save / download_to_file
    latency_large: int  # bytes of the large file through the latency proxy
    latency_files: int  # small files through the latency proxy
    rss_save: int  # files in the peak-RSS save_many
    rss_large: int  # bytes of the peak-RSS download to a file
    rule_calls: int  # calls per repeat of each pure rule
    concurrencies: tuple[int, ...] = (8, 32)
    latency_concurrencies: tuple[int, ...] = (1, 8, 32)
    latency: float = 0.020
    aio_files: int = 2000  # files saved and downloaded by the aio group (issue 23)
    aio_concurrencies: tuple[int, ...] = (32, 128, 256)
    aio_default_row: bool = True  # add a row at the async face's default c if not above


FULL = Sizes(
    small_files=1000,
    small_size=4096,
    tasks=50,
    listing=10_000,
    large=256 * MiB,
    latency_large=96 * MiB,
    latency_files=200,
    rss_save=1000,
    rss_large=1024 * MiB,
    rule_calls=200_000,
)
QUICK = Sizes(
    small_files=40,
    small_size=4096,
    tasks=5,
    listing=200,
    large=8 * MiB,
    latency_large=4 * MiB,
    latency_files=12,
    rss_save=40,
    rss_large=16 * MiB,
    rule_calls=5_000,
    aio_files=100,
    aio_concurrencies=(32,),
    aio_default_row=False,
)


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class Context:
    """Azurite, a scratch directory, and the data sets (made once, on first use)."""

    def __init__(self, azurite: Azurite | None, scratch: Path, sizes: Sizes, repeats: int) -> None:
        self._azurite = azurite
        self.scratch = scratch
        self.sizes = sizes
        self.repeats = repeats
        self._service: BlobServiceClient | None = None
        self._made: dict[str, Any] = {}

    @property
    def azurite(self) -> Azurite:
        if self._azurite is None:
            raise RuntimeError("this group needs storage, but Azurite was not started")
        return self._azurite

    @property
    def conn(self) -> str:
        return self.azurite.connection_string

    @property
    def service(self) -> BlobServiceClient:
        if self._service is None:
            self._service = BlobServiceClient.from_connection_string(self.conn)
        return self._service

    def close(self) -> None:
        if self._service is not None:
            self._service.close()

    def fresh_dir(self, label: str) -> Path:
        path = self.scratch / f"{label}-{uuid.uuid4().hex[:8]}"
        path.mkdir()
        return path

    def job(self, job_id: str) -> str:
        """Create the job's container (once); return its name."""
        name = container_name(job_id)
        if f"job-{job_id}" not in self._made:
            self.service.create_container(name)
            self._made[f"job-{job_id}"] = name
        return name

    def _fill(self, job_id: str, blobs: Sequence[tuple[str, bytes]]) -> None:
        """Upload *blobs* with a plain pool (setup, not measured)."""
        with plain.container_client(self.conn, self.job(job_id), 32) as container:

            def one(item: tuple[str, bytes]) -> None:
                container.upload_blob(item[0], item[1], overwrite=True)

            with ThreadPoolExecutor(32) as pool:
                try:
                    for _ in pool.map(one, blobs):
                        pass
                except BaseException:  # Ctrl-C: do not wait for every queued upload
                    pool.shutdown(cancel_futures=True)
                    raise

    def small_files(self, count: int) -> tuple[Path, list[str]]:
        """*count* local files of small_size bytes in 10 folders: (base, relative paths)."""
        key = f"small-files-{count}"
        if key not in self._made:
            base = self.fresh_dir(key)
            paths = [f"d{i % 10}/f{i:05d}.bin" for i in range(count)]
            for rel in paths:
                (base / rel).parent.mkdir(exist_ok=True)
                (base / rel).write_bytes(os.urandom(self.sizes.small_size))
            self._made[key] = (base, paths)
        made: tuple[Path, list[str]] = self._made[key]
        return made

    def spread_job(self, job_id: str, count: int, size: int) -> str:
        """A job of *count* task outputs of *size* bytes over ``sizes.tasks`` tasks."""
        key = f"spread-{job_id}"
        if key not in self._made:
            _log(f"setup: {count} blobs of {size} bytes in job {job_id}")
            tasks = self.sizes.tasks
            self._fill(
                job_id,
                [
                    (
                        task_blob_name(f"t{i % tasks:03d}", ours.KIND, f"d{i % 5}/f{i:05d}.bin"),
                        os.urandom(size),
                    )
                    for i in range(count)
                ],
            )
            self._made[key] = job_id
        return job_id

    def large_file(self, size: int) -> Path:
        key = f"large-{size}"
        if key not in self._made:
            path = self.fresh_dir(key) / f"large-{size}.bin"
            with open(path, "wb") as file:
                for offset in range(0, size, 4 * MiB):
                    file.write(os.urandom(min(4 * MiB, size - offset)))
            self._made[key] = path
        made: Path = self._made[key]
        return made

    def large_job(self, job_id: str, size: int) -> tuple[str, str, str]:
        """A job holding one task output of *size* bytes: (job id, task id, output path)."""
        key = f"large-job-{job_id}"
        if key not in self._made:
            _log(f"setup: a {size // MiB} MiB blob in job {job_id}")
            path = self.large_file(size)
            with plain.container_client(self.conn, self.job(job_id), 8) as container:
                plain.upload_large(container, task_blob_name("t1", ours.KIND, path.name), path, 8)
            self._made[key] = (job_id, "t1", path.name)
        made: tuple[str, str, str] = self._made[key]
        return made


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _timed_into(ctx: Context, label: str, action: Callable[[Path], object]) -> float:
    """Time *action* on a fresh empty directory, removed afterwards (not timed)."""
    dest = ctx.fresh_dir(label)
    try:
        return _timed(lambda: action(dest))
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def _rows_by_concurrency(
    row_id: str,
    title: str,
    samples: dict[str, list[float]],
    concurrencies: Sequence[int],
    target: Target | None,
    params: dict[str, Any],
    unit: str = "s",
) -> list[Row]:
    group = row_id.split(".")[0]
    rows = []
    for c in concurrencies:
        chosen = {"ours": samples.get(f"ours@{c}", samples.get("ours", []))}
        if "sequential" in samples:
            chosen["sequential"] = samples["sequential"]
        if f"pool@{c}" in samples:
            chosen["pool"] = samples[f"pool@{c}"]
        rows.append(Row(f"{row_id}.c{c}", group, title, unit, chosen, c, target, params))
    return rows


# -- the groups ----------------------------------------------------------------------------------


def _save_many_variants(
    ctx: Context, conn: str, job_id: str, count: int, concurrencies: Sequence[int]
) -> dict[str, Callable[[], float]]:
    base, paths = ctx.small_files(count)
    container = ctx.job(job_id)
    files = [(task_blob_name("t1", ours.KIND, rel), base / rel) for rel in paths]

    def sequential() -> float:
        with plain.container_client(conn, container) as client:
            return _timed(lambda: plain.upload_sequential(client, files))

    def pool(c: int) -> Callable[[], float]:
        def run() -> float:
            with plain.container_client(conn, container, c) as client:
                return _timed(lambda: plain.upload_pool(client, files, c))

        return run

    def library(c: int) -> Callable[[], float]:
        return lambda: _timed(lambda: ours.save_many(conn, job_id, "t1", paths, base, c))

    variants: dict[str, Callable[[], float]] = {"sequential": sequential}
    for c in concurrencies:
        variants[f"ours@{c}"] = library(c)
        if c > 1:
            variants[f"pool@{c}"] = pool(c)
    return variants


def _download_variants(
    ctx: Context, conn: str, job_id: str, concurrencies: Sequence[int]
) -> dict[str, Callable[[], float]]:
    container = ctx.job(job_id)

    def sequential() -> float:
        with plain.container_client(conn, container) as client:
            return _timed_into(ctx, "dl-seq", lambda d: plain.download_sequential(client, d))

    def pool(c: int) -> Callable[[], float]:
        def run() -> float:
            with plain.container_client(conn, container, c) as client:
                return _timed_into(ctx, "dl-pool", lambda d: plain.download_pool(client, d, c))

        return run

    def library(c: int) -> Callable[[], float]:
        return lambda: _timed_into(ctx, "dl-ours", lambda d: ours.download_job(conn, job_id, d, c))

    variants: dict[str, Callable[[], float]] = {"sequential": sequential}
    for c in concurrencies:
        variants[f"ours@{c}"] = library(c)
        if c > 1:
            variants[f"pool@{c}"] = pool(c)
    return variants


def group_save_many(ctx: Context) -> list[Row]:
    s = ctx.sizes
    cs = s.concurrencies
    samples = measure.interleaved(
        ctx.repeats, _save_many_variants(ctx, ctx.conn, "bench-save-many", s.small_files, cs)
    )
    title = f"save_many {s.small_files} x {s.small_size // 1024} KiB"
    params = {"files": s.small_files, "size": s.small_size}
    return _rows_by_concurrency(
        "save_many.small", title, samples, cs, Target("≤ 1.05", 1.05), params
    )


def group_download(ctx: Context) -> list[Row]:
    s = ctx.sizes
    job_id = ctx.spread_job("bench-download", s.small_files, s.small_size)
    samples = measure.interleaved(
        ctx.repeats, _download_variants(ctx, ctx.conn, job_id, s.concurrencies)
    )
    title = f"download job {s.small_files} x {s.small_size // 1024} KiB / {s.tasks} tasks"
    params = {"files": s.small_files, "size": s.small_size, "tasks": s.tasks}
    return _rows_by_concurrency(
        "download.job", title, samples, s.concurrencies, Target("≤ 1.05", 1.05), params
    )


def group_listing(ctx: Context) -> list[Row]:
    s = ctx.sizes
    job_id = ctx.spread_job("bench-listing", s.listing, 64)
    container = ctx.job(job_id)
    conn = ctx.conn

    def plain_with(action: Callable[[Any], object]) -> Callable[[], float]:
        def run() -> float:
            with plain.container_client(conn, container) as client:
                return _timed(lambda: action(client))

        return run

    samples = measure.interleaved(
        ctx.repeats,
        {
            "ours-iterate": lambda: _timed(lambda: ours.list_iterate(conn, job_id)),
            "plain-iterate": plain_with(plain.list_iterate),
            "ours-list": lambda: _timed(lambda: ours.list_kept(conn, job_id)),
            "plain-list": plain_with(plain.list_kept),
        },
    )
    params = {"blobs": s.listing}
    return [
        Row(
            "listing.iterate",
            "listing",
            f"list a {s.listing}-blob job, iterate",
            "s",
            {"ours": samples["ours-iterate"], "sequential": samples["plain-iterate"]},
            None,
            Target("≤ 1.10", 1.10),
            params,
        ),
        Row(
            "listing.list",
            "listing",
            f"list a {s.listing}-blob job into list()",
            "s",
            {"ours": samples["ours-list"], "sequential": samples["plain-list"]},
            None,
            Target("≤ 1.20", 1.20),
            params,
        ),
    ]


def _kept_kib_per_item(build: Callable[[], Sequence[object]]) -> float:
    """KiB still allocated per item after *build* returns its list (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / max(len(kept), 1) / 1024


def group_memory(ctx: Context) -> list[Row]:
    s = ctx.sizes
    job_id = ctx.spread_job("bench-listing", s.listing, 64)
    container = ctx.job(job_id)
    conn = ctx.conn

    def plain_kept() -> list[object]:
        with plain.container_client(conn, container) as client:
            return plain.list_kept(client)

    samples = measure.interleaved(
        ctx.repeats,
        {
            "ours": lambda: _kept_kib_per_item(lambda: ours.list_kept(conn, job_id)),
            "sequential": lambda: _kept_kib_per_item(plain_kept),
        },
    )
    return [
        Row(
            "memory.per_output",
            "memory",
            f"memory per listed output, kept ({s.listing} listed)",
            "KiB",
            samples,
            None,
            Target("≤ 1.5 x plain", 1.5),
            {"blobs": s.listing, "how": "tracemalloc, after gc, list kept"},
        )
    ]


def group_large(ctx: Context) -> list[Row]:
    s = ctx.sizes
    return _large_rows(ctx, ctx.conn, "large", s.large, (8,), Target("≤ 1.05", 1.05))


def _large_rows(
    ctx: Context,
    conn: str,
    group: str,
    size: int,
    concurrencies: Sequence[int],
    target: Target | None,
) -> list[Row]:
    path = ctx.large_file(size)
    save_job = f"bench-{group}-save"
    container = ctx.job(save_job)
    name = task_blob_name("t1", ours.KIND, path.name)
    job_id, task_id, output = ctx.large_job(f"bench-{group}-download", size)
    down_container = container_name(job_id)
    down_name = task_blob_name(task_id, ours.KIND, output)

    def plain_up(c: int) -> Callable[[], float]:
        def run() -> float:
            with plain.container_client(conn, container, c) as client:
                return _timed(lambda: plain.upload_large(client, name, path, c))

        return run

    def plain_down(c: int) -> Callable[[], float]:
        def run() -> float:
            with plain.container_client(conn, down_container, c) as client:
                return _timed_into(
                    ctx, "large", lambda d: plain.download_large(client, down_name, d / "f", c)
                )

        return run

    def ours_up(c: int) -> Callable[[], float]:
        return lambda: _timed(lambda: ours.save_large(conn, save_job, "t1", path, c))

    def ours_down(c: int) -> Callable[[], float]:
        return lambda: _timed_into(
            ctx, "large", lambda d: ours.download_large(conn, job_id, task_id, output, d / "f", c)
        )

    rows: list[Row] = []
    mib = size // MiB
    for op, library, baseline, accepts in (
        ("save", ours_up, plain_up, ours.CHUNK_CONCURRENCY["save"]),
        ("download_to_file", ours_down, plain_down, ours.CHUNK_CONCURRENCY["download_to_file"]),
    ):
        variants: dict[str, Callable[[], float]] = {"sequential": baseline(1)}
        for c in concurrencies:
            if accepts:
                variants[f"ours@{c}"] = library(c)
            if c > 1:
                variants[f"pool@{c}"] = baseline(c)
        if not accepts:
            variants["ours"] = library(1)  # the library's default; c is not passed
        samples = measure.interleaved(ctx.repeats, variants)
        for row in _rows_by_concurrency(
            f"{group}.{op}", f"{mib} MiB {op}", samples, concurrencies, target, {"bytes": size}
        ):
            row.note = "" if accepts else "the library takes no chunk concurrency: its default"
            rows.append(row)
    return rows


def group_latency(ctx: Context) -> list[Row]:
    s = ctx.sizes
    cs = s.latency_concurrencies
    rows: list[Row] = []
    with LatencyProxy(ctx.azurite.port, s.latency) as proxy:
        conn = proxy.rewrite(ctx.conn)
        ms = round(s.latency * 1000)
        for row in _large_rows(ctx, conn, "latency", s.latency_large, cs, Target("≤ 1.10", 1.10)):
            row.title += f" via {ms} ms proxy"
            row.params["latency"] = s.latency
            rows.append(row)
        params = {"files": s.latency_files, "size": s.small_size, "latency": s.latency}
        samples = measure.interleaved(
            ctx.repeats,
            _save_many_variants(ctx, conn, "bench-latency-many", s.latency_files, cs),
        )
        title = f"save_many {s.latency_files} x {s.small_size // 1024} KiB via {ms} ms proxy"
        rows += _rows_by_concurrency("latency.save_many", title, samples, cs, None, params)
        job_id = ctx.spread_job("bench-latency-many", s.latency_files, s.small_size)
        samples = measure.interleaved(ctx.repeats, _download_variants(ctx, conn, job_id, cs))
        title = f"download job {s.latency_files} x {s.small_size // 1024} KiB via {ms} ms proxy"
        rows += _rows_by_concurrency("latency.download_job", title, samples, cs, None, params)
    return rows


# -- the async face (issue 23) -----------------------------------------------------------------


def _measured(action: Callable[[], object], expect: int | None = None) -> tuple[float, float]:
    """Wall seconds and this process's CPU seconds (``time.process_time``: every thread of
    the process; Azurite and the proxy run in processes of their own) of *action*. With
    *expect*, the count *action* returns must be it: a variant doing nothing is not fast."""
    cpu = time.process_time()
    started = time.perf_counter()
    done = action()
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    if expect is not None and done != expect:
        raise RuntimeError(f"expected {expect} files, the variant reported {done!r}")
    return wall, used


def _measured_into(
    ctx: Context, label: str, action: Callable[[Path], object], expect: int
) -> tuple[float, float]:
    """:func:`_measured` on a fresh empty directory, removed afterwards (not measured)."""
    dest = ctx.fresh_dir(label)
    try:
        return _measured(lambda: action(dest), expect)
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def _aio_save_variants(
    ctx: Context, conn: str, job_id: str, count: int, concurrencies: Sequence[int]
) -> dict[str, Callable[[], tuple[float, float]]]:
    base, paths = ctx.small_files(count)
    container = ctx.job(job_id)
    files = [(task_blob_name("t1", ours.KIND, rel), base / rel) for rel in paths]

    def aio_plain(c: int) -> Callable[[], tuple[float, float]]:
        return lambda: _measured(lambda: plain_aio.upload(conn, container, files, c), count)

    def pool(c: int) -> Callable[[], tuple[float, float]]:
        def run() -> tuple[float, float]:
            with plain.container_client(conn, container, c) as client:
                return _measured(lambda: plain.upload_pool(client, files, c), count)

        return run

    def sync(c: int) -> Callable[[], tuple[float, float]]:
        return lambda: _measured(lambda: ours.save_many(conn, job_id, "t1", paths, base, c), count)

    def face(c: int) -> Callable[[], tuple[float, float]]:
        return lambda: _measured(
            lambda: ours_aio.save_many(conn, job_id, "t1", paths, base, c), count
        )

    return _face_variants(concurrencies, aio_plain, pool, sync, face)


def _aio_download_variants(
    ctx: Context, conn: str, job_id: str, count: int, concurrencies: Sequence[int]
) -> dict[str, Callable[[], tuple[float, float]]]:
    container = ctx.job(job_id)

    def aio_plain(c: int) -> Callable[[], tuple[float, float]]:
        return lambda: _measured_into(
            ctx, "aio-plain", lambda d: plain_aio.download(conn, container, d, c), count
        )

    def pool(c: int) -> Callable[[], tuple[float, float]]:
        def run() -> tuple[float, float]:
            with plain.container_client(conn, container, c) as client:
                return _measured_into(
                    ctx, "aio-pool", lambda d: plain.download_pool(client, d, c), count
                )

        return run

    def sync(c: int) -> Callable[[], tuple[float, float]]:
        return lambda: _measured_into(
            ctx, "aio-sync", lambda d: ours.download_job(conn, job_id, d, c), count
        )

    def face(c: int) -> Callable[[], tuple[float, float]]:
        return lambda: _measured_into(
            ctx, "aio-ours", lambda d: ours_aio.download_job(conn, job_id, d, c), count
        )

    return _face_variants(concurrencies, aio_plain, pool, sync, face)


_Variant = Callable[[int], Callable[[], tuple[float, float]]]


def _face_variants(
    concurrencies: Sequence[int],
    aio_plain: _Variant,
    pool: _Variant,
    sync: _Variant,
    face: _Variant,
) -> dict[str, Callable[[], tuple[float, float]]]:
    """``"<variant>@<c>"``: each of FACE_VARIANTS at each c; the async face only if present."""
    variants = {}
    for c in concurrencies:
        variants[f"plain-aio@{c}"] = aio_plain(c)
        variants[f"pool@{c}"] = pool(c)
        variants[f"ours-sync@{c}"] = sync(c)
        if not ours_aio.UNAVAILABLE:
            variants[f"ours-aio@{c}"] = face(c)
    return variants


def _interleaved_with_cpu(
    repeats: int, variants: dict[str, Callable[[], tuple[float, float]]]
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """:func:`measure.interleaved` of variants that measure (wall, CPU): both, by name."""
    cpu: dict[str, list[float]] = {name: [] for name in variants}

    def recording(name: str) -> Callable[[], float]:
        def run() -> float:
            wall, used = variants[name]()
            cpu[name].append(used)
            return wall

        return run

    return measure.interleaved(repeats, {name: recording(name) for name in variants}), cpu


def group_aio(ctx: Context) -> list[FaceRow]:
    """Issue 23: the async face against plain aio code, the plain pool and the sync face."""
    s = ctx.sizes
    count = s.aio_files
    ms = round(s.latency * 1000)
    size = f"{count} x {s.small_size // 1024} KiB"
    save_job = "bench-aio-save"
    download_job = ctx.spread_job("bench-aio-download", count, s.small_size)
    ctx.small_files(count)  # setup before the proxy starts: not measured
    rows: list[FaceRow] = []
    with LatencyProxy(ctx.azurite.port, s.latency) as proxy:
        conn = proxy.rewrite(ctx.conn)
        for op, title, make, params in (
            (
                "save_many",
                f"save_many {size} (one task) via {ms} ms proxy",
                functools.partial(_aio_save_variants, ctx, conn, save_job, count),
                {"size": s.small_size, "tasks": 1, "latency": s.latency},
            ),
            (
                "download",
                f"download job {size} / {s.tasks} tasks via {ms} ms proxy",
                functools.partial(_aio_download_variants, ctx, conn, download_job, count),
                {"size": s.small_size, "tasks": s.tasks, "latency": s.latency},
            ),
        ):
            default = ours_aio.default_concurrency(op)
            cs = sorted(set(s.aio_concurrencies))
            if s.aio_default_row and default is not None and default not in cs:
                cs = sorted([*cs, default])
            samples, cpu = _interleaved_with_cpu(ctx.repeats, make(cs))
            op_rows = []
            for c in cs:
                chosen = [v for v in measure.FACE_VARIANTS if f"{v}@{c}" in samples]
                op_rows.append(
                    FaceRow(
                        f"aio.{op}.c{c}",
                        "aio",
                        title,
                        count,
                        c,
                        {v: samples[f"{v}@{c}"] for v in chosen},
                        {v: cpu[f"{v}@{c}"] for v in chosen},
                        missing={"ours-aio": ours_aio.UNAVAILABLE} if ours_aio.UNAVAILABLE else {},
                        params={**params, "default_concurrency": default},
                        note="" if default is not None else "the async face's default c unknown",
                    )
                )
            measure.judge_faces(op_rows, default)
            rows += op_rows
    return rows


def _child_rss_mib(config: dict[str, Any]) -> float:
    done = subprocess.run(
        [sys.executable, "-m", "bench.child"],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.child {config['op']} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return float(result["peak_kib"] - result["before_kib"]) / 1024


def group_rss(ctx: Context) -> list[Row]:
    s = ctx.sizes
    c = 8
    listing_job = ctx.spread_job("bench-listing", s.listing, 64)
    base, paths = ctx.small_files(s.rss_save)
    save_job = "bench-rss-save"
    big_job, big_task, big_output = ctx.large_job("bench-rss-large", s.rss_large)
    common = {"connection_string": ctx.conn, "concurrency": c}

    def child(config: dict[str, Any], fresh: str | None = None) -> Callable[[], float]:
        def run() -> float:
            if fresh is None:
                return _child_rss_mib({**common, **config})
            dest = ctx.fresh_dir("rss")
            try:
                return _child_rss_mib({**common, **config, fresh: str(dest / "out")})
            finally:
                shutil.rmtree(dest, ignore_errors=True)

        return run

    specs: list[tuple[str, str, dict[str, Any], str | None, Target]] = [
        (
            "download_job",
            f"peak RSS, download a {s.listing}-output job",
            {"job_id": listing_job, "container": ctx.job(listing_job)},
            "dest",
            Target("≤ 1.2 x plain", 1.2),
        ),
        (
            "save_many",
            f"peak RSS, save_many of {s.rss_save} files",
            {
                "job_id": save_job,
                "task_id": "t1",
                "container": ctx.job(save_job),
                "base_dir": str(base),
                "paths": paths,
                "files": [[task_blob_name("t1", ours.KIND, p), p] for p in paths],
            },
            None,
            Target("≤ plain + 10 MiB", plus=10.0),
        ),
        (
            "download_large",
            f"peak RSS, {s.rss_large // MiB} MiB download to a file",
            {
                "job_id": big_job,
                "task_id": big_task,
                "path": big_output,
                "container": container_name(big_job),
                "blob": task_blob_name(big_task, ours.KIND, big_output),
            },
            "target",
            Target("≤ plain", 1.0),
        ),
    ]
    variants: dict[str, Callable[[], float]] = {}
    for op, _, config, fresh, _ in specs:
        for variant in ("ours", "pool"):
            variants[f"{op}/{variant}"] = child({**config, "op": op, "variant": variant}, fresh)
    samples = measure.interleaved(ctx.repeats, variants)
    return [
        Row(
            f"rss.{op}",
            "rss",
            title,
            "MiB",
            {"ours": samples[f"{op}/ours"], "pool": samples[f"{op}/pool"]},
            c,
            target,
            {"how": "child process: VmHWM minus VmRSS before the operation"},
        )
        for op, title, _, _, target in specs
    ]


def group_rules(ctx: Context) -> list[Row]:
    calls = ctx.sizes.rule_calls
    samples = measure.interleaved(
        ctx.repeats,
        {
            name: functools.partial(rules.calls_per_second, rule, calls)
            for name, rule in rules.RULES.items()
        },
    )
    return [
        Row(f"rules.{name}", "rules", f"{name}()", "calls/s", {"ours": samples[name]}, None, None)
        for name in rules.RULES
    ]


#: The groups, in the order they run; ``--only`` picks among them.
GROUPS: dict[str, Callable[[Context], Sequence[Row | FaceRow]]] = {
    "save_many": group_save_many,
    "download": group_download,
    "listing": group_listing,
    "memory": group_memory,
    "large": group_large,
    "latency": group_latency,
    "rss": group_rss,
    "aio": group_aio,
    "rules": group_rules,
}
#: Groups that need no storage (no Azurite is started for them alone).
STORAGE_FREE = frozenset({"rules"})


def run(groups: Sequence[str], sizes: Sizes, repeats: int) -> Iterator[Row | FaceRow]:
    """Start Azurite (unless only storage-free groups run) and yield each group's rows."""
    with contextlib.ExitStack() as stack:
        scratch = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="conventions-bench-"))
        )
        needs_storage = any(name not in STORAGE_FREE for name in groups)
        azurite = stack.enter_context(Azurite()) if needs_storage else None
        ctx = Context(azurite, scratch, sizes, repeats)
        stack.callback(ctx.close)
        for name in groups:
            _log(f"{name} ...")
            started = time.monotonic()
            yield from GROUPS[name](ctx)
            _log(f"{name} done in {time.monotonic() - started:.1f} s")


def _groups(text: str | None) -> list[str]:
    if not text:
        return list(GROUPS)
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in chosen if name not in GROUPS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown group {', '.join(unknown) or '(none)'}; choose among {', '.join(GROUPS)}"
        )
    return [name for name in GROUPS if name in chosen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="every row, small (< 60 s idle)")
    parser.add_argument(
        "--only",
        type=_groups,
        default=None,
        metavar="GROUP[,GROUP...]",
        help=f"run only these groups: {', '.join(GROUPS)}",
    )
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats (default 3)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the JSON to write")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    groups: list[str] = args.only or list(GROUPS)
    sizes = QUICK if args.quick else FULL
    env = measure.environment(REPO_ROOT)
    env["chunk_concurrency_accepted"] = dict(ours.CHUNK_CONCURRENCY)
    started = time.monotonic()
    rows = list(run(groups, sizes, args.repeats))
    seconds = time.monotonic() - started
    doc = measure.document(
        rows, env=env, quick=args.quick, repeats=args.repeats, groups=groups, seconds=seconds
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    partial = args.output.with_name(args.output.name + ".part")
    partial.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    os.replace(partial, args.output)

    from rich.console import Console

    load = env.get("load_average")
    title = (
        f"conventions vs plain azure-storage-blob ({'quick' if args.quick else 'full'}, "
        f"medians of {args.repeats}, {env['cores']} cores, load {load[0]:.1f})"
        if load
        else "conventions vs plain azure-storage-blob"
    )
    console = Console() if sys.stdout.isatty() else Console(width=160)
    plain_rows = [row for row in rows if isinstance(row, Row)]
    face_rows = [row for row in rows if isinstance(row, FaceRow)]
    if plain_rows:
        console.print(measure.rich_table(plain_rows, title))
    for table in measure.face_tables(face_rows, "the async face (issue 23)") if face_rows else ():
        console.print(table)
    if args.markdown:
        if plain_rows:
            print(measure.markdown_table(plain_rows))
        if face_rows:
            print(measure.face_markdown(face_rows))
    print(f"{len(rows)} rows in {seconds:.1f} s; written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
