"""Blob prefixes and names, and their inverse (rules BP-1, BN-1, BN-2, PB-1).

Pure: no I/O, no Azure import.
"""

from __future__ import annotations

import attrs

from .errors import ConventionsError, InvalidBlobNameError, InvalidKindError, InvalidPathError
from .ids import check_task_id
from .kinds import JobOutputKind, TaskOutputKind
from .paths import destination_path

__all__ = [
    "BlobLocation",
    "job_blob_name",
    "job_prefix",
    "parse_blob_name",
    "task_blob_name",
    "task_prefix",
]

MAX_BLOB_NAME_LENGTH = 1024
MAX_BLOB_NAME_SEGMENTS = 254


def _job_kind(kind: object) -> JobOutputKind:
    if not isinstance(kind, JobOutputKind):
        raise InvalidKindError(kind, "must be a JobOutputKind (rule KD-2)")
    return kind


def _task_kind(kind: object) -> TaskOutputKind:
    if not isinstance(kind, TaskOutputKind):
        raise InvalidKindError(kind, "must be a TaskOutputKind (rule KD-2)")
    return kind


def job_prefix(kind: JobOutputKind) -> str:
    """Return the folder of a job output kind, without a trailing ``/`` (rule BP-1).

    Same as .NET ``CloudJob.GetOutputStoragePath(kind)``.

    >>> job_prefix(JobOutputKind.JOB_OUTPUT)
    '$JobOutput'
    """
    return "$" + _job_kind(kind).text


def task_prefix(task_id: str, kind: TaskOutputKind) -> str:
    """Return the folder of a task's output kind, without a trailing ``/`` (rule BP-1).

    Same as .NET ``CloudTask.GetOutputStoragePath(kind)``. The task ID keeps its case.

    >>> task_prefix("t1", TaskOutputKind.TASK_LOG)
    't1/$TaskLog'
    """
    return f"{check_task_id(task_id)}/${_task_kind(kind).text}"


def _checked_blob_name(name: str, path: str) -> str:
    if len(name) > MAX_BLOB_NAME_LENGTH:
        raise InvalidPathError(
            path, f"gives a blob name of {len(name)} characters; at most 1024 (rule BN-2)"
        )
    segments = name.count("/") + 1
    if segments > MAX_BLOB_NAME_SEGMENTS:
        raise InvalidPathError(
            path, f"gives a blob name of {segments} segments; at most 254 (rule BN-2)"
        )
    return name


def job_blob_name(kind: JobOutputKind, path: str) -> str:
    """Return the blob name of a job output: ``$<kind>/<path>`` (rule BN-1).

    *path* goes through :func:`destination_path` first.

    >>> job_blob_name(JobOutputKind.JOB_OUTPUT, "out/mergeresults.txt")
    '$JobOutput/out/mergeresults.txt'
    """
    path = destination_path(path)
    return _checked_blob_name(f"{job_prefix(kind)}/{path}", path)


def task_blob_name(task_id: str, kind: TaskOutputKind, path: str) -> str:
    r"""Return the blob name of a task output: ``<task id>/$<kind>/<path>`` (rule BN-1).

    *path* goes through :func:`destination_path` first.

    >>> task_blob_name("analysis-309", TaskOutputKind.TASK_LOG, "analytics.log")
    'analysis-309/$TaskLog/analytics.log'
    >>> task_blob_name("t1", TaskOutputKind.TASK_LOG, r"..\stdout.txt")
    't1/$TaskLog/stdout.txt'
    """
    path = destination_path(path)
    return _checked_blob_name(f"{task_prefix(task_id, kind)}/{path}", path)


@attrs.frozen
class BlobLocation:
    """Where a blob sits in the layout: its task (``None`` for job outputs), kind and path.

    >>> parse_blob_name("t1/$TaskLog/stdout.txt")
    BlobLocation(task_id='t1', kind=TaskOutputKind('TaskLog'), path='stdout.txt')
    >>> parse_blob_name("$JobOutput/a/b.txt").blob_name
    '$JobOutput/a/b.txt'
    """

    task_id: str | None
    kind: JobOutputKind | TaskOutputKind
    path: str

    def __attrs_post_init__(self) -> None:
        # Validated at construction: a location always has a blob name.
        self.blob_name  # noqa: B018

    @property
    def blob_name(self) -> str:
        """The blob name this location stands for."""
        if self.task_id is None:
            return job_blob_name(_job_kind(self.kind), self.path)
        return task_blob_name(self.task_id, _task_kind(self.kind), self.path)


def parse_blob_name(name: str) -> BlobLocation:
    """Return where *name* sits in the layout: the inverse of the blob-name functions (rule PB-1).

    >>> parse_blob_name("$JobOutput/movie.mp4")
    BlobLocation(task_id=None, kind=JobOutputKind('JobOutput'), path='movie.mp4')
    >>> parse_blob_name("t1/TaskLog/x")
    Traceback (most recent call last):
    ...
    conventions.errors.InvalidBlobNameError: blob name 't1/TaskLog/x' is not ... (rule PB-1)

    Raises:
        InvalidBlobNameError: the conventions never produce *name*, e.g. it has no
            kind folder, an invalid task ID or kind, or a path that is not in the
            normal form :func:`destination_path` gives.
    """
    shape = "is not '$<kind>/<path>' or '<task id>/$<kind>/<path>' (rule PB-1)"
    if not isinstance(name, str):
        raise InvalidBlobNameError(name, shape)
    parts = name.split("/", 2)
    try:
        if len(parts) >= 2 and parts[0].startswith("$"):
            location = BlobLocation(None, JobOutputKind(parts[0][1:]), name.split("/", 1)[1])
        elif len(parts) == 3 and parts[1].startswith("$"):
            location = BlobLocation(
                check_task_id(parts[0]), TaskOutputKind(parts[1][1:]), parts[2]
            )
        else:
            raise InvalidBlobNameError(name, shape)
        canonical = location.blob_name
    except InvalidBlobNameError:
        raise
    except ConventionsError as error:
        raise InvalidBlobNameError(name, f"{shape}: {error}") from error
    if canonical != name:
        raise InvalidBlobNameError(
            name, f"is not in normal form; the conventions would write {canonical!r} (rule PB-1)"
        )
    return location
