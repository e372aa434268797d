"""The programs the demo's tasks run. Each is what a user's task code could look like.

``python scripts/demo_tasks.py analyse|simulate|render`` inside a task's working
directory, with the Batch environment variables set.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def analyse() -> None:
    """Task code that saves its outputs with the library itself."""
    from conventions import TaskOutputKind
    from conventions.storage import TaskOutputStorage

    Path("results").mkdir()
    Path("results/histogram.csv").write_text("bin,count\n0,3\n1,5\n", encoding="utf-8")
    with TaskOutputStorage.from_environment() as storage:
        storage.save(TaskOutputKind.TASK_OUTPUT, "results/histogram.csv")
        storage.save_text(TaskOutputKind.TASK_PREVIEW, "8 samples in 2 bins\n", "summary.txt")
        storage.save_bytes(TaskOutputKind.custom("Diagnostics"), b'{"s": 0.1}', "timings.json")
    print("analyse: saved 3 outputs")


def simulate() -> None:
    """An unchanged program: prints progress for a while, writes a result file."""
    for step in range(1, 31):
        print(f"step {step:2d}/30: energy {1000 / step:8.3f}", flush=True)
        if step % 10 == 0:
            print(f"checkpoint at step {step}", file=sys.stderr, flush=True)
        time.sleep(0.05)
    Path("result.txt").write_text("final energy 33.333\n", encoding="utf-8")


def render() -> None:
    """An unchanged program whose files the Batch service uploads (OutputFile list)."""
    frames = Path("out/frames")
    frames.mkdir(parents=True)
    for number in range(1, 4):
        (frames / f"f{number:03d}.png").write_bytes(b"\x89PNG fake frame %d" % number)
    (frames / ".scratch.png").write_bytes(b"not uploaded: names starting with '.' are skipped")
    Path("out/render.log").write_text("not a .png: not uploaded\n", encoding="utf-8")
    print("render: 3 frames written")


if __name__ == "__main__":
    {"analyse": analyse, "simulate": simulate, "render": render}[sys.argv[1]]()
