"""Leave no empty folders behind a download that failed (e.g. refused for lack of ``r``)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["remove_new_empty_dirs_on_failure"]


def _dirs(root: Path) -> set[str]:
    if not root.is_dir():
        return set()
    found = {str(root)}
    for parent, names, _files in os.walk(root):
        found.update(os.path.join(parent, name) for name in names)
    return found


@contextlib.contextmanager
def remove_new_empty_dirs_on_failure(root: Path) -> Iterator[None]:
    """On failure, remove the folders under (and including) *root* that the body created
    and left empty. Folders that were there before, or hold anything, stay.

    Runs after the body has finished (every download thread joined), so it cannot race
    with a file being written.
    """
    before = _dirs(root)
    try:
        yield
    except BaseException:
        for directory in sorted(_dirs(root) - before, key=len, reverse=True):
            with contextlib.suppress(OSError):  # not empty: keep it
                os.rmdir(directory)
        raise
