"""Hypothesis properties of the pure naming rules (spec/README.md rules CN, BN, PB, DP)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any, cast

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import conventions
from conventions import (
    ConventionsError,
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

from .strategies import (
    container_safe_ids,
    job_ids,
    job_kinds,
    kind_texts,
    normal_paths,
    relative_paths,
    task_ids,
    task_kinds,
)

# --- CN: one property per Azure container rule, as the .NET FsCheck suite has ---


@given(job_ids())
@example("-")
@example(":")
@example("my_job-bob")
@example("A" * 60)
def test_container_name_length_is_3_to_63(job_id: str) -> None:
    assert 3 <= len(container_name(job_id)) <= 63


@given(job_ids())
def test_container_name_has_only_lowercase_letters_digits_dashes(job_id: str) -> None:
    assert re.fullmatch(r"[a-z0-9-]+", container_name(job_id), re.ASCII)


@given(job_ids())
@example("-my_job-sam--")
def test_container_name_starts_and_ends_with_letter_or_digit(job_id: str) -> None:
    name = container_name(job_id)
    assert name[0].isalnum()
    assert name[-1].isalnum()


@given(job_ids())
@example("a--b")
@example("---")
def test_container_name_has_no_double_dash(job_id: str) -> None:
    assert "--" not in container_name(job_id)


@given(job_ids())
def test_container_name_is_valid(job_id: str) -> None:
    assert is_valid_container_name(container_name(job_id))


@given(container_safe_ids())
@example("job-15")
@example("a" * 59)
def test_container_safe_ids_are_not_munged(job_id: str) -> None:
    assert container_name(job_id) == "job-" + job_id


@given(job_ids())
@example("MyTerrificJob")
def test_container_name_ignores_case(job_id: str) -> None:
    name = container_name(job_id)
    assert container_name(job_id.upper()) == name
    assert container_name(job_id.lower()) == name


@given(job_ids())
@example("my-_EVEN_MORE_-terrific-job")
def test_container_name_fallback_is_readable_part_plus_sha1(job_id: str) -> None:
    name = container_name(job_id)
    lowered = job_id.lower()
    if name == "job-" + lowered:
        return
    match = re.fullmatch(r"job-([a-z0-9-]{1,15})-([0-9a-f]{40})", name)
    assert match is not None
    assert match.group(2) == hashlib.sha1(lowered.encode()).hexdigest()


@given(job_ids(), job_ids())
@example("job_1", "job-1")
def test_container_names_of_different_ids_differ(first: str, second: str) -> None:
    if first.lower() != second.lower():
        assert container_name(first) != container_name(second)


# --- BN / PB: blob names and their inverse ---


@given(task_ids(), task_kinds(), normal_paths())
@example("t1", TaskOutputKind.TASK_LOG, "Testing$/SpecialCharacters%/stdout.txt")
def test_task_blob_name_round_trips(task_id: str, kind: TaskOutputKind, path: str) -> None:
    location = parse_blob_name(task_blob_name(task_id, kind, path))
    assert (location.task_id, location.kind, location.path) == (task_id, kind, path)


@given(job_kinds(), normal_paths())
@example(JobOutputKind.JOB_OUTPUT, "how/deep/does/this/go.txt")
def test_job_blob_name_round_trips(kind: JobOutputKind, path: str) -> None:
    location = parse_blob_name(job_blob_name(kind, path))
    assert (location.task_id, location.kind, location.path) == (None, kind, path)


@given(task_ids(), task_kinds(), relative_paths())
def test_blob_name_of_any_relative_path_parses_back(
    task_id: str, kind: TaskOutputKind, path: str
) -> None:
    location = parse_blob_name(task_blob_name(task_id, kind, path))
    assert location.path == destination_path(path)


@given(task_ids(), task_kinds(), task_kinds(), normal_paths())
@example("t", TaskOutputKind.TASK_OUTPUT, TaskOutputKind.custom("TaskOutputFoo"), "x")
@example("t", TaskOutputKind.custom("TaskOutputFoo"), TaskOutputKind.TASK_OUTPUT, "x")
def test_listing_prefix_never_matches_another_kind(
    task_id: str, kind: TaskOutputKind, other: TaskOutputKind, path: str
) -> None:
    blob = task_blob_name(task_id, other, path)
    listing_prefix = task_prefix(task_id, kind) + "/"
    assert blob.startswith(listing_prefix) == (kind == other)


@given(job_kinds(), job_kinds(), normal_paths())
@example(
    JobOutputKind.JOB_OUTPUT, JobOutputKind.custom("JobOutputX", allow_near_standard=True), "x"
)
def test_job_listing_prefix_never_matches_another_kind(
    kind: JobOutputKind, other: JobOutputKind, path: str
) -> None:
    blob = job_blob_name(other, path)
    assert blob.startswith(job_prefix(kind) + "/") == (kind == other)


@given(task_ids(), task_kinds(), job_kinds(), normal_paths())
def test_job_and_task_blobs_are_disjoint(
    task_id: str, task_kind: TaskOutputKind, job_kind: JobOutputKind, path: str
) -> None:
    assert job_blob_name(job_kind, path).startswith("$")
    assert not task_blob_name(task_id, task_kind, path).startswith("$")


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40))
def test_task_kind_is_never_a_job_kind(text: str) -> None:
    try:
        task_kind, job_kind = TaskOutputKind(text), JobOutputKind(text)
    except conventions.InvalidKindError:
        return
    assert task_kind != cast(object, job_kind)
    with pytest.raises(conventions.InvalidKindError):
        job_prefix(task_kind)  # type: ignore[arg-type]
    with pytest.raises(conventions.InvalidKindError):
        task_prefix("t", job_kind)  # type: ignore[arg-type]


KIND_CLASSES = [TaskOutputKind, JobOutputKind]


@pytest.mark.parametrize("kind_class", KIND_CLASSES)
@given(text=kind_texts())
def test_equal_kinds_hash_equal(
    kind_class: type[TaskOutputKind | JobOutputKind], text: str
) -> None:
    first, second = kind_class.custom(text), kind_class.custom(text)
    assert first is not second
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second}) == 1
    assert {first: 1}[second] == 1


@pytest.mark.parametrize("kind_class", KIND_CLASSES)
@given(text=kind_texts())
@example(text="TaskOutput")
def test_kinds_differing_in_case_are_two_kinds(
    kind_class: type[TaskOutputKind | JobOutputKind], text: str
) -> None:
    # Equality of the value type; custom() refuses case variants of standard kinds (D-40).
    swapped = text.swapcase()
    kinds = {kind_class(text), kind_class(swapped)}
    assert len(kinds) == (1 if text == swapped else 2)


@pytest.mark.parametrize("kind_class", KIND_CLASSES)
@given(text=kind_texts())
@example(text="JobOutput")
def test_a_kind_never_equals_none_or_its_text(
    kind_class: type[TaskOutputKind | JobOutputKind], text: str
) -> None:
    kind = kind_class.custom(text)
    assert kind != cast(object, None)
    assert not kind == cast(object, None)  # noqa: SIM201 -- __eq__, not only __ne__
    assert kind != cast(object, text)
    assert not kind == cast(object, text)  # noqa: SIM201
    assert cast(object, text) != kind
    assert cast(object, kind) not in {None, text}


# --- DP: destination_path ---


@given(relative_paths())
@example("../../x.txt")
@example("..\\..\\x.txt")
@example("./../x")
def test_destination_path_normal_form(path: str) -> None:
    result = destination_path(path)
    assert "\\" not in result
    assert not result.startswith("/")
    assert ".." not in result.split("/")
    assert "." not in result.split("/")
    assert "" not in result.split("/")
    assert destination_path(result) == result


@given(st.text(max_size=30))
@example("a/../../x")
@example("x/../C:y")
@example("\\\\srv\\s")
def test_destination_path_terminates_and_is_idempotent_on_any_text(path: str) -> None:
    try:
        result = destination_path(path)
    except conventions.InvalidPathError:
        return
    assert destination_path(result) == result
    assert "\\" not in result
    assert not result.startswith("/")
    assert ".." not in result.split("/")


# --- every public pure function raises only our errors on any str input ---

_ANY_TEXT = st.text(max_size=80)

_PURE_CALLS: list[tuple[str, Callable[[str], Any]]] = [
    ("container_name", container_name),
    ("is_valid_container_name", is_valid_container_name),
    ("destination_path", destination_path),
    ("parse_blob_name", parse_blob_name),
    ("job_kind", JobOutputKind.custom),
    ("task_kind", TaskOutputKind.custom),
    ("job_prefix", lambda s: job_prefix(JobOutputKind.custom(s))),
    ("task_prefix", lambda s: task_prefix(s, TaskOutputKind.TASK_LOG)),
    ("job_blob_name", lambda s: job_blob_name(JobOutputKind.JOB_OUTPUT, s)),
    ("task_blob_name", lambda s: task_blob_name(s, TaskOutputKind.TASK_LOG, s)),
]


@pytest.mark.parametrize(("name", "function"), _PURE_CALLS, ids=[n for n, _ in _PURE_CALLS])
@given(text=_ANY_TEXT)
def test_pure_functions_raise_only_conventions_errors(
    name: str, function: Callable[[str], Any], text: str
) -> None:
    try:
        function(text)
    except ConventionsError as error:
        caught = error
    else:
        return
    assert isinstance(caught, ValueError), name
    assert repr(text) in str(caught), name
