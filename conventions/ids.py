"""Batch job and task IDs (spec rules ID-1 and ID-2). Pure: no I/O, no Azure import."""

from __future__ import annotations

import re

from .errors import InvalidIdError

__all__ = ["check_job_id", "check_task_id"]

# re.ASCII and fullmatch throughout: \w and $ would otherwise admit non-ASCII
# letters and a trailing newline (.NET hazard 10).
_JOB_ID = re.compile(r"[A-Za-z0-9_:-]+", re.ASCII)
_TASK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)


def check_job_id(job_id: object) -> str:
    """Return *job_id* if it is a Batch job ID, else raise :class:`InvalidIdError`.

    Letters, digits, ``-``, ``_`` and ``:`` (jobs made by a job schedule are named
    ``<schedule>:<job>``); no upper length limit, because schedule-made IDs can be
    longer than 64 characters (rule ID-1).

    >>> check_job_id("myschedule:job-1")
    'myschedule:job-1'
    >>> check_job_id("my job")
    Traceback (most recent call last):
    ...
    conventions.errors.InvalidIdError: job id 'my job' must be one or more ASCII ... (rule ID-1)
    """
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        raise InvalidIdError(
            job_id,
            "must be one or more ASCII letters, digits, '-', '_' or ':' (rule ID-1)",
            subject="job id",
        )
    return job_id


def check_task_id(task_id: object) -> str:
    """Return *task_id* if it is a Batch task ID, else raise :class:`InvalidIdError`.

    1-64 letters, digits, ``-`` or ``_``, as the Batch service requires (rule ID-2).

    >>> check_task_id("analysis-309")
    'analysis-309'
    >>> check_task_id("a/b")
    Traceback (most recent call last):
    ...
    conventions.errors.InvalidIdError: task id 'a/b' must be 1-64 ASCII letters, ... (rule ID-2)
    """
    if not isinstance(task_id, str) or not _TASK_ID.fullmatch(task_id):
        raise InvalidIdError(
            task_id, "must be 1-64 ASCII letters, digits, '-' or '_' (rule ID-2)", subject="task id"
        )
    return task_id
