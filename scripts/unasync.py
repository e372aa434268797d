"""Generate the sync face from the async one: ``conventions/aio/<m>.py`` -> ``conventions/<m>.py``.

The async modules are the only hand-written copy of the I/O sequencing; each sync twin is
this rewrite of it, line for line (so a traceback's line numbers match in both), with
the rules below applied in order to every line, docstrings included. What cannot be
rewritten (threads vs tasks, sleeps, the deadline, blocking file work, the transport)
lives in modules of the same name in both packages, written by hand: ``_backend``,
``_transport``, ``_fetch``, ``_follow_read``, ``_tracked_run`` (the tracked flusher: a
thread or a task, its locks and waits) (a source imports ``from ._backend import ...``
and so gets its own face's).

    python scripts/unasync.py            # write the sync modules
    python scripts/unasync.py --check    # fail if one is stale or a rule is never used

``--check`` is run by ``scripts/test`` (so by ``.ci/run``) before the tests.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The async sources (in ``conventions/aio``) that have a generated sync twin of the same
#: name in ``conventions``.
SOURCES = (
    "_clients.py",
    "_download.py",
    "_job_reading.py",
    "_job_storage.py",
    "_opening.py",
    "_storage_base.py",
    "_task_storage.py",
    "_tracked_blob.py",
    "_tracked_core.py",
    "_tracked_flush.py",
    "_tracked_saves.py",
    "_uploads.py",
    "cleanup.py",
    "identity.py",
    "live.py",
    "references.py",
    "sas.py",
    "tracked.py",
    "transfer.py",
)

HEADER = (
    "# Generated from conventions/aio/{name} by scripts/unasync.py: do not edit.\n"
    # Not linted: its source is. The rewrite keeps the source's import lines in place
    # (``to_thread`` stays imported though its calls became plain calls) and its
    # comprehensions (``[x async for x in page]`` becomes ``[x for x in page]``).
    "# ruff: noqa\n"
)

#: (pattern, replacement) over the whole text, first: an async generator that passes on
#: another's items is ``yield from`` in the sync face, so that a ``throw()`` (the CLI's
#: Ctrl-C) reaches the inner generator. The line count is kept: the second line is left
#: empty.
BLOCK_RULES: tuple[tuple[str, str], ...] = (
    (r"(?m)^(\s*)async for (\w+) in (.+):\n\s*yield \2\n", r"\1yield from \3\n\n"),
)

#: (pattern, replacement), applied in this order to each line.
RULES: tuple[tuple[str, str], ...] = (
    # Blocking work that the async face sends to a thread is a plain call in the sync one.
    (r"await (?:to_thread|shielded)\(([\w.]+)\)", r"\1()"),
    (r"await (?:to_thread|shielded)\(([\w.]+), ", r"\1("),
    (r"\basync def\b", "def"),
    (r"\basync with\b", "with"),
    (r"\basync for\b", "for"),
    (r"\bawait ", ""),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\banext\(", "next("),
    (r"\bAsyncGenerator\[(.*), None\]", r"Generator[\1, None, None]"),
    (r"\bAsyncGenerator\b", "Generator"),
    (r"\bAsyncIterator\b", "Iterator"),
    (r"\bAsyncIterable\b", "Iterable"),
    (r"\bAwaitable\[((?:[^\[\]]|\[[^\[\]]*\])*)\]", r"\1"),
    (r"\bAwaitable, ", ""),
    (r"\bazure\.storage\.blob\.aio\b", "azure.storage.blob"),
    (r"\bazure\.identity\.aio\b", "azure.identity"),
    # The sources sit one package deeper: ``..x`` there is ``.x`` here; ``._backend``
    # (and every other sibling) names the sync face's module of the same name.
    (r"\bconventions\.aio\.", "conventions."),
    (r"^(\s*)from \.\. import ", r"\1from . import "),
    (r"^(\s*)from \.\.(\w)", r"\1from .\2"),
)

_BLOCKS = [(re.compile(pattern), replacement) for pattern, replacement in BLOCK_RULES]
_LINES = [(re.compile(pattern), replacement) for pattern, replacement in RULES]


def rewrite(text: str, name: str, used: set[str]) -> str:
    """The sync twin of the async source *text* (the file *name*); adds to *used* the
    pattern of every rule that changed something."""
    for pattern, replacement in _BLOCKS:
        text, count = pattern.subn(replacement, text)
        if count:
            used.add(pattern.pattern)
    lines = []
    for line in text.splitlines(keepends=True):
        for pattern, replacement in _LINES:
            line, count = pattern.subn(replacement, line)
            if count:
                used.add(pattern.pattern)
        if line.startswith("from collections.abc import "):
            line = _deduplicated(line)
        lines.append(line)
    return HEADER.format(name=name) + "".join(lines)


def _deduplicated(line: str) -> str:
    """An import line without a name twice (``AsyncIterable, Iterable`` both rewritten)."""
    head, _, names = line.rstrip("\n").partition(" import ")
    unique = list(dict.fromkeys(name.strip() for name in names.split(",")))
    return f"{head} import {', '.join(unique)}\n"


def generate(sources: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The sync twins of *sources* (name -> async text), and the rules none of them used."""
    used: set[str] = set()
    generated = {name: rewrite(text, name, used) for name, text in sources.items()}
    unused = [pattern for pattern, _ in (*BLOCK_RULES, *RULES) if pattern not in used]
    return generated, unused


def stale(root: Path, generated: Mapping[str, str]) -> dict[str, list[str]]:
    """The sync modules under *root* that differ from *generated*: name -> a short diff."""
    problems = {}
    for name, text in generated.items():
        target = root / "conventions" / name
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            diff = difflib.unified_diff(
                current.splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"conventions/{name} (on disk)",
                f"conventions/{name} (generated)",
                n=1,
            )
            problems[name] = list(diff)[:40]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="fail if a sync module is stale (write nothing)"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root: Path = args.root
    sources = {
        name: (root / "conventions" / "aio" / name).read_text(encoding="utf-8")
        for name in SOURCES
    }
    generated, unused = generate(sources)
    problems = stale(root, generated)
    failed = bool(unused)
    for pattern in unused:
        print(f"unasync: the rule {pattern!r} changed nothing: remove it", file=sys.stderr)
    for name, diff in problems.items():
        if args.check:
            sys.stderr.writelines(diff)
            print(
                f"unasync: conventions/{name} is stale: edit conventions/aio/{name}, then "
                "run `python scripts/unasync.py`",
                file=sys.stderr,
            )
            failed = True
        else:
            (root / "conventions" / name).write_text(generated[name], encoding="utf-8")
            print(f"wrote conventions/{name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
