"""Output kinds: the ``$<kind>`` folder a job or task output is filed under (rule KD-1).

Pure: no I/O, no Azure import.
"""

from __future__ import annotations

import re
from typing import ClassVar

import attrs

from .errors import InvalidKindError

__all__ = ["JobOutputKind", "TaskOutputKind"]

_KIND_TEXT = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
_KIND_RULE = "must be 1-64 ASCII letters, digits, '-' or '_' (rule KD-1)"


def _check_text(_instance: object, _attribute: attrs.Attribute[str], text: str) -> None:
    # .NET accepts any non-empty text; a '/' or '$' there would break the layout
    # and the inverse parse, so we restrict it (decision D-5).
    if not isinstance(text, str) or not _KIND_TEXT.fullmatch(text):
        raise InvalidKindError(text, _KIND_RULE, subject="kind text")


@attrs.frozen(repr=False)
class JobOutputKind:
    """A category of job output, stored under ``$<text>/`` in the job's container.

    Equality is ordinal and case-sensitive, as in .NET; a job kind never equals a
    task kind with the same text.

    >>> JobOutputKind.JOB_OUTPUT
    JobOutputKind('JobOutput')
    >>> str(JobOutputKind.custom("Summary"))
    'Summary'
    >>> JobOutputKind.custom("bob") == JobOutputKind.custom("Bob")
    False
    """

    text: str = attrs.field(validator=_check_text)

    JOB_OUTPUT: ClassVar[JobOutputKind]
    """The job's main output (``$JobOutput``)."""
    JOB_PREVIEW: ClassVar[JobOutputKind]
    """A preview of the job's output (``$JobPreview``)."""

    @classmethod
    def custom(cls, text: str) -> JobOutputKind:
        """Return a custom kind; *text* must be 1-64 letters, digits, ``-`` or ``_``."""
        return cls(text)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"JobOutputKind({self.text!r})"


@attrs.frozen(repr=False)
class TaskOutputKind:
    """A category of task output, stored under ``<task id>/$<text>/`` in the job's container.

    >>> TaskOutputKind.TASK_LOG
    TaskOutputKind('TaskLog')
    >>> TaskOutputKind.custom("alice") == TaskOutputKind.custom("Alice")
    False
    >>> TaskOutputKind.custom("a/b")
    Traceback (most recent call last):
    ...
    conventions.errors.InvalidKindError: kind text 'a/b' must be 1-64 ASCII letters, ... (rule KD-1)
    """

    text: str = attrs.field(validator=_check_text)

    TASK_OUTPUT: ClassVar[TaskOutputKind]
    """The task's main output (``$TaskOutput``); the portal shows it as "Task output files"."""
    TASK_PREVIEW: ClassVar[TaskOutputKind]
    """A preview of the task's output (``$TaskPreview``)."""
    TASK_LOG: ClassVar[TaskOutputKind]
    """The task's logs (``$TaskLog``); the portal shows them as "Task logs"."""
    TASK_INTERMEDIATE: ClassVar[TaskOutputKind]
    """Intermediate files, e.g. for a later task (``$TaskIntermediate``)."""

    @classmethod
    def custom(cls, text: str) -> TaskOutputKind:
        """Return a custom kind; *text* must be 1-64 letters, digits, ``-`` or ``_``."""
        return cls(text)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"TaskOutputKind({self.text!r})"


JobOutputKind.JOB_OUTPUT = JobOutputKind("JobOutput")
JobOutputKind.JOB_PREVIEW = JobOutputKind("JobPreview")
TaskOutputKind.TASK_OUTPUT = TaskOutputKind("TaskOutput")
TaskOutputKind.TASK_PREVIEW = TaskOutputKind("TaskPreview")
TaskOutputKind.TASK_LOG = TaskOutputKind("TaskLog")
TaskOutputKind.TASK_INTERMEDIATE = TaskOutputKind("TaskIntermediate")
