"""Blob prefixes and names, and their inverse (rules BP-1, BN-1, BN-2, PB-1, RB-1).

Writers are strict (BN-1, BN-2, KD-1): they name blobs only in one normal form.
Readers are lenient (RB-1, KD-3, RP-1): they accept every name .NET's writers store.

Pure: no I/O, no Azure import.
"""

from __future__ import annotations

import attrs

from .errors import ConventionsError, InvalidBlobNameError, InvalidKindError, InvalidPathError
from .ids import check_task_id
from .kinds import JobOutputKind, TaskOutputKind, check_writable
from .paths import destination_path, local_relative_path

__all__ = [
    "BlobLocation",
    "job_blob_name",
    "job_prefix",
    "parse_blob_name",
    "read_blob_name",
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
    prefix = job_prefix(check_writable(_job_kind(kind)))
    path = destination_path(path)
    return _checked_blob_name(f"{prefix}/{path}", path)


def task_blob_name(task_id: str, kind: TaskOutputKind, path: str) -> str:
    r"""Return the blob name of a task output: ``<task id>/$<kind>/<path>`` (rule BN-1).

    *path* goes through :func:`destination_path` first.

    >>> task_blob_name("analysis-309", TaskOutputKind.TASK_LOG, "analytics.log")
    'analysis-309/$TaskLog/analytics.log'
    >>> task_blob_name("t1", TaskOutputKind.TASK_LOG, r"..\stdout.txt")
    't1/$TaskLog/stdout.txt'
    """
    prefix = task_prefix(task_id, check_writable(_task_kind(kind)))
    path = destination_path(path)
    return _checked_blob_name(f"{prefix}/{path}", path)


def _check_location_task_id(_instance: object, _attribute: object, task_id: str | None) -> None:
    if task_id is not None:
        check_task_id(task_id)


def _check_location_path(_instance: object, _attribute: object, path: str) -> None:
    local_relative_path(path)  # the read grammar (rule RP-1); raises InvalidPathError


@attrs.frozen
class BlobLocation:
    """Where a blob sits in the layout: its task (``None`` for job outputs), kind and path.

    Validated at construction against the read grammar (rule RB-1): the kind type must
    match (a task kind with a task ID), and *path* must be a stored path a reader
    accepts (rule RP-1). :attr:`blob_name` is exactly the name the location stands for,
    so ``read_blob_name(location.blob_name) == location``.

    >>> parse_blob_name("t1/$TaskLog/stdout.txt")
    BlobLocation(task_id='t1', kind=TaskOutputKind('TaskLog'), path='stdout.txt')
    >>> parse_blob_name("$JobOutput/a/b.txt").blob_name
    '$JobOutput/a/b.txt'
    >>> BlobLocation("t1", TaskOutputKind.TASK_LOG, "./x")
    Traceback (most recent call last):
    ...
    conventions.errors.InvalidPathError: path './x' must not hold a '.' or '..' segment ... D-16)
    """

    task_id: str | None = attrs.field(validator=_check_location_task_id)
    kind: JobOutputKind | TaskOutputKind
    path: str = attrs.field(validator=_check_location_path)

    def __attrs_post_init__(self) -> None:
        if self.task_id is None:
            _job_kind(self.kind)
        else:
            _task_kind(self.kind)

    @property
    def blob_name(self) -> str:
        """The blob name this location stands for, exactly."""
        if self.task_id is None:
            return f"{job_prefix(_job_kind(self.kind))}/{self.path}"
        return f"{task_prefix(self.task_id, _task_kind(self.kind))}/{self.path}"

    @property
    def local_path(self) -> str:
        """The relative local path a download writes this blob to (rule RP-1), without the
        task folder: ``./a\\b.txt`` gives ``a/b.txt``."""
        return local_relative_path(self.path)


_SHAPE = "is not '$<kind>/<path>' or '<task id>/$<kind>/<path>' (rule RB-1)"


def read_blob_name(name: str) -> BlobLocation:
    r"""Return where *name* sits in the layout, accepting every name .NET writes (rule RB-1).

    The lenient twin of :func:`parse_blob_name`, used by listing and downloads: a kind
    may be any text .NET accepts that holds no ``/`` (rule KD-3, such as ``Task.Logs``
    or ``my kind``), and the path any stored path with a safe local form (rule RP-1,
    such as ``./x``, ``a//b`` or ``logs
un.txt``).

    >>> read_blob_name(r"t1/$Task.Logs/logs\run.log")
    BlobLocation(task_id='t1', kind=TaskOutputKind('Task.Logs'), path='logs\\run.log')
    >>> read_blob_name("t1/$TaskLog/../../x")
    Traceback (most recent call last):
    ...
    conventions.errors.InvalidBlobNameError: blob name 't1/$TaskLog/../../x' is not ...

    Raises:
        InvalidBlobNameError: no kind folder, an invalid task ID, an empty kind, or a path
            that cannot be read safely (a ``..`` segment, a directory).
    """
    if not isinstance(name, str):
        raise InvalidBlobNameError(name, _SHAPE)
    parts = name.split("/", 2)
    try:
        if len(parts) >= 2 and parts[0].startswith("$"):
            return BlobLocation(None, JobOutputKind(parts[0][1:]), name.split("/", 1)[1])
        if len(parts) == 3 and parts[1].startswith("$"):
            return BlobLocation(parts[0], TaskOutputKind(parts[1][1:]), parts[2])
    except ConventionsError as error:
        raise InvalidBlobNameError(name, f"{_SHAPE}: {error}") from error
    raise InvalidBlobNameError(name, _SHAPE)


def parse_blob_name(name: str) -> BlobLocation:
    """Return where *name* sits in the layout: the exact inverse of the writers (rule PB-1).

    Strict: only names :func:`task_blob_name`/:func:`job_blob_name` produce. To read
    what other writers (.NET) stored, use :func:`read_blob_name`.

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
    try:
        location = read_blob_name(name)
    except InvalidBlobNameError as error:
        cause = error.__cause__
        raise InvalidBlobNameError(name, f"{shape}: {cause}" if cause else shape) from cause
    # A kind one typo away from a standard one is written when asked for (D-90), so the
    # inverse reads it; case variants and KD-3-only texts still raise.
    kind = attrs.evolve(location.kind, allow_near_standard=True)
    try:
        if location.task_id is None:
            canonical = job_blob_name(_job_kind(kind), location.path)
        else:
            canonical = task_blob_name(location.task_id, _task_kind(kind), location.path)
    except ConventionsError as error:
        raise InvalidBlobNameError(name, f"{shape}: {error}") from error
    if canonical != name:
        raise InvalidBlobNameError(
            name, f"is not in normal form; the conventions would write {canonical!r} (rule PB-1)"
        )
    return location
