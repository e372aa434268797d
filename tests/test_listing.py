"""``conventions.listing``: what a selection lists (prefixes, and which names to keep), as
a pure decision without I/O (spec/vectors/listing.json, and a property that the plan
selects exactly the outputs the selection means)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conventions import errors
from conventions.blobs import job_blob_name, read_blob_name, task_blob_name
from conventions.kinds import JobOutputKind, TaskOutputKind
from conventions.listing import ListingPlan, plan_selection, task_folder

from .strategies import job_kinds, normal_paths, task_ids, task_kinds
from .vectors import cases


def _kind(text: str | None) -> Any:
    if text is None:
        return None
    family, _, name = text.partition(":")
    return {"job": JobOutputKind, "task": TaskOutputKind, "text": str}[family](name)


@pytest.mark.parametrize("case", cases("listing.json"))
def test_listing_vectors(case: dict[str, Any]) -> None:
    kind = _kind(case["kind"])
    if "raises" in case:
        with pytest.raises(getattr(errors, case["raises"])):
            plan_selection(kind, case["task_ids"])
        return
    plan = plan_selection(kind, case["task_ids"])
    assert list(plan.prefixes) == case["prefixes"]
    task_kind = case["task_kind"]
    assert plan.task_kind == (None if task_kind is None else TaskOutputKind(task_kind))


def _selected(plan: ListingPlan, name: str) -> bool:
    """What the storages do with *plan*: list each prefix, keep what the plan keeps."""
    location = read_blob_name(name)
    listed = any(prefix is None or name.startswith(prefix) for prefix in plan.prefixes)
    return listed and plan.keeps(location)


_blobs = st.one_of(
    st.builds(task_blob_name, task_ids(), task_kinds(), normal_paths()),
    st.builds(job_blob_name, job_kinds(), normal_paths()),
)
_selections = st.one_of(st.none(), task_kinds(), job_kinds())
_task_id_lists = st.one_of(st.none(), st.lists(task_ids(), max_size=4))


@given(name=_blobs, kind=_selections, chosen=_task_id_lists, data=st.data())
def test_a_plan_selects_exactly_what_the_selection_means(
    name: str,
    kind: JobOutputKind | TaskOutputKind | None,
    chosen: list[str] | None,
    data: st.DataObject,
) -> None:
    location = read_blob_name(name)
    if chosen is not None and location.task_id is not None and data.draw(st.booleans()):
        chosen = [*chosen, location.task_id]  # the blob's own task, often
    if isinstance(kind, JobOutputKind) and chosen is not None:
        with pytest.raises(errors.InvalidKindError):
            plan_selection(kind, chosen)
        return
    plan = plan_selection(kind, chosen)
    in_tasks = chosen is None or location.task_id in chosen
    if isinstance(kind, JobOutputKind):
        expected = location.task_id is None and location.kind == kind
    elif isinstance(kind, TaskOutputKind):
        expected = location.task_id is not None and location.kind == kind and in_tasks
    else:
        expected = chosen is None or (location.task_id is not None and in_tasks)
    assert _selected(plan, name) == expected
    # One listing of the container at most, and only when no task is named.
    assert plan.prefixes.count(None) == (1 if chosen is None and None in plan.prefixes else 0)
    assert all(prefix is None or prefix.endswith("/") for prefix in plan.prefixes)


@given(task_id=task_ids(), kind=task_kinds(), path=normal_paths())
def test_task_folder_reads_back_a_task_id(task_id: str, kind: TaskOutputKind, path: str) -> None:
    name = task_blob_name(task_id, kind, path)
    assert task_folder(name.split("/", 1)[0] + "/") == task_id
    assert task_folder(task_id) is None  # a blob at the top level is no folder
    job_name = job_blob_name(JobOutputKind.JOB_OUTPUT, path)
    assert task_folder(job_name.split("/", 1)[0] + "/") is None


@given(text=st.text(max_size=5))
def test_one_string_is_not_a_list_of_task_ids(text: str) -> None:
    for kind in (None, TaskOutputKind.TASK_LOG):
        with pytest.raises(errors.InvalidIdError):
            plan_selection(kind, text)
