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


def _custom(cls: type[_K], text: str, standard: tuple[_K, ...], allow_near_standard: bool) -> _K:
    if not isinstance(text, str) or not _WRITE_TEXT.fullmatch(text):
        raise InvalidKindError(text, _WRITE_RULE, subject="kind text")
    _refuse_case_variant(text, standard)
    if not allow_near_standard:
        _refuse_near_standard(text, standard)
    return cls(text, allow_near_standard=allow_near_standard)


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


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether *a* becomes *b* by one insertion, deletion, substitution or swap of two
    neighbouring characters (a typo's usual forms)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diffs) == 1 or (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(shorter) and shorter[i] == longer[i]:
        i += 1
    return shorter[i:] == longer[i + 1 :]


def _near_standard(
    text: str, standard: tuple[JobOutputKind, ...] | tuple[TaskOutputKind, ...]
) -> JobOutputKind | TaskOutputKind | None:
    """Return the standard kind that *text* is one typo away from, in any case, or None.

    One typo: one character inserted, deleted, replaced, or two neighbours swapped,
    compared ignoring case (decision D-90). A case variant alone is not near (D-40).
    """
    folded = text.lower()
    for kind in standard:
        if _one_edit_apart(folded, kind.text.lower()):
            return kind
    return None


def _refuse_near_standard(
    text: str, standard: tuple[JobOutputKind, ...] | tuple[TaskOutputKind, ...]
) -> None:
    kind = _near_standard(text, standard)
    if kind is not None:
        kind_type = type(kind).__name__
        raise InvalidKindError(
            text,
            f"is one typo away from the standard kind {kind.text!r}: did you mean "
            f"{kind_type}.{_attribute_name(kind.text)}? Outputs under ${text} are never "
            f"seen where ${kind.text} is looked for. If {text!r} is meant, ask for it "
            f"explicitly: {kind_type}.custom({text!r}, allow_near_standard=True), or "
            f"'custom:{text}' in user text (rule KD-1, decision D-90)",
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
        # Typing 'custom:' is the explicit request for exactly this kind (decision D-90).
        return cls(custom_text, allow_near_standard=True)
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
    allow_near_standard: bool = attrs.field(default=False, kw_only=True, eq=False)
    """Whether writers may file under a text one typo away from a standard kind (D-90)."""

    JOB_OUTPUT: ClassVar[JobOutputKind]
    """The job's main output (``$JobOutput``)."""
    JOB_PREVIEW: ClassVar[JobOutputKind]
    """A preview of the job's output (``$JobPreview``)."""

    @classmethod
    def standard(cls) -> tuple[JobOutputKind, ...]:
        """The predefined job kinds."""
        return (cls.JOB_OUTPUT, cls.JOB_PREVIEW)

    @classmethod
    def custom(cls, text: str, *, allow_near_standard: bool = False) -> JobOutputKind:
        """Return a custom kind; *text* must be 1-64 letters, digits, ``-`` or ``_``.

        A text one typo away from a standard kind (``JobOuput``, ``JobOutputs``, in any
        case) is refused unless *allow_near_standard* says it is meant (decision D-90).

        Raises:
            InvalidKindError: *text* breaks rule KD-1, differs from a standard kind
                only in case (``jobOutput``: use the standard kind instead), or is one
                typo away from one without *allow_near_standard*.
        """
        return _custom(cls, text, cls.standard(), allow_near_standard)

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
    allow_near_standard: bool = attrs.field(default=False, kw_only=True, eq=False)
    """Whether writers may file under a text one typo away from a standard kind (D-90)."""

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
    def custom(cls, text: str, *, allow_near_standard: bool = False) -> TaskOutputKind:
        """Return a custom kind; *text* must be 1-64 letters, digits, ``-`` or ``_``.

        A text one typo away from a standard kind (``TaskOuput``, ``TaskLogs``, in any
        case) is refused unless *allow_near_standard* says it is meant (decision D-90).

        >>> TaskOutputKind.custom("TaskLogs", allow_near_standard=True)
        TaskOutputKind('TaskLogs')

        Raises:
            InvalidKindError: *text* breaks rule KD-1, differs from a standard kind
                only in case (``taskoutput``, ``TASKLOG``: use the standard kind
                instead), or is one typo away from one without *allow_near_standard*.
        """
        return _custom(cls, text, cls.standard(), allow_near_standard)

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

    Every writer calls this, whatever built the kind: the constructor accepts what
    readers meet (rule KD-3), such as ``TaskOutputKind("taskoutput")``.

    >>> check_writable(TaskOutputKind("TaskOuput"))
    Traceback (most recent call last):
    ...
    conventions.errors.InvalidKindError: kind text 'TaskOuput' is one typo away ...
    """
    if not _WRITE_TEXT.fullmatch(kind.text):
        raise InvalidKindError(
            kind.text,
            f"{_WRITE_RULE}; kinds with other text are read, never written (decision D-41)",
            subject="kind text",
        )
    standard = type(kind).standard()
    _refuse_case_variant(kind.text, standard)
    if not kind.allow_near_standard:
        _refuse_near_standard(kind.text, standard)
    return kind


JobOutputKind.JOB_OUTPUT = JobOutputKind("JobOutput")
JobOutputKind.JOB_PREVIEW = JobOutputKind("JobPreview")
TaskOutputKind.TASK_OUTPUT = TaskOutputKind("TaskOutput")
TaskOutputKind.TASK_PREVIEW = TaskOutputKind("TaskPreview")
TaskOutputKind.TASK_LOG = TaskOutputKind("TaskLog")
TaskOutputKind.TASK_INTERMEDIATE = TaskOutputKind("TaskIntermediate")
