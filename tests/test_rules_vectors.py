"""Every vector in spec/vectors/ for the pure naming rules, by id."""

from __future__ import annotations

from typing import Any

import pytest

import conventions
from conventions import (
    JobOutputKind,
    TaskOutputKind,
    container_name,
    destination_path,
    is_valid_container_name,
    job_blob_name,
    job_prefix,
    parse_blob_name,
    task_blob_name,
    task_prefix,
)
from conventions.ids import check_job_id, check_task_id

from .vectors import cases


def _error(name: str) -> type[BaseException]:
    error: type[BaseException] = getattr(conventions, name)
    return error


@pytest.mark.parametrize("case", cases("container_names.json"))
def test_container_name(case: dict[str, Any]) -> None:
    if "raises" in case:
        with pytest.raises(_error(case["raises"]), match="rule ID-1"):
            container_name(case["job_id"])
    else:
        assert container_name(case["job_id"]) == case["expected"]
        assert is_valid_container_name(case["expected"])


@pytest.mark.parametrize("case", cases("container_name_validity.json"))
def test_is_valid_container_name(case: dict[str, Any]) -> None:
    assert is_valid_container_name(case["name"]) is case["expected"]


@pytest.mark.parametrize("case", cases("ids.json"))
def test_ids(case: dict[str, Any]) -> None:
    check = check_task_id if case["kind"] == "task" else check_job_id
    if case["valid"]:
        assert check(case["value"]) == case["value"]
    else:
        with pytest.raises(conventions.InvalidIdError, match=f"{case['kind']} id"):
            check(case["value"])


@pytest.mark.parametrize("case", cases("kinds.json"))
@pytest.mark.parametrize("kind_type", [JobOutputKind, TaskOutputKind])
def test_kind_text(case: dict[str, Any], kind_type: type[JobOutputKind | TaskOutputKind]) -> None:
    if case["valid"]:
        kind = kind_type.custom(case["text"])
        assert str(kind) == kind.text == case["text"]
    else:
        with pytest.raises(conventions.InvalidKindError, match="rule KD-1"):
            kind_type.custom(case["text"])


@pytest.mark.parametrize("case", cases("destination_paths.json"))
def test_destination_path(case: dict[str, Any]) -> None:
    if "raises" in case:
        with pytest.raises(_error(case["raises"])) as info:
            destination_path(case["path"])
        assert repr(case["path"]) in str(info.value)
    else:
        assert destination_path(case["path"]) == case["expected"]


def _call_blob_function(case: dict[str, Any]) -> str:
    function = case["function"]
    if function == "job_prefix":
        return job_prefix(JobOutputKind.custom(case["kind"]))
    if function == "task_prefix":
        return task_prefix(case["task_id"], TaskOutputKind.custom(case["kind"]))
    if function == "job_blob_name":
        return job_blob_name(JobOutputKind.custom(case["kind"]), case["path"])
    assert function == "task_blob_name"
    return task_blob_name(case["task_id"], TaskOutputKind.custom(case["kind"]), case["path"])


@pytest.mark.parametrize("case", cases("blob_names.json"))
def test_blob_names(case: dict[str, Any]) -> None:
    if "raises" in case:
        with pytest.raises(_error(case["raises"])):
            _call_blob_function(case)
    else:
        assert _call_blob_function(case) == case["expected"]


@pytest.mark.parametrize("case", cases("blob_parses.json"))
def test_parse_blob_name(case: dict[str, Any]) -> None:
    if "raises" in case:
        with pytest.raises(_error(case["raises"]), match="rule PB-1"):
            parse_blob_name(case["blob_name"])
        return
    expected = case["expected"]
    location = parse_blob_name(case["blob_name"])
    assert location.task_id == expected["task_id"]
    assert location.kind.text == expected["kind"]
    kind_type = JobOutputKind if expected["task_id"] is None else TaskOutputKind
    assert isinstance(location.kind, kind_type)
    assert location.path == expected["path"]
    assert location.blob_name == case["blob_name"]
