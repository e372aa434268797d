"""The sync face is generated from the async one (scripts/unasync.py): the rewrite's
rules, and the check that CI runs (stale module, unused rule), on copies."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unasync", ROOT / "scripts" / "unasync.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["unasync"] = module
    spec.loader.exec_module(module)
    return module


unasync = _script()

REWRITES = [
    ("async def f(self) -> None:", "def f(self) -> None:"),
    ("    async with bounded(x) as y:", "    with bounded(x) as y:"),
    ("    async for ref in listing:", "    for ref in listing:"),
    ("    data = await blob.readall()", "    data = blob.readall()"),
    ("    file = await to_thread(place.open)", "    file = place.open()"),
    ("    await to_thread(place.commit, file)", "    place.commit(file)"),
    ("    await shielded(place.discard, file)", "    place.discard(file)"),
    ("    page = await anext(pages, None)", "    page = next(pages, None)"),
    ("async def __aenter__(self) -> S:", "def __enter__(self) -> S:"),
    (") -> AsyncGenerator[R | F, None]:", ") -> Generator[R | F, None, None]:"),
    ("x: Callable[[], Awaitable[list[int]]]", "x: Callable[[], list[int]]"),
    ("from collections.abc import AsyncIterable, Iterable", "from collections.abc import Iterable"),
    ("from azure.storage.blob.aio import BlobClient", "from azure.storage.blob import BlobClient"),
    ("from ..errors import StorageError", "from .errors import StorageError"),
    ("from .. import upload_plan", "from . import upload_plan"),
    ("from ._backend import sleep", "from ._backend import sleep"),
]


@pytest.mark.parametrize(("source", "expected"), REWRITES)
def test_each_line_is_rewritten_as_the_sync_face_needs(source: str, expected: str) -> None:
    used: set[str] = set()
    text = unasync.rewrite(source + "\n", "x.py", used)
    assert text.splitlines()[-1] == expected


def test_an_async_relay_becomes_yield_from_keeping_the_line_count() -> None:
    source = "    async for item in inner(x):\n        yield item\n    return\n"
    text = unasync.rewrite(source, "x.py", set())
    body = text.split("\n", 2)[2]  # after the two header lines
    assert body == "    yield from inner(x)\n\n    return\n"


def test_the_generated_modules_are_current_and_every_rule_is_used() -> None:
    sources = {
        name: (ROOT / "conventions" / "aio" / name).read_text(encoding="utf-8")
        for name in unasync.SOURCES
    }
    generated, unused = unasync.generate(sources)
    assert unused == []
    assert unasync.stale(ROOT, generated) == {}
    for name, text in generated.items():
        assert text.startswith(f"# Generated from conventions/aio/{name} ")
        # Line for line: a traceback in either face points at the same line.
        assert len(text.splitlines()) == len(sources[name].splitlines()) + 2


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "conventions", tmp_path / "conventions")
    return tmp_path


def test_check_fails_on_a_hand_edit_of_a_generated_module(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy(tmp_path)
    assert unasync.main(["--check", "--root", str(root)]) == 0
    target = root / "conventions" / "transfer.py"
    target.write_text(target.read_text() + "# a hand edit\n")
    assert unasync.main(["--check", "--root", str(root)]) == 1
    assert "conventions/transfer.py is stale" in capsys.readouterr().err
    assert unasync.main(["--root", str(root)]) == 0  # regenerating mends it
    assert unasync.main(["--check", "--root", str(root)]) == 0


def test_check_fails_on_a_rule_that_nothing_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy(tmp_path)
    rules = (*unasync.RULES, (r"\bnever_written_anywhere\b", "x"))
    monkeypatch.setattr(unasync, "RULES", rules)
    monkeypatch.setattr(unasync, "_LINES", [(re.compile(p), r) for p, r in rules])
    assert unasync.main(["--check", "--root", str(root)]) == 1
    assert "never_written_anywhere" in capsys.readouterr().err
