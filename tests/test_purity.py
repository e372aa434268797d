"""The pure rules import no Azure module (spec/README.md, "Layers")."""

from __future__ import annotations

import subprocess
import sys

import pytest

PURE_MODULES = [
    "conventions",
    "conventions._batch",
    "conventions.blobs",
    "conventions.containers",
    "conventions.errors",
    "conventions.follow",
    "conventions.ids",
    "conventions.kinds",
    "conventions.output_files",
    "conventions.paths",
    "conventions.local_paths",
    "conventions.watching",
    "conventions.incremental",
    "conventions._integrity",
    "conventions.planner",
    "conventions.reconcile",
    "conventions.urls",
    "conventions.received",
    "conventions.temporary_files",
    "conventions.environment",
    "conventions.listing",
    "conventions.signing",
    "conventions.upload_plan",
    "conventions.endpoints",
]


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_no_azure(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "loaded = sorted(m for m in sys.modules if m == 'azure' or m.startswith('azure.'))\n"
        "assert not loaded, loaded\n"
        "assert 'conventions' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
