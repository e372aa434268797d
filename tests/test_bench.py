"""The benchmark suite (bench/) runs and writes a well-formed result; no timing is asserted."""

from __future__ import annotations

import doctest
import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench import measure
from bench.suite import GROUPS, main

REPO_ROOT = Path(__file__).resolve().parents[1]


def _check_face_row(row: dict[str, Any]) -> None:
    """A row of the aio group (measure.FaceRow): wall and CPU samples per face variant."""
    assert row["unit"] == "s"
    assert row["concurrency"] >= 1
    files = row["params"]["files"]
    assert files >= 1
    # Every plain variant and the sync face ran; the async face ran or says why not.
    assert {"plain-aio", "pool", "ours-sync"} <= set(row["samples"])
    assert ("ours-aio" in row["samples"]) != ("ours-aio" in row["missing"])
    for variant, values in row["samples"].items():
        assert variant in measure.FACE_VARIANTS
        assert len(values) >= 3, (row["id"], variant)
        assert all(isinstance(v, float) and math.isfinite(v) and v > 0 for v in values)
        cpu = row["cpu_seconds"][variant]
        assert len(cpu) == len(values)
        assert all(isinstance(v, float) and math.isfinite(v) and v >= 0 for v in cpu)
        median = sorted(values)[len(values) // 2]
        assert row["median"][variant] == median
        assert row["files_per_second"][variant] == pytest.approx(files / median)
        cpu_median = sorted(cpu)[len(cpu) // 2]
        assert row["cpu_ms_per_file"][variant] == pytest.approx(cpu_median / files * 1000)
    texts = [check["text"] for check in row["checks"]]
    assert "ours-aio / plain-aio time ≤ 1.10" in texts
    assert "ours-sync / pool time ≤ 1.05" in texts
    sync_over_pool = row["median"]["ours-sync"] / row["median"]["pool"]
    assert row["ratios"]["ours-sync/pool time"] == pytest.approx(sync_over_pool)
    for check in row["checks"]:
        assert check["met"] in (True, False, None)
        assert (check["value"] is None) == (check["met"] is None)


def _check_row(row: dict[str, Any]) -> None:
    assert row["group"] in GROUPS
    if row["group"] == "aio":
        _check_face_row(row)
        return
    assert row["unit"] in ("s", "MiB", "KiB", "calls/s")
    assert "ours" in row["samples"]
    for variant, values in row["samples"].items():
        assert variant in measure.VARIANTS
        assert len(values) >= 3, (row["id"], variant)
        assert all(isinstance(v, float) and math.isfinite(v) for v in values)
        assert row["median"][variant] == sorted(values)[len(values) // 2]
    if row["unit"] in ("s", "calls/s"):
        assert all(v > 0 for values in row["samples"].values() for v in values)
    for ratio in row["ratios"].values():
        assert ratio is None or math.isfinite(ratio)
    if row["target"] is not None:
        assert row["target"]["text"]
        assert row["target"]["met"] in (True, False, None)


def test_quick_run_covers_every_group_and_writes_json(tmp_path: Path) -> None:
    """The documented command, as a user runs it: --quick, every group, one JSON document."""
    output = tmp_path / "latest.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(output)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "written to" in done.stdout
    doc = json.loads(output.read_text())
    assert doc["schema"] == measure.SCHEMA
    assert doc["quick"] is True
    assert doc["repeats"] == 3
    assert doc["groups"] == list(GROUPS)
    env = doc["environment"]
    assert isinstance(env["cores"], int)
    assert env["cores"] >= 1
    assert env["python"].count(".") == 2
    assert env["packages"]["azure-storage-blob"]
    assert env["packages"]["batch-file-conventions"]
    assert {row["group"] for row in doc["rows"]} == set(GROUPS)
    for row in doc["rows"]:
        _check_row(row)
    # The rows the table names are all there.
    ids = {row["id"] for row in doc["rows"]}
    assert {"listing.iterate", "listing.list", "memory.per_output"} <= ids
    assert {"rss.download_job", "rss.save_many", "rss.download_large"} <= ids
    latency = [row for row in doc["rows"] if row["group"] == "latency"]
    assert {row["concurrency"] for row in latency} == {1, 8, 32}
    assert {"aio.save_many.c32", "aio.download.c32"} <= ids
    # The pool baseline is in every row that has one, and each pool row is compared to it.
    for row in doc["rows"]:
        if "pool" in row["samples"] and row["group"] != "aio":
            assert row["baseline"] == "pool"
            assert "ours/pool" in row["ratios"]


def test_only_rules_runs_without_storage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "rules.json"
    assert main(["--quick", "--only", "rules", "--output", str(output)]) == 0
    doc = json.loads(output.read_text())
    assert doc["groups"] == ["rules"]
    assert [row["id"] for row in doc["rows"]] == [
        "rules.task_blob_name",
        "rules.container_name",
        "rules.parse_blob_name",
    ]
    for row in doc["rows"]:
        _check_row(row)
    assert "parse_blob_name" in capsys.readouterr().out


def test_only_rejects_an_unknown_group(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--only", "listing,nope"])
    assert exit_info.value.code == 2
    assert "unknown group nope" in capsys.readouterr().err


def test_interleaved_rotates_and_targets_judge_medians() -> None:
    assert doctest.testmod(measure).failed == 0
    order: list[str] = []

    def variant(name: str) -> Callable[[], float]:
        def run() -> float:
            order.append(name)
            return 2.0

        return run

    samples = measure.interleaved(3, {name: variant(name) for name in "abc"})
    assert order == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert samples == {"a": [2.0] * 3, "b": [2.0] * 3, "c": [2.0] * 3}
    row = measure.Row("r", "g", "t", "s", {"ours": [1.0, 9.0, 1.1], "pool": [1.0, 1.0, 5.0]})
    assert row.baseline == "pool"
    assert row.ratio("pool") == pytest.approx(1.1)
    assert measure.Target("≤ 1.05", ratio=1.05).met(1.1, 1.0) is False
    assert measure.Target("≤ 1.20", ratio=1.20).met(1.1, 1.0) is True
    assert measure.Target("≤ plain + 10 MiB", plus=10.0).met(12.0, 3.0) is True
    assert measure.Target("≤ plain + 10 MiB", plus=10.0).met(14.0, 3.0) is False
    with pytest.raises(ValueError, match="at least 1"):
        measure.interleaved(0, {})


def test_face_rows_without_the_async_face_judge_only_the_sync_face() -> None:
    """Before conventions.aio lands the aio rows judge the sync face and leave the async
    face's targets unjudged (None), never met or missed."""
    rows = [
        measure.FaceRow(
            f"aio.op.c{c}",
            "aio",
            "op",
            100,
            c,
            {"plain-aio": [1.0], "pool": [2.0], "ours-sync": [sync]},
            {"plain-aio": [0.1], "pool": [0.2], "ours-sync": [0.3]},
            missing={"ours-aio": "not available (import conventions.aio: no module)"},
        )
        for c, sync in ((32, 2.2), (128, 1.5))
    ]
    measure.judge_faces(rows, None)
    first = {check.text: (check.value, check.met) for check in rows[0].checks}
    value, met = first["ours-sync / pool time ≤ 1.05"]
    assert value == pytest.approx(1.1)
    assert met is False
    assert first["ours-aio / plain-aio time ≤ 1.10"] == (None, None)
    unjudged = [text for text in first if "default c (unknown)" in text]
    assert len(unjudged) == 2
    assert all(first[text] == (None, None) for text in unjudged)
    assert "(c = 128)" in unjudged[0]  # the sync face's best throughput
    assert [check.met for check in rows[1].checks] == [None, True]
    assert "ours-aio" in measure.face_markdown(rows).split("\n\n")[0]
    assert "not available" in measure.face_markdown(rows)
