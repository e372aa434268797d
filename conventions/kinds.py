"""Output kinds: the ``$<kind>`` folder a job or task output is filed under (rules KD-1 to KD-4).

Pure: no I/O, no Azure import.
"""

from __future__ import annotations

import difflib
import re
from typing import ClassVar, TypeVar

import attrs

from .errors import InvalidKindError

__all__ = ["JobOutputKind", "TaskOutputKind"]

#: What ``custom`` accepts and writers write (rule KD-1, decision D-5).
_WRITE_TEXT = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
_WRITE_RULE = "must be 1-64 ASCII letters, digits, '-' or '_' (rule KD-1)"
#: What readers accept: any text .NET's ``Custom`` accepts that a blob name can hold and
#: that reads back unambiguously (rule KD-3, decision D-41).
_READ_TEXT = re.compile(r"[^/\x00-\x1f\x7f]+")
_READ_RULE = "must be non-empty, without '/' or control characters (rule KD-3)"
#: The prefix that asks for a custom kind in user text (rule KD-4).
CUSTOM_PREFIX = "custom:"

_K = TypeVar("_K", "JobOutputKind", "TaskOutputKind")


def _check_text(_instance: object, _attribute: attrs.Attribute[str], text: str) -> None:
    # The constructor takes every kind that can exist in storage, .NET-written ones
    # included (KD-3); custom() and the writers apply the stricter KD-1.
    if not isinstance(text, str) or not _READ_TEXT.fullmatch(text):
        raise InvalidKindError(text, _READ_RULE, subject="kind text")


def _custom(cls: type[_K], text: str, standard: tuple[_K, ...]) -> _K:
    if not isinstance(text, str) or not _WRITE_TEXT.fullmatch(text):
        raise InvalidKindError(text, _WRITE_RULE, subject="kind text")
    _refuse_case_variant(text, standard)
    return cls(text)


def _refuse_case_variant(
    text: str, standard: tuple[JobOutputKind, ...] | tuple[TaskOutputKind, ...]
) -> None:
    for kind in standard:
        if text != kind.text and text.lower() == kind.text.lower():
            raise InvalidKindError(
                text,
                f"differs from the standard kind {kind.text!r} only in case; the portal and "
                f"other tools look for ${kind.text}, so use {type(kind).__name__}."
                f"{_attribute_name(kind.text)} (rule KD-1, decision D-40)",
                subject="kind text",
            )


