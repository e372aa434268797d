"""The read grammar (RB-1, RP-1, KD-3) and kind parsing (KD-4) against their vectors,
and properties: strict writers, lenient readers (issue 11)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import conventions
from conventions import (
    BlobLocation,
    JobOutputKind,
    TaskOutputKind,
    job_blob_name,
    local_relative_path,
    parse_blob_name,
    read_blob_name,
    task_blob_name,
)

from .strategies import job_kinds, relative_paths, task_ids, task_kinds
from .vectors import cases


@pytest.mark.parametrize("case", cases("read_names.json"))
def test_read_blob_name(case: dict[str, Any]) -> None:
    if "raises" in case:
        with pytest.raises(conventions.InvalidBlobNameError, match="rule RB-1"):
            read_blob_name(case["blob_name"])
        return
    expected = case["expected"]
    location = read_blob_name(case["blob_name"])
    assert location.task_id == expected["task_id"]
    assert location.kind.text == expected["kind"]
    assert type(location.kind) is (JobOutputKind if expected["task_id"] is None else TaskOutputKind)
    assert location.path == expected["path"]
    assert location.local_path == local_relative_path(location.path) == expected["local_path"]
    assert location.blob_name == case["blob_name"]  # exactly the name read


@pytest.mark.parametrize("case", cases("kind_parses.json"))
def test_kind_parse_and_custom(case: dict[str, Any]) -> None:
    kind_type = TaskOutputKind if case["type"] == "task" else JobOutputKind
    function = {
        "parse": kind_type.parse,
        "custom": kind_type.custom,
        "constructor": kind_type,
    }[case["function"]]
    if "raises" in case:
        with pytest.raises(conventions.InvalidKindError, match=re.escape(case["match"])):
            function(case["text"])
        return
    kind = function(case["text"])
    assert type(kind) is kind_type
    assert kind.text == case["expected"]


@given(kind=task_kinds())
def test_parse_reads_every_standard_kind_in_any_case(kind: TaskOutputKind) -> None:
    if kind in TaskOutputKind.standard():
        assert TaskOutputKind.parse(kind.text.swapcase()) is kind
    else:
        assert TaskOutputKind.parse(f"custom:{kind.text}") == kind


@given(task_id=task_ids(), kind=task_kinds(), path=relative_paths())
def test_reading_what_we_write_gives_the_strict_parse(
    task_id: str, kind: TaskOutputKind, path: str
) -> None:
    name = task_blob_name(task_id, kind, path)
    assert read_blob_name(name) == parse_blob_name(name)
    assert read_blob_name(name).local_path == read_blob_name(name).path


@given(kind=job_kinds(), path=relative_paths())
def test_reading_job_names_we_write(kind: JobOutputKind, path: str) -> None:
    name = job_blob_name(kind, path)
    assert read_blob_name(name) == parse_blob_name(name)


# Every name a .NET writer can store: any kind text without '/', and a path that the
# service keeps (no '/'-separated '..'), in any of the forms .NET leaves as given.
_NET_SEGMENT = st.one_of(
    st.sampled_from([".", "", "..", "..\\x", "a\\b", "C:x", "a:b", "\\r", ".\\"]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/"), min_size=1),
)


@given(
    kind_text=st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/"), min_size=1
    ),
    segments=st.lists(_NET_SEGMENT, min_size=1, max_size=6),
)
@example(kind_text="Task.Logs", segments=["..\\..", "x"])
def test_a_read_local_path_never_escapes(kind_text: str, segments: list[str]) -> None:
    name = f"t1/${kind_text}/" + "/".join(segments)
    try:
        location = read_blob_name(name)
    except conventions.InvalidBlobNameError:
        return
    local = location.local_path
    parts = local.split("/")
    assert local
    assert not {"..", ".", ""} & set(parts)
    assert "\\" not in local
    assert location.blob_name == name


def test_writers_stay_strict_for_kinds_only_readers_accept() -> None:
    net_kind = TaskOutputKind.parse("custom:Task.Logs")
    with pytest.raises(conventions.InvalidKindError, match="rule KD-1"):
        task_blob_name("t1", net_kind, "x.txt")
    with pytest.raises(conventions.InvalidKindError, match="rule KD-1"):
        job_blob_name(JobOutputKind("my kind"), "x.txt")


def test_blob_location_validates_its_path_and_names_exactly_its_blob() -> None:
    # On main, BlobLocation("0", TASK_OUTPUT, "./0") was accepted and its blob_name was
    # "0/$TaskOutput/0": a location that named another blob than its path said.
    location = BlobLocation("0", TaskOutputKind.TASK_OUTPUT, "a\\b")
    assert location.blob_name == "0/$TaskOutput/a\\b"
    assert read_blob_name(location.blob_name) == location
    for path in ["./0", "../0", "a/./b", "a/../b", "", "a/", "a\\..\\..\\x", "a\x00b"]:
        with pytest.raises(conventions.InvalidPathError):
            BlobLocation("0", TaskOutputKind.TASK_OUTPUT, path)
    with pytest.raises(conventions.InvalidKindError):
        BlobLocation(None, TaskOutputKind.TASK_OUTPUT, "x")  # a job location needs a job kind
    with pytest.raises(conventions.InvalidIdError):
        BlobLocation("a b", TaskOutputKind.TASK_OUTPUT, "x")
