"""The README's main job, scripts/demo.py, runs end to end (so that it cannot rot)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "scripts" / "demo.py"


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEMO), *args], capture_output=True, text=True, timeout=300
    )


def test_demo_persists_every_expected_blob(tmp_path: Path) -> None:
    result = _demo("--keep", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all 11 expected blobs arrived" in result.stdout
    downloads = tmp_path / "downloads"
    assert (downloads / "analyse" / "results" / "histogram.csv").read_text() == (
        "bin,count\n0,3\n1,5\n"
    )
    assert sorted(p.name for p in (downloads / "render" / "frames").iterdir()) == [
        "f001.png",
        "f002.png",
        "f003.png",
    ]
    # `batch-conventions run` teed the whole output of the simulation to its local copy.
    local_log = tmp_path / "workitems" / "job-7" / "job-1" / "simulate" / "wd" / "stdout.txt"
    assert local_log.read_text().count("energy") == 30


def test_demo_fails_when_a_task_left_no_outputs() -> None:
    result = _demo("--skip", "render")
    assert result.returncode == 1
    assert "missing blobs" in result.stdout
    assert "render/$TaskOutput/frames/f001.png" in result.stdout
