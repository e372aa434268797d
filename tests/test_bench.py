"""The storage benchmark still runs (tiny sizes; no timing asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_storage.py"


def test_bench_storage_runs() -> None:
    spec = importlib.util.spec_from_file_location("bench_storage", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.run(files=4, size=16)
    assert len(results) == 6
    assert all(seconds > 0 for seconds in results.values())
