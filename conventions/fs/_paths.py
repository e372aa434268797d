"""The filesystem's paths (spec/README.md, "Filesystem paths", rules FS-1 to FS-3): pure.

A path is the job ID, then the blob name exactly as stored (``<task-id>/$<Kind>/<path>``
or ``$<JobKind>/<path>``), so what a listing returns can be opened as it is and every
stored name has exactly one path. The job ID maps to its container with
:func:`conventions.container_name`; the kind keeps its ``$``.

>>> split_path("batchconv://my-job/t1/$TaskOutput/a.csv")
FsPath(job_id='my-job', name='t1/$TaskOutput/a.csv')
>>> split_path("my-job")
FsPath(job_id='my-job', name='')
>>> join_path("my-job", "t1/$TaskOutput/a.csv")
'my-job/t1/$TaskOutput/a.csv'
>>> split_path("my-job/t1/TaskOutput/a.csv")
Traceback (most recent call last):
...
conventions.errors.InvalidPathError: path 'my-job/t1/TaskOutput/a.csv' ... (rule FS-2)
"""

from __future__ import annotations

import attrs

from conventions.errors import InvalidPathError
from conventions.ids import check_job_id

__all__ = [
    "PROTOCOL",
    "FsPath",
    "check_pattern",
    "depth_below",
    "folders_between",
    "join_path",
    "split_path",
    "strip_protocol",
]

#: The URL scheme: ``batchconv://<job-id>/<task-id>/$<Kind>/<path>``.
PROTOCOL = "batchconv"

_NO_JOB = (
    "names no job: a path starts with the job ID, as in "
    "'batchconv://<job-id>/<task-id>/$TaskOutput/<path>' (rule FS-1)"
)
_GLOB_MAGIC = frozenset("*?[")


@attrs.frozen
class FsPath:
    """A filesystem path: the job, and the blob name (or name prefix) in its container."""

    job_id: str
    #: The blob name or a folder of blob names, without a trailing ``/``; ``""``: the job.
    name: str


def strip_protocol(path: str) -> str:
    """*path* without ``batchconv://`` and without trailing ``/``.

    >>> strip_protocol("batchconv://j/t1/")
    'j/t1'
    """
    if path.startswith(PROTOCOL + "://"):
        path = path[len(PROTOCOL) + 3 :]
    return path.rstrip("/")


def split_path(path: str) -> FsPath:
    """The job and blob name of *path* (rules FS-1, FS-2).

    Raises:
        InvalidPathError: *path* names no job, or writes a kind folder without its ``$``.
        InvalidIdError: the first segment is not a Batch job ID.
    """
    stripped = strip_protocol(path)
    job_id, _, name = stripped.partition("/")
    if not job_id:
        raise InvalidPathError(path, _NO_JOB, subject="path")
    check_job_id(job_id)
    _check_kind(path, name.split("/"))
    return FsPath(job_id, name)


def join_path(job_id: str, name: str) -> str:
    """The path of blob *name* in the job's container (``""``: the job itself)."""
    return f"{job_id}/{name}" if name else job_id


def check_pattern(pattern: str) -> None:
    """Refuse a glob *pattern* whose literal kind folder lacks its ``$`` (rule FS-2),
    which would match nothing rather than what was meant.

    >>> check_pattern("j/*/$TaskOutput/*.csv")
    >>> check_pattern("j/*/TaskOutput/*.csv")
    Traceback (most recent call last):
    ...
    conventions.errors.InvalidPathError: path 'j/*/TaskOutput/*.csv' ... (rule FS-2)
    """
    segments = strip_protocol(pattern).split("/")
    _check_kind(pattern, segments[1:])


def _check_kind(path: str, segments: list[str]) -> None:
    """Below the job, a folder that is no ``$<JobKind>`` is a task, and the next one down
    is its kind: it must start with ``$`` (unless it is a glob pattern)."""
    if len(segments) < 3 or segments[0].startswith("$"):
        return
    kind = segments[1]
    if kind.startswith("$") or _GLOB_MAGIC.intersection(kind):
        return
    raise InvalidPathError(
        path,
        f"has kind folder {kind!r} without its '$': kinds are stored as "
        f"'$<Kind>', so write '{segments[0]}/${kind}/...' (rule FS-2)",
        subject="path",
    )


def folders_between(prefix: str, name: str, maxdepth: int | None) -> list[str]:
    """The folders strictly between folder *prefix* (``""``: the job) and blob *name*
    below it, no deeper than *maxdepth* levels below *prefix* (``None``: any).

    >>> folders_between("t1", "t1/$TaskOutput/a/b.csv", None)
    ['t1/$TaskOutput', 't1/$TaskOutput/a']
    >>> folders_between("", "t1/$TaskOutput/a/b.csv", 2)
    ['t1', 't1/$TaskOutput']
    """
    base = f"{prefix}/" if prefix else ""
    parts = name[len(base) :].split("/")[:-1]
    if maxdepth is not None:
        parts = parts[:maxdepth]
    return [base + "/".join(parts[: i + 1]) for i in range(len(parts))]


def depth_below(prefix: str, name: str) -> int:
    """How many levels blob *name* is below folder *prefix* (a direct child: 1).

    >>> depth_below("", "t1/$TaskOutput/a.csv"), depth_below("t1", "t1/$TaskOutput/a.csv")
    (3, 2)
    """
    base = f"{prefix}/" if prefix else ""
    return name[len(base) :].count("/") + 1
