"""Leave no empty folders behind a download that failed (e.g. refused for lack of ``r``)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["folders_under", "remove_new_empty_folders"]


def folders_under(root: Path) -> set[str]:
    """Every folder under (and including) *root*, as it is now."""
    if not root.is_dir():
        return set()
    found = {str(root)}
    for parent, names, _files in os.walk(root):
        found.update(os.path.join(parent, name) for name in names)
    return found


def remove_new_empty_folders(root: Path, before: set[str]) -> None:
    """Remove the folders under (and including) *root* that are not in *before* (from
    :func:`folders_under`) and are empty. Call it after every download thread has ended,
    so that it cannot race with a file being written."""
    for directory in sorted(folders_under(root) - before, key=len, reverse=True):
        with contextlib.suppress(OSError):  # not empty: keep it
            os.rmdir(directory)
