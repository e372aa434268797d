"""The benchmark's bookkeeping, without I/O: interleaved repeats, medians, ratios, targets,
the environment record, the JSON document and the tables.

A *row* is one line of the issue-14 table: the same operation done by ``ours`` (the library),
``sequential`` (a plain azure-storage-blob loop) and ``pool`` (the best hand-written thread
pool of plain code), each measured ``repeats`` times, interleaved so that a load spike on the
shared machine hits every variant alike. Ratios are ``ours / best plain`` (the pool when the
row has one, else the sequential loop).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "FACE_VARIANTS",
    "SCHEMA",
    "VARIANTS",
    "Check",
    "FaceRow",
    "Row",
    "Target",
    "document",
    "environment",
    "face_markdown",
    "face_tables",
    "interleaved",
    "judge_faces",
    "markdown_table",
    "rich_table",
]

#: Version of the JSON document's layout (bench/results/latest.json).
SCHEMA = 1
VARIANTS = ("ours", "sequential", "pool")
_PACKAGES = (
    "batch-file-conventions",
    "azure-storage-blob",
    "azure-core",
    "requests",
    "urllib3",
    "aiohttp",
    "rich",
)


def interleaved(
    repeats: int, variants: Mapping[str, Callable[[], float]]
) -> dict[str, list[float]]:
    """Run every variant *repeats* times, round-robin, starting one later each round.

    Returns the samples by variant name, in the order they were taken.

    >>> calls = []
    >>> def make(name):
    ...     return lambda: calls.append(name) or 1.0
    >>> interleaved(2, {"a": make("a"), "b": make("b")})
    {'a': [1.0, 1.0], 'b': [1.0, 1.0]}
    >>> calls
    ['a', 'b', 'b', 'a']
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, not {repeats}")
    names = list(variants)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            samples[name].append(float(variants[name]()))
    return samples


@dataclass(frozen=True)
class Target:
    """The issue's goal for a row: ``ours / best <= ratio``, or ``ours <= best + plus``."""

    text: str
    ratio: float | None = None
    plus: float | None = None

    def met(self, ours: float | None, best: float | None) -> bool | None:
        """Whether the medians meet the target (None when a median is missing)."""
        if ours is None or best is None:
            return None
        if self.ratio is not None:
            return best > 0 and ours / best <= self.ratio
        if self.plus is not None:
            return ours <= best + self.plus
        return None


@dataclass
class Row:
    """One measured row: samples per variant (seconds, MiB, KiB or calls/s, per ``unit``)."""

    id: str
    group: str
    title: str
    unit: str
    samples: dict[str, list[float]]
    concurrency: int | None = None
    target: Target | None = None
    params: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def median(self, variant: str) -> float | None:
        values = self.samples.get(variant)
        return statistics.median(values) if values else None

    @property
    def baseline(self) -> str | None:
        """The best plain variant measured in this row: the pool, else the sequential loop."""
        for name in ("pool", "sequential"):
            if self.samples.get(name):
                return name
        return None

    def ratio(self, over: str) -> float | None:
        ours, other = self.median("ours"), self.median(over)
        if ours is None or other is None or other == 0:
            return None
        return ours / other

    def to_json(self) -> dict[str, Any]:
        baseline = self.baseline
        best = self.median(baseline) if baseline else None
        return {
            "id": self.id,
            "group": self.group,
            "title": self.title,
            "unit": self.unit,
            "concurrency": self.concurrency,
            "params": self.params,
            "samples": self.samples,
            "median": {name: self.median(name) for name in self.samples},
            "baseline": baseline,
            "ratios": {
                f"ours/{name}": self.ratio(name)
                for name in ("sequential", "pool")
                if self.samples.get(name)
            },
            "target": None
            if self.target is None
            else {"text": self.target.text, "met": self.target.met(self.median("ours"), best)},
            "note": self.note,
        }


#: The ``aio`` group's variants (issue 23): plain aio code, the plain thread pool, the sync
#: face, the async face.
FACE_VARIANTS = ("plain-aio", "pool", "ours-sync", "ours-aio")


@dataclass(frozen=True)
class Check:
    """One of issue 23's targets on a face row: the ratio measured and whether it meets it."""

    text: str
    value: float | None
    met: bool | None

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "value": self.value, "met": self.met}


