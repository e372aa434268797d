"""The pure rules import no Azure module, and the decisions do no I/O (spec/README.md,
"Layers")."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

PURE_MODULES = [
    "conventions",
    "conventions._batch",
    "conventions.blobs",
    "conventions.budget",
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
    "conventions._integrity",  # azure-free, but threads: the I/O of _integrity_rules
    "conventions._integrity_rules",
    "conventions._output_file_checks",
    "conventions._download_plan",
    "conventions._error_rules",
    "conventions.planner",
    "conventions.reconcile",
    "conventions.urls",
    "conventions.received",
    "conventions.temporary_files",
    "conventions.retrying",
    "conventions.budget",
    "conventions.environment",
    "conventions.listing",
    "conventions.signing",
    "conventions.upload_plan",
    "conventions.endpoints",
]

#: The decisions: modules that may not even import what I/O needs (threads, queues,
#: sockets, asyncio, processes, ``os``) nor Azure, anywhere in them, and that import only
#: each other from the library.
DECISION_MODULES = [
    "conventions._download_plan",
    "conventions._error_rules",
    "conventions._integrity_rules",
    "conventions._log_redaction",
    "conventions.blobs",
    "conventions.containers",
    "conventions.errors",
    "conventions.follow",
    "conventions.ids",
    "conventions.incremental",
    "conventions.kinds",
    "conventions.local_paths",
    "conventions.paths",
    "conventions.received",
    "conventions.reconcile",
    "conventions.retrying",
    "conventions._tracked_state",
    "conventions._tracked_errors",
    "conventions.temporary_files",
    "conventions.urls",
    "conventions.watching",
]

BANNED = {"threading", "queue", "socket", "asyncio", "concurrent", "subprocess", "os", "azure"}


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_no_azure(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "loaded = sorted(m for m in sys.modules if m == 'azure' or m.startswith('azure.'))\n"
        "assert not loaded, loaded\n"
        "assert 'conventions' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _imports(module: str) -> set[str]:
    """Every module *module*'s source imports, anywhere in it (relative ones resolved)."""
    spec = importlib.util.find_spec(module)
    assert spec is not None
    assert spec.origin is not None
    package = module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                assert node.module is not None
                found.add(node.module)
            else:
                base = package if node.level == 1 else package.rsplit(".", node.level - 1)[0]
                if node.module is None:  # from . import name
                    found.update(f"{base}.{alias.name}" for alias in node.names)
                else:
                    found.add(f"{base}.{node.module}")
    return found


@pytest.mark.parametrize("module", DECISION_MODULES)
def test_decision_module_imports_nothing_for_io(module: str) -> None:
    imported = _imports(module)
    banned = sorted(name for name in imported if name.split(".")[0] in BANNED)
    assert not banned, f"{module} imports {banned}"
    library = sorted(
        name for name in imported if name.startswith("conventions.") and name != module
    )
    impure = [name for name in library if name not in DECISION_MODULES]
    assert not impure, f"{module} imports {impure}, which are not decision modules"


def test_the_check_sees_an_import_of_os() -> None:
    # The check itself: a module known to use the file system is caught.
    assert "os" in _imports("conventions._local_files")
    assert "threading" in _imports("conventions._integrity")
