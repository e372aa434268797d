"""The async face (``conventions.aio``, issue 23) doing the ``aio`` group's operations.

Written against the planned API (``await storage.save_many(...)``, ``await
job.download(...)``, ``async with``). Until ``conventions.aio`` can be imported (not yet on
main, or aiohttp missing) :data:`UNAVAILABLE` says why and the group shows the rows as "not
available" instead of failing. Imported by name at run time, so that type checking does not
depend on the module being there.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.ours import KIND

__all__ = ["UNAVAILABLE", "default_concurrency", "download_job", "save_many"]


def _load() -> tuple[Any, str]:
    try:
        return importlib.import_module("conventions.aio"), ""
    except ImportError as error:  # not written yet, or aiohttp missing
        return None, f"not available (import conventions.aio: {error})"


_AIO, UNAVAILABLE = _load()


def default_concurrency(operation: str) -> int | None:
    """The async face's default ``max_concurrency`` of ``save_many`` or ``download``.

    None when the face is not there or the default is not an int."""
    if _AIO is None:
        return None
    owner = _AIO.TaskOutputStorage if operation == "save_many" else _AIO.JobOutputStorage
    try:
        parameter = inspect.signature(getattr(owner, operation)).parameters["max_concurrency"]
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    default = parameter.default
    return default if isinstance(default, int) and not isinstance(default, bool) else None


def _face() -> Any:
    if _AIO is None:
        raise RuntimeError(UNAVAILABLE)
    return _AIO


async def _save_many(
    connection_string: str,
    job_id: str,
    task_id: str,
    paths: Sequence[str],
    base_dir: Path,
    concurrency: int,
) -> int:
    storage = _face().TaskOutputStorage.from_connection_string(connection_string, job_id, task_id)
    async with storage:
        refs = await storage.save_many(KIND, paths, base_dir=base_dir, max_concurrency=concurrency)
    return len(refs)


def save_many(
    connection_string: str,
    job_id: str,
    task_id: str,
    paths: Sequence[str],
    base_dir: Path,
    concurrency: int,
) -> int:
    """``await storage.save_many(...)`` of *paths* (relative to *base_dir*); the count."""
    return asyncio.run(_save_many(connection_string, job_id, task_id, paths, base_dir, concurrency))


async def _download_job(connection_string: str, job_id: str, dest: Path, concurrency: int) -> int:
    job = _face().JobOutputStorage.from_connection_string(connection_string, job_id)
    async with job:
        summary = await job.download(KIND, dest, max_concurrency=concurrency)
    return int(summary.files)


def download_job(connection_string: str, job_id: str, dest: Path, concurrency: int) -> int:
    """``await job.download(...)`` of every task output of the job; the files downloaded."""
    return asyncio.run(_download_job(connection_string, job_id, dest, concurrency))