@dataclass
class FaceRow:
    """One operation on *files* files at one concurrency, measured with each of
    :data:`FACE_VARIANTS`: wall seconds (``samples``) and the measuring process's CPU
    seconds (``cpu``) of each run. A variant that could not run is in ``missing``, with why.
    """

    id: str
    group: str
    title: str
    files: int
    concurrency: int
    samples: dict[str, list[float]]
    cpu: dict[str, list[float]]
    missing: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    ratios: dict[str, float | None] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    note: str = ""
    unit: str = "s"

    def median(self, variant: str) -> float | None:
        values = self.samples.get(variant)
        return statistics.median(values) if values else None

    def files_per_second(self, variant: str) -> float | None:
        seconds = self.median(variant)
        return self.files / seconds if seconds else None

    def cpu_per_file(self, variant: str) -> float | None:
        """Median CPU seconds of a run, per file."""
        values = self.cpu.get(variant)
        return statistics.median(values) / self.files if values and self.files else None

    def to_json(self) -> dict[str, Any]:
        measured = [name for name in FACE_VARIANTS if self.samples.get(name)]
        return {
            "id": self.id,
            "group": self.group,
            "title": self.title,
            "unit": self.unit,
            "concurrency": self.concurrency,
            "params": {**self.params, "files": self.files},
            "samples": self.samples,
            "cpu_seconds": self.cpu,
            "median": {name: self.median(name) for name in measured},
            "files_per_second": {name: self.files_per_second(name) for name in measured},
            "cpu_ms_per_file": {name: _times(self.cpu_per_file(name), 1000) for name in measured},
            "missing": self.missing,
            "ratios": self.ratios,
            "checks": [check.to_json() for check in self.checks],
            "note": self.note,
        }


