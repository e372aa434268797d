"""The same operations done with the library, as its README tells a user to.

Where the library may (later) accept a per-file ``max_concurrency`` for chunks (``save``,
``download_to_file``), it is passed when the signature has it; otherwise the library's own
default runs, and :data:`CHUNK_CONCURRENCY` says so in the results.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from conventions import TaskOutputKind
from conventions.references import OutputFileReference
from conventions.storage import JobOutputStorage, TaskOutputStorage

__all__ = [
    "CHUNK_CONCURRENCY",
    "KIND",
    "download_job",
    "download_large",
    "list_iterate",
    "list_kept",
    "save_large",
    "save_many",
]

KIND = TaskOutputKind.TASK_OUTPUT


def _accepts_concurrency(function: Callable[..., Any]) -> bool:
    return "max_concurrency" in inspect.signature(function).parameters


#: Whether ``save`` / ``download_to_file`` take a chunk ``max_concurrency`` (issue 14).
CHUNK_CONCURRENCY = {
    "save": _accepts_concurrency(TaskOutputStorage.save),
    "download_to_file": _accepts_concurrency(OutputFileReference.download_to_file),
}


def _chunks(operation: str, concurrency: int) -> dict[str, Any]:
    return {"max_concurrency": concurrency} if CHUNK_CONCURRENCY[operation] else {}


def save_many(
    connection_string: str,
    job_id: str,
    task_id: str,
    paths: Sequence[str],
    base_dir: Path,
    concurrency: int,
) -> int:
    with TaskOutputStorage.from_connection_string(connection_string, job_id, task_id) as task:
        return len(task.save_many(KIND, paths, base_dir=base_dir, max_concurrency=concurrency))


def download_job(connection_string: str, job_id: str, dest: Path, concurrency: int) -> int:
    with JobOutputStorage.from_connection_string(connection_string, job_id) as job:
        return job.download(KIND, dest, max_concurrency=concurrency).files


def save_large(
    connection_string: str, job_id: str, task_id: str, path: Path, concurrency: int
) -> None:
    with TaskOutputStorage.from_connection_string(connection_string, job_id, task_id) as task:
        task.save(KIND, path.name, base_dir=path.parent, **_chunks("save", concurrency))


def download_large(
    connection_string: str,
    job_id: str,
    task_id: str,
    name: str,
    target: Path,
    concurrency: int,
) -> None:
    with JobOutputStorage.from_connection_string(connection_string, job_id) as job:
        reference = job.task(task_id).get_output(KIND, name)
        reference.download_to_file(target, **_chunks("download_to_file", concurrency))


def list_iterate(connection_string: str, job_id: str) -> int:
    with JobOutputStorage.from_connection_string(connection_string, job_id) as job:
        return sum(1 for _ in job.list_task_outputs(KIND))


def list_kept(connection_string: str, job_id: str) -> list[object]:
    with JobOutputStorage.from_connection_string(connection_string, job_id) as job:
        return list(job.list_task_outputs(KIND))
