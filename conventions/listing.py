"""What to list for a selection of outputs: the prefixes, and which names to keep.

A pure decision (stdlib and attrs; no Azure, no I/O). The storages turn a selection (a
kind, or none; every task, or some task IDs) into a :class:`ListingPlan`, then list each
prefix in order and keep what :meth:`ListingPlan.keeps` accepts (spec/README.md,
"Storage", Listing):

>>> from conventions.kinds import JobOutputKind, TaskOutputKind
>>> plan_selection(TaskOutputKind.TASK_LOG, ["t1", "t2"]).prefixes
('t1/$TaskLog/', 't2/$TaskLog/')
>>> plan_selection(JobOutputKind.JOB_OUTPUT, None).prefixes
('$JobOutput/',)
>>> plan = plan_selection(TaskOutputKind.TASK_LOG, None)
>>> plan.prefixes, plan.task_kind
((None,), TaskOutputKind('TaskLog'))
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from .blobs import BlobLocation, _task_kind, job_prefix, task_prefix
from .errors import ConventionsError, InvalidIdError, InvalidKindError
from .ids import check_task_id
from .kinds import JobOutputKind, TaskOutputKind

__all__ = [
    "ListingPlan",
    "check_task_id_list",
    "plan_prefix",
    "plan_selection",
    "plan_task_outputs",
    "task_folder",
]


@attrs.frozen
class ListingPlan:
    """List each of *prefixes* in order (``None``: the whole container); of what is
    listed, keep the task outputs of *task_kind* only, when it is set."""

    prefixes: tuple[str | None, ...]
    #: Set for a whole-container listing of one task kind: one listing, filtered.
    task_kind: TaskOutputKind | None = None

    def keeps(self, location: BlobLocation) -> bool:
        """Whether a listed output at *location* is part of the selection."""
        if self.task_kind is None:
            return True
        return location.task_id is not None and location.kind == self.task_kind


def check_task_id_list(task_ids: object) -> None:
    """Refuse one string where an iterable of task IDs is expected.

    A ``str`` is an iterable of one-character "IDs": ``"t1"`` would list tasks ``t`` and ``1``.
    """
    if isinstance(task_ids, (str, bytes)):
        raise InvalidIdError(
            task_ids,
            f"must be an iterable of task IDs, not one string; write [{task_ids!r}]",
            subject="task_ids",
        )


def plan_prefix(prefix: str) -> ListingPlan:
    """One kind's folder *prefix* (without ``/``): listed with its ``/`` (decision D-4),
    so ``TaskOutputFoo`` never shows up under ``TaskOutput``."""
    return ListingPlan((prefix + "/",))


def plan_task_outputs(kind: TaskOutputKind, task_ids: Iterable[str] | None) -> ListingPlan:
    """The outputs of the task *kind* of every task (one listing of the container,
    filtered by kind) or of *task_ids* (one listing per task, ``<task id>/$<kind>/``).

    The IDs are read and checked now, before any request."""
    _task_kind(kind)  # a job kind raises here, listed or not (rule KD-2)
    check_task_id_list(task_ids)
    if task_ids is not None:
        return ListingPlan(tuple(task_prefix(task_id, kind) + "/" for task_id in task_ids))
    return ListingPlan((None,), task_kind=kind)


def plan_selection(
    kind: JobOutputKind | TaskOutputKind | None, task_ids: Iterable[str] | None
) -> ListingPlan:
    """What ``JobOutputStorage.find_outputs(kind, task_ids)`` lists: a job kind's folder;
    a task kind as :func:`plan_task_outputs`; no kind: the whole container, or every
    kind of *task_ids* (``<task id>/``).

    Raises:
        InvalidKindError: a job kind with *task_ids*, or a kind of neither type.
        InvalidIdError: *task_ids* is one string, or holds a bad task ID.
    """
    check_task_id_list(task_ids)
    if isinstance(kind, JobOutputKind):
        if task_ids is not None:
            raise InvalidKindError(kind, "is a job kind; task_ids applies to task kinds")
        return plan_prefix(job_prefix(kind))
    if kind is not None:
        return plan_task_outputs(kind, task_ids)
    if task_ids is None:
        return ListingPlan((None,))
    return ListingPlan(tuple(check_task_id(task_id) + "/" for task_id in task_ids))


def task_folder(name: str) -> str | None:
    """The task ID of a top-level folder *name* of a ``/``-delimited listing (``"t1/"``),
    or ``None`` for a blob at the top level, ``$JobOutput/`` or any other non-task folder.

    >>> task_folder("t1/"), task_folder("$JobOutput/"), task_folder("t1")
    ('t1', None, None)
    """
    if not name.endswith("/"):
        return None  # a blob at the top level, not a folder
    try:
        return check_task_id(name[:-1])
    except ConventionsError:
        return None  # "$JobOutput" and anything else that is not a task