def _times(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _over(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def _at_least(value: float | None, limit: float) -> bool | None:
    return None if value is None else value >= limit


def judge_faces(rows: Sequence[FaceRow], default_concurrency: int | None) -> None:
    """Set the ratios and issue 23's checks of *rows*: one operation at each concurrency.

    At every c: ours-aio time ≤ 1.10 x plain-aio, ours-sync time ≤ 1.05 x the pool. At the
    async face's default c: ours-aio files/s ≥ 1.6 x the sync face's best (over the rows'
    concurrencies), at ≤ 0.6 x the sync face's CPU per file at that best c.

    >>> def row(c, aio, sync):
    ...     wall = {"plain-aio": [1.0], "pool": [2.0], "ours-sync": [sync], "ours-aio": [aio]}
    ...     return FaceRow(f"op.c{c}", "aio", "op", 100, c, wall,
    ...                    {"ours-sync": [0.2], "ours-aio": [0.1]})
    >>> rows = [row(32, 1.05, 2.0), row(128, 1.2, 4.0)]
    >>> judge_faces(rows, 32)
    >>> [(check.text, round(check.value, 2), check.met) for check in rows[0].checks]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('ours-aio / plain-aio time ≤ 1.10', 1.05, True),
     ('ours-sync / pool time ≤ 1.05', 1.0, True),
     ('ours-aio files/s ≥ 1.6 x ours-sync best (c = 32)', 1.9, True),
     ('ours-aio CPU per file ≤ 0.6 x ours-sync (c = 32)', 0.5, True)]
    >>> [check.met for check in rows[1].checks]
    [False, False]
    """
    timed = [row for row in rows if row.files_per_second("ours-sync") is not None]
    best = max(timed, key=lambda row: row.files_per_second("ours-sync") or 0.0, default=None)
    best_fps = best.files_per_second("ours-sync") if best else None
    best_cpu = best.cpu_per_file("ours-sync") if best else None
    best_c = best.concurrency if best else "?"
    for index, row in enumerate(rows):
        aio_time = _over(row.median("ours-aio"), row.median("plain-aio"))
        sync_time = _over(row.median("ours-sync"), row.median("pool"))
        speedup = _over(row.files_per_second("ours-aio"), best_fps)
        cpu = _over(row.cpu_per_file("ours-aio"), best_cpu)
        row.ratios = {
            "ours-aio/plain-aio time": aio_time,
            "ours-sync/pool time": sync_time,
            "ours-aio/plain-aio CPU per file": _over(
                row.cpu_per_file("ours-aio"), row.cpu_per_file("plain-aio")
            ),
            "ours-aio/ours-sync best files/s": speedup,
            "ours-aio/ours-sync best CPU per file": cpu,
        }
        row.checks = [
            Check("ours-aio / plain-aio time ≤ 1.10", aio_time, _at_most(aio_time, 1.10)),
            Check("ours-sync / pool time ≤ 1.05", sync_time, _at_most(sync_time, 1.05)),
        ]
        at_default = row.concurrency == default_concurrency
        if at_default or (default_concurrency is None and index == 0):
            where = "" if at_default else ", at the async face's default c (unknown)"
            row.checks += [
                Check(
                    f"ours-aio files/s ≥ 1.6 x ours-sync best (c = {best_c}){where}",
                    speedup if at_default else None,
                    _at_least(speedup, 1.6) if at_default else None,
                ),
                Check(
                    f"ours-aio CPU per file ≤ 0.6 x ours-sync (c = {best_c}){where}",
                    cpu if at_default else None,
                    _at_most(cpu, 0.6) if at_default else None,
                ),
            ]


def _face_cells(row: FaceRow) -> list[list[str]]:
    lines = []
    for name in FACE_VARIANTS:
        if name in row.missing:
            lines.append([row.title, str(row.concurrency), name, "not available", "-", "-"])
            continue
        fps, cpu = row.files_per_second(name), row.cpu_per_file(name)
        lines.append(
            [
                row.title,
                str(row.concurrency),
                name,
                _fmt(row.median(name), "s"),
                "-" if fps is None else f"{fps:,.0f}",
                "-" if cpu is None else f"{cpu * 1000:.2f}",
            ]
        )
    return lines


def _check_cells(row: FaceRow) -> list[list[str]]:
    return [
        [
            row.title,
            str(row.concurrency),
            check.text,
            "-" if check.value is None else f"{check.value:.2f}",
            {True: "yes", False: "no", None: ""}[check.met],
        ]
        for check in row.checks
    ]


_FACE_HEADERS = ("row", "c", "variant", "s", "files/s", "CPU ms/file")
_CHECK_HEADERS = ("row", "c", "target", "ratio", "met")


def face_tables(rows: Sequence[FaceRow], title: str) -> list[Any]:
    """Two rich Tables: each variant's medians, then issue 23's targets."""
    from rich.table import Table

    tables = []
    for headers, cells, name in (
        (_FACE_HEADERS, _face_cells, title),
        (_CHECK_HEADERS, _check_cells, f"{title}: targets"),
    ):
        table = Table(title=name)
        for header in headers:
            left = header in ("row", "variant", "target")
            table.add_column(header, justify="left" if left else "right")
        for row in rows:
            for line in cells(row):
                table.add_row(*line)
        tables.append(table)
    return tables


def face_markdown(rows: Sequence[FaceRow]) -> str:
    """The same two tables in Markdown."""
    parts = []
    for headers, cells in ((_FACE_HEADERS, _face_cells), (_CHECK_HEADERS, _check_cells)):
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(line) + " |" for row in rows for line in cells(row)]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _version(command: Sequence[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def environment(repo_root: Path) -> dict[str, Any]:
    """The machine, interpreter and package versions a result was measured with."""
    packages: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    try:
        azurite_meta = json.loads(
            (repo_root / "node_modules" / "azurite" / "package.json").read_text()
        )
        packages["azurite"] = str(azurite_meta.get("version"))
    except (OSError, ValueError):
        packages["azurite"] = None
    packages["node"] = _version(["node", "--version"])
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 0
    return {
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "executable": sys.executable,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "packages": packages,
    }


def document(
    rows: Sequence[Row | FaceRow],
    *,
    env: Mapping[str, Any],
    quick: bool,
    repeats: int,
    groups: Sequence[str],
    seconds: float,
) -> dict[str, Any]:
    """The JSON document written to bench/results/latest.json."""
    load_end = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    return {
        "schema": SCHEMA,
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": quick,
        "repeats": repeats,
        "groups": list(groups),
        "seconds": round(seconds, 3),
        "environment": {**env, "load_average_end": load_end},
        "rows": [row.to_json() for row in rows],
    }


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "calls/s":
        return f"{value:,.0f}"
    if unit == "s":
        return f"{value:.3f}"
    return f"{value:.1f}"


def _cells(row: Row) -> list[str]:
    baseline = row.baseline
    best_ratio = row.ratio(baseline) if baseline else None
    best = row.median(baseline) if baseline else None
    met = row.target.met(row.median("ours"), best) if row.target else None
    return [
        row.title,
        "" if row.concurrency is None else str(row.concurrency),
        row.unit,
        *(_fmt(row.median(name), row.unit) for name in VARIANTS),
        "-" if best_ratio is None else f"{best_ratio:.2f}",
        "-" if row.ratio("sequential") is None else f"{row.ratio('sequential'):.2f}",
        row.target.text if row.target else "",
        {True: "yes", False: "no", None: ""}[met],
    ]


_HEADERS = (
    "row",
    "c",
    "unit",
    "ours",
    "sequential",
    "pool",
    "ours/best",
    "ours/seq",
    "target",
    "met",
)


def rich_table(rows: Sequence[Row], title: str) -> Any:
    """A rich Table of the medians and ratios (rich is imported here, not at module import)."""
    from rich.table import Table

    table = Table(title=title)
    for header in _HEADERS:
        table.add_column(header, justify="left" if header in ("row", "target") else "right")
    for row in rows:
        table.add_row(*_cells(row))
    return table


def markdown_table(rows: Sequence[Row]) -> str:
    """The same table in Markdown, for bench/README.md.

    >>> print(markdown_table([Row("x", "g", "op", "s", {"ours": [2.0], "pool": [1.0]})]))
    | row | c | unit | ours | sequential | pool | ours/best | ours/seq | target | met |
    |---|---|---|---|---|---|---|---|---|---|
    | op |  | s | 2.000 | - | 1.000 | 2.00 | - |  |  |
    """
    lines = [
        "| " + " | ".join(_HEADERS) + " |",
        "|" + "---|" * len(_HEADERS),
    ]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in rows]
    return "\n".join(lines)
