"""The filesystem's paths (conventions.fs._paths, rules FS-1 to FS-3): properties, no I/O."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import conventions
from conventions import (
    InvalidIdError,
    InvalidPathError,
    container_name,
    job_blob_name,
    read_blob_name,
    task_blob_name,
)
from conventions.fs import ConventionsFileSystem, ReadOnlyError
from conventions.fs._paths import (
    PROTOCOL,
    FsPath,
    check_pattern,
    depth_below,
    folders_between,
    join_path,
    split_path,
)
from tests.strategies import job_ids, job_kinds, normal_paths, task_ids, task_kinds
from tests.test_purity import BANNED, DECISION_MODULES, _imports
from tests.vectors import cases

#: Never used to connect: the writes are refused before any request.
_OFFLINE = "AccountName=a;AccountKey=YQ==;BlobEndpoint=http://127.0.0.1:9/a"


@pytest.mark.parametrize("case", cases("fs_paths.json"))
def test_fs_path_vectors(case: dict[str, Any]) -> None:
    expected = case["expected"]
    if case.get("write"):
        fs = ConventionsFileSystem(connection_string=_OFFLINE)
        with pytest.raises(ReadOnlyError, match="read-only"):
            fs.pipe(case["path"], b"x")
        return
    if "error" in expected:
        error = getattr(conventions, expected["error"])
        with pytest.raises(error, match=rf"rule {expected['rule']}"):
            split_path(case["path"])
        return
    where = split_path(case["path"])
    assert (where.job_id, where.name) == (expected["job_id"], expected["name"])
    assert container_name(where.job_id) == expected["container"]


@st.composite
def blob_names(draw: st.DrawFn) -> str:
    path = draw(normal_paths())
    if draw(st.booleans()):
        return task_blob_name(draw(task_ids()), draw(task_kinds()), path)
    return job_blob_name(draw(job_kinds()), path)


@given(job_ids(), blob_names(), st.booleans())
def test_a_path_is_the_job_then_the_blob_name(job_id: str, name: str, url: bool) -> None:
    # FS-1: every stored name has one path, and it splits back to the same job and name.
    path = join_path(job_id, name)
    assert path == f"{job_id}/{name}"
    assert split_path(f"{PROTOCOL}://{path}" if url else path) == FsPath(job_id, name)
    assert split_path(path + "/") == FsPath(job_id, name)
    assert split_path(job_id) == FsPath(job_id, "")


@given(job_ids(), task_ids(), task_kinds(), normal_paths())
def test_a_kind_without_its_dollar_is_refused(
    job_id: str, task_id: str, kind: object, path: str
) -> None:
    # FS-2: '<job>/<task>/TaskOutput/x' would list nothing rather than what was meant.
    bare = task_blob_name(task_id, kind, path).replace("/$", "/", 1)  # type: ignore[arg-type]
    with pytest.raises(InvalidPathError, match=r"rule FS-2"):
        split_path(join_path(job_id, bare))
    with pytest.raises(InvalidPathError, match=r"rule FS-2"):
        check_pattern(f"{job_id}/*/{bare.split('/', 1)[1]}")
    check_pattern(f"{job_id}/*/${bare.split('/', 1)[1]}")
    check_pattern(f"{job_id}/{task_id}/*/x")


@pytest.mark.parametrize("path", ["", "/", f"{PROTOCOL}://", f"{PROTOCOL}:///t1"])
def test_a_path_names_a_job(path: str) -> None:
    with pytest.raises(InvalidPathError, match=r"rule FS-1"):
        split_path(path)


@pytest.mark.parametrize("path", ["a b/t1", "j\u00e9/t1", "j*/t1"])
def test_the_job_is_a_batch_job_id(path: str) -> None:
    with pytest.raises(InvalidIdError):
        split_path(path)


@given(blob_names(), st.integers(min_value=0, max_value=3), st.none() | st.integers(1, 6))
def test_folders_and_depths_below_a_folder(name: str, cut: int, maxdepth: int | None) -> None:
    parts = name.split("/")
    prefix = "/".join(parts[: min(cut, len(parts) - 1)])
    folders = folders_between(prefix, name, maxdepth)
    depth = depth_below(prefix, name)
    assert depth == len(parts) - (len(prefix.split("/")) if prefix else 0)
    assert len(folders) == (depth - 1 if maxdepth is None else min(depth - 1, maxdepth))
    for level, folder in enumerate(folders, start=1):
        assert name.startswith(folder + "/")
        assert depth_below(prefix, folder) == level
    read_blob_name(name)  # the names listed are the ones the lenient reader takes


def test_the_path_rules_are_a_pure_decision() -> None:
    imported = _imports("conventions.fs._paths")
    assert not [name for name in imported if name.split(".")[0] in BANNED | {"fsspec"}]
    library = [name for name in imported if name.startswith("conventions.")]
    assert library
    assert all(name in DECISION_MODULES for name in library), library
