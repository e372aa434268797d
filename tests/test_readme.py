"""The README's examples run (doctest), and its code blocks import what they use."""

from __future__ import annotations

import ast
import builtins
import doctest
import re
import textwrap
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

#: Names a README block leaves to the reader (values they have), never library names.
PLACEHOLDERS = {
    "connection_string",
    "container_url",
    "job_id",
    "task_id",
    "identity_resource_id",
    "run_analysis",
}


def test_readme_examples() -> None:
    # No option flags: exactly what `python -m doctest README.md` does.
    result = doctest.testfile(str(README), module_relative=False, verbose=False)
    assert result.attempted >= 10
    assert result.failed == 0


def _python_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    # Blocks inside a list item are indented; doctest blocks are run above.
    blocks = [textwrap.dedent(block) for block in re.findall(r"```python\n(.*?)```", text, re.S)]
    return [block for block in blocks if not block.lstrip().startswith(">>>")]


def _bound(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


@pytest.mark.parametrize("block", _python_blocks(), ids=lambda block: block.split("\n")[0][:40])
def test_every_code_block_imports_what_it_uses(block: str) -> None:
    tree = ast.parse(block)  # and it is valid Python
    used = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }
    missing = used - _bound(tree) - set(dir(builtins)) - PLACEHOLDERS
    assert not missing, f"not imported or defined: {sorted(missing)}"
