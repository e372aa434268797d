"""The sdist and the wheel as a packager gets them (issue 15): built here with the
installed setuptools (no build isolation, so no network)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _build(kind: str, out: Path) -> Path:
    code = (
        "import sys; from setuptools import build_meta as b; "
        f"print(b.build_{kind}(sys.argv[1]))"
    )
    process = subprocess.run(
        [sys.executable, "-c", code, str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert process.returncode == 0, process.stderr[-2000:]
    return out / process.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def sdist_names(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    sdist = _build("sdist", tmp_path_factory.mktemp("sdist"))
    with tarfile.open(sdist) as archive:
        return [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]


def test_the_sdist_ships_no_tests_but_the_rules(sdist_names: list[str]) -> None:
    # Decision (README "Packaging"): tests need Azurite and the repository's scripts,
    # so the sdist carries none rather than some that cannot run.
    assert not [name for name in sdist_names if name.startswith(("tests/", "bench/"))]
    for needed in ("README.md", "LICENSE", "CHANGELOG.md", "spec/README.md", "PKG-INFO"):
        assert needed in sdist_names
    assert "conventions/py.typed" in sdist_names


def test_the_wheel_installs_the_rules_errors_cite(tmp_path: Path) -> None:
    wheel = _build("wheel", tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    spec = "data/share/doc/batch-file-conventions/spec/README.md"
    assert any(name.endswith(spec) for name in names)
    assert not any(name.startswith("tests/") for name in names)
