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
    "SCHEMA",
    "VARIANTS",
    "Row",
    "Target",
    "document",
    "environment",
    "interleaved",
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
    rows: Sequence[Row],
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
