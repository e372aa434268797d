"""What ``save`` uploads (its arguments expanded and checked first), and the upload."""

from __future__ import annotations

import concurrent.futures
import glob
import os
from collections.abc import Sequence
from pathlib import Path

import attrs
import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from conventions.kinds import TaskOutputKind
from conventions.output_files import has_wildcard
from conventions.references import OutputFileReference
from conventions.storage import TaskOutputStorage

from ._app import stderr

__all__ = ["SaveItem", "plan_saves", "save_with_progress"]


@attrs.frozen
class SaveItem:
    """One file to save: where it is read, the path it is stored under (None: its own), its size."""

    source: str
    destination: str | None
    size: int


def plan_saves(
    paths: Sequence[str], *, destination: str | None, allow_empty: bool, cwd: str
) -> list[SaveItem]:
    """Expand the PATH arguments (globs relative to *cwd*) and check them, before any upload.

    Raises click errors: a usage error (exit 2) for arguments that cannot mean anything,
    a runtime error (exit 1) for a pattern that matches no file, unless *allow_empty*.
    """
    if destination is not None and (len(paths) != 1 or has_wildcard(paths[0])):
        raise click.UsageError("--destination names one file: give exactly one PATH, no wildcards")
    items: list[SaveItem] = []
    unmatched: list[str] = []
    for path in paths:
        if os.path.isabs(path) and destination is None:
            raise click.UsageError(
                f"{path!r} is absolute, so it has no path to keep under the kind: give "
                "--destination NAME for one file, or cd to its folder and give a relative path"
            )
        if not has_wildcard(path):
            full = os.path.join(cwd, path)
            if os.path.isdir(full):
                raise click.UsageError(
                    f"{path!r} is a folder: give the files, e.g. '{path.rstrip('/')}/**/*'"
                )
            try:  # a missing file fails here, before any upload
                size = os.stat(full).st_size
            except FileNotFoundError:
                raise click.ClickException(
                    f"nothing saved: {path!r} does not exist. Check the path and the current folder"
                ) from None
            items.append(SaveItem(path, destination, size))
            continue
        matches = sorted(glob.glob(path, root_dir=cwd, recursive=True))
        files = [match for match in matches if os.path.isfile(os.path.join(cwd, match))]
        if not files:
            unmatched.append(path)
        items.extend(
            SaveItem(match, None, os.path.getsize(os.path.join(cwd, match))) for match in files
        )
    if unmatched and not allow_empty:
        quoted = ", ".join(repr(pattern) for pattern in unmatched)
        raise click.ClickException(
            f"nothing saved: no file matches {quoted}. Check the pattern and the current "
            "folder, or pass --allow-empty if no file is fine"
        )
    return items


def save_with_progress(
    storage: TaskOutputStorage,
    kind: TaskOutputKind,
    items: Sequence[SaveItem],
    *,
    max_concurrency: int,
    show: bool,
) -> list[OutputFileReference]:
    """Upload *items* in parallel, in order of the result, with a files-and-bytes bar on stderr.

    Every stored name is checked before the first upload; the first failure is raised
    once the running uploads end, and the uploads not yet started are cancelled.
    """
    for item in items:  # rule errors (exit 2) before any request
        storage.blob_name(kind, item.destination if item.destination is not None else item.source)
    total = sum(item.size for item in items)
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    results: list[OutputFileReference | None] = [None] * len(items)
    with Progress(*columns, console=stderr, disable=not show) as progress:
        bar = progress.add_task(f"{kind.text}: 0/{len(items)} files", total=total)
        with concurrent.futures.ThreadPoolExecutor(max_workers=max_concurrency) as pool:
            futures = {
                pool.submit(
                    storage.save, kind, Path(item.source), destination=item.destination
                ): index
                for index, item in enumerate(items)
            }
            done_files = 0
            try:
                for future in concurrent.futures.as_completed(futures):
                    index = futures[future]
                    results[index] = future.result()
                    done_files += 1
                    progress.update(
                        bar,
                        advance=items[index].size,
                        description=f"{kind.text}: {done_files}/{len(items)} files",
                    )
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    return [reference for reference in results if reference is not None]