def _attribute_name(text: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", text).upper()


def _parse(cls: type[_K], text: str, standard: tuple[_K, ...], other: tuple[str, ...]) -> _K:
    if not isinstance(text, str):
        raise InvalidKindError(text, "must be a string", subject="kind")
    by_folded = {kind.text.lower(): kind for kind in standard}
    folded = text.strip().lower().lstrip("$")
    if folded in by_folded:
        return by_folded[folded]
    if text[: len(CUSTOM_PREFIX)].lower() == CUSTOM_PREFIX:
        custom_text = text[len(CUSTOM_PREFIX) :]
        # Lenient like a reader (KD-3), so kinds written by .NET can be named; still
        # never a case variant of a standard kind.
        _refuse_case_variant(custom_text, standard)
        return cls(custom_text)
    names = [kind.text for kind in standard]
    suggestion = difflib.get_close_matches(folded, [n.lower() for n in names], n=1, cutoff=0.6)
    if suggestion:
        hint = f"did you mean {names[[n.lower() for n in names].index(suggestion[0])]!r}? "
    elif folded in {n.lower() for n in other}:
        hint = f"{text!r} is a {'task' if cls is JobOutputKind else 'job'} kind; "
    else:
        hint = ""
    raise InvalidKindError(
        text,
        f"is not a {'job' if cls is JobOutputKind else 'task'} kind; {hint}use one of "
        f"{', '.join(names)} (any case), or 'custom:<text>' for a custom kind (rule KD-4)",
        subject="kind",
    )


@attrs.frozen(repr=False)
class JobOutputKind:
    """A category of job output, stored under ``$<text>/`` in the job's container.

    Equality is ordinal and case-sensitive, as in .NET; a job kind never equals a
    task kind with the same text. The constructor accepts any kind a reader may meet
    (rule KD-3); :meth:`custom` and every writer apply rule KD-1.

    >>> JobOutputKind.JOB_OUTPUT
    JobOutputKind('JobOutput')
    >>> str(JobOutputKind.custom("Summary"))
    'Summary'
    >>> JobOutputKind.custom("bob") == JobOutputKind.custom("Bob")
    False
    >>> JobOutputKind.parse("jobpreview")
    JobOutputKind('JobPreview')
    """

    text: str = attrs.field(validator=_check_text)

    JOB_OUTPUT: ClassVar[JobOutputKind]
    """The job's main output (``$JobOutput``)."""
    JOB_PREVIEW: ClassVar[JobOutputKind]
    """A preview of the job's output (``$JobPreview``)."""

    @classmethod
    def standard(cls) -> tuple[JobOutputKind, ...]:
        """The predefined job kinds."""
        return (cls.JOB_OUTPUT, cls.JOB_PREVIEW)

    @classmethod
    def custom(cls, text: str) -> JobOutputKind:
        """Return a custom kind; *text* must be 1-64 letters, digits, ``-`` or ``_``.

        Raises:
            InvalidKindError: *text* breaks rule KD-1, or differs from a standard kind
                only in case (``jobOutput``): use the standard kind instead.
        """
        return _custom(cls, text, cls.standard())

    @classmethod
    def parse(cls, text: str) -> JobOutputKind:
        """Return the job kind that user *text* names (rule KD-4).

        A standard kind in any case (``JobOutput``, ``jobpreview``), or a custom kind
        spelled ``custom:<text>``; the custom text may be any kind a reader accepts
        (rule KD-3), so kinds written by .NET can be named.

        >>> JobOutputKind.parse("custom:Summary")
        JobOutputKind('Summary')
        >>> JobOutputKind.parse("JobOuptut")
        Traceback (most recent call last):
        ...
        conventions.errors.InvalidKindError: kind 'JobOuptut' is not ... mean 'JobOutput'? ...

        Raises:
            InvalidKindError: anything else, with a suggestion.
        """
        return _parse(cls, text, cls.standard(), tuple(k.text for k in TaskOutputKind.standard()))

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
    >>> TaskOutputKind.custom("taskoutput")
    Traceback (most recent call last):
    ...
    conventions.errors.InvalidKindError: kind text 'taskoutput' differs from ... 'TaskOutput' ...
    >>> TaskOutputKind.parse("tasklog"), TaskOutputKind.parse("custom:Task.Logs")
    (TaskOutputKind('TaskLog'), TaskOutputKind('Task.Logs'))
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
    def standard(cls) -> tuple[TaskOutputKind, ...]:
        """The predefined task kinds."""
        return (cls.TASK_OUTPUT, cls.TASK_PREVIEW, cls.TASK_LOG, cls.TASK_INTERMEDIATE)

    @classmethod
    def custom(cls, text: str) -> TaskOutputKind:
        """Return a custom kind; *text* must be 1-64 letters, digits, ``-`` or ``_``.

        Raises:
            InvalidKindError: *text* breaks rule KD-1, or differs from a standard kind
                only in case (``taskoutput``, ``TASKLOG``): use the standard kind instead.
        """
        return _custom(cls, text, cls.standard())

    @classmethod
    def parse(cls, text: str) -> TaskOutputKind:
        """Return the task kind that user *text* names (rule KD-4).

        A standard kind in any case (``TaskOutput``, ``tasklog``), or a custom kind
        spelled ``custom:<text>``; the custom text may be any kind a reader accepts
        (rule KD-3), so kinds written by .NET (``custom:Task.Logs``) can be named.

        >>> TaskOutputKind.parse("TaskOuptut")
        Traceback (most recent call last):
        ...
        conventions.errors.InvalidKindError: kind 'TaskOuptut' is not ... mean 'TaskOutput'? ...

        Raises:
            InvalidKindError: anything else, with a suggestion.
        """
        return _parse(cls, text, cls.standard(), tuple(k.text for k in JobOutputKind.standard()))

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"TaskOutputKind({self.text!r})"


def check_writable(kind: _K) -> _K:
    """Return *kind* if writers may file outputs under it (rule KD-1), else raise.

    A kind read from storage may hold text that only .NET writes (rule KD-3).
    """
    if not _WRITE_TEXT.fullmatch(kind.text):
        raise InvalidKindError(
            kind.text,
            f"{_WRITE_RULE}; kinds with other text are read, never written (decision D-41)",
            subject="kind text",
        )
    return kind


JobOutputKind.JOB_OUTPUT = JobOutputKind("JobOutput")
JobOutputKind.JOB_PREVIEW = JobOutputKind("JobPreview")
TaskOutputKind.TASK_OUTPUT = TaskOutputKind("TaskOutput")
TaskOutputKind.TASK_PREVIEW = TaskOutputKind("TaskPreview")
TaskOutputKind.TASK_LOG = TaskOutputKind("TaskLog")
TaskOutputKind.TASK_INTERMEDIATE = TaskOutputKind("TaskIntermediate")
