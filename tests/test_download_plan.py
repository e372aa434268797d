"""The pure decisions of a download (``conventions._download_plan``) and of its hashing
(``conventions._integrity_rules``): spec vectors and properties, no I/O."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conventions import errors
from conventions._download_plan import (
    CONNECTION_BUDGET,
    FIRST_GET_SIZE,
    PARALLEL_HASH_SIZE,
    WrongType,
    check_count,
    chunk_threads,
    chunks_out_of_order,
    chunks_per_file,
    file_chunk_threads,
    first_verdict,
    incomplete,
    verdict_after_hash,
)
from conventions._integrity_rules import (
    BACKGROUND_HASH_SIZE,
    Hashing,
    choose_hashing,
    hash_upload_in_background,
)
from conventions.incremental import Action, LocalFile, RemoteFile, compare
from conventions.received import Coverage

from .vectors import cases, load

_KINDS = ("count", "chunks_per_file", "chunk_threads", "steps")


def _of(kind: str) -> list[Any]:
    return [case for case in cases("download_plan.json") if case.values[0]["kind"] == kind]


def test_the_vector_file_has_only_known_kinds() -> None:
    found = {case["kind"] for case in load("download_plan.json")["cases"]}
    assert found == set(_KINDS)


@pytest.mark.parametrize("case", _of("count"))
def test_count_vectors(case: dict[str, Any]) -> None:
    wrong_type = WrongType(case["wrong_type"])
    if "returns" in case:
        assert check_count(case["value"], "max_concurrency", wrong_type) == case["returns"]
        return
    error = TypeError if case["raises"] == "TypeError" else getattr(errors, case["raises"])
    with pytest.raises(error) as raised:
        check_count(case["value"], "max_concurrency", wrong_type)
    assert type(raised.value) is error
    assert str(raised.value) == case["message"]


@pytest.mark.parametrize("case", _of("chunks_per_file"))
def test_chunks_per_file_vectors(case: dict[str, Any]) -> None:
    assert chunks_per_file(case["max_concurrency"], case["chunk_concurrency"]) == case["expected"]


@pytest.mark.parametrize("case", _of("chunk_threads"))
def test_chunk_threads_vectors(case: dict[str, Any]) -> None:
    assert chunk_threads(case["size"], case["chunks"]) == case["expected"]


def _remote(data: dict[str, Any]) -> RemoteFile:
    when = data["last_modified"]
    return RemoteFile(
        size=data["size"],
        content_md5=None if data["md5"] is None else bytes.fromhex(data["md5"]),
        last_modified=None if when is None else datetime.datetime.fromisoformat(when),
    )


@pytest.mark.parametrize("case", _of("steps"))
def test_verdict_step_vectors(case: dict[str, Any]) -> None:
    remote = _remote(case["remote"])
    local = None if case["local"] is None else LocalFile(**case["local"])
    first = first_verdict(remote, local, overwrite=case["overwrite"])
    assert first.action is Action(case["first"])
    if first.action is Action.HASH_LOCAL:
        assert local is not None
        md5 = None if case["local_md5"] is None else bytes.fromhex(case["local_md5"])
        assert verdict_after_hash(remote, local, md5).action is Action(case["final"])


# -- properties --------------------------------------------------------------------------------

_NOT_INTS = st.one_of(
    st.booleans(), st.floats(allow_nan=False), st.text(max_size=3), st.none()
)


@given(value=st.integers(min_value=1), wrong_type=st.sampled_from(WrongType))
def test_a_count_of_at_least_one_is_returned_as_it_is(value: int, wrong_type: WrongType) -> None:
    assert check_count(value, "x", wrong_type) is value


@given(value=st.integers(max_value=0), wrong_type=st.sampled_from(WrongType))
def test_a_count_below_one_is_a_setting_error_naming_it(value: int, wrong_type: WrongType) -> None:
    with pytest.raises(errors.InvalidSettingError) as raised:
        check_count(value, "chunk_concurrency", wrong_type)
    assert str(raised.value).startswith(f"chunk_concurrency {value} must be")
    assert "at least 1" in str(raised.value)


@given(value=_NOT_INTS)
def test_a_count_that_is_not_an_int_is_refused_by_the_checked_styles(value: object) -> None:
    with pytest.raises(errors.InvalidSettingError, match="must be a whole number, at least 1"):
        check_count(value, "max_concurrency")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=f"must be an int, not {type(value).__name__}$") as raised:
        check_count(value, "max_concurrency", WrongType.TYPE)  # type: ignore[arg-type]
    assert not isinstance(raised.value, errors.ConventionsError)


@given(files=st.integers(min_value=1, max_value=10_000))
def test_files_times_default_chunks_stay_within_the_budget(files: int) -> None:
    chunks = chunks_per_file(files, None)
    assert chunks >= 1
    assert files * chunks <= max(CONNECTION_BUDGET, files)


@given(files=st.integers(min_value=1), chunks=st.integers(min_value=1))
def test_an_explicit_chunk_concurrency_is_taken_as_given(files: int, chunks: int) -> None:
    assert chunks_per_file(files, chunks) == chunks


@given(
    size=st.one_of(st.none(), st.integers(min_value=0, max_value=1 << 40)),
    chunks=st.integers(min_value=1, max_value=64),
)
def test_only_a_blob_past_the_first_request_gets_chunk_threads(
    size: int | None, chunks: int
) -> None:
    threads = chunk_threads(size, chunks)
    whole_in_one = size is not None and size <= FIRST_GET_SIZE
    assert threads == (1 if whole_in_one else chunks)


@given(threads=st.integers(min_value=-2, max_value=64), seekable=st.booleans())
def test_a_file_without_offsets_gets_one_chunk_thread(threads: int, seekable: bool) -> None:
    used = file_chunk_threads(threads, seekable)
    assert used <= max(threads, 1)
    assert used == (threads if seekable or threads <= 1 else 1)


@given(
    md5=st.one_of(st.none(), st.binary(min_size=16, max_size=16)),
    threads=st.integers(min_value=1, max_value=64),
    size=st.integers(min_value=0, max_value=1 << 30),
)
def test_hashing_is_none_without_md5_and_on_a_thread_only_for_parallel_chunks(
    md5: bytes | None, threads: int, size: int
) -> None:
    parallel = chunks_out_of_order(threads, size)
    assert parallel == (threads > 1 and size >= PARALLEL_HASH_SIZE)
    hashing = choose_hashing(md5, parallel=parallel)
    if md5 is None:
        assert hashing is Hashing.NONE
    else:
        assert hashing is (Hashing.BACKGROUND if parallel else Hashing.INLINE)


@given(size=st.integers(min_value=0, max_value=1 << 40))
def test_an_upload_is_hashed_on_a_thread_from_one_block_up(size: int) -> None:
    assert hash_upload_in_background(size) == (size >= BACKGROUND_HASH_SIZE)


_MD5 = st.binary(min_size=16, max_size=16)
_REMOTES = st.builds(
    RemoteFile,
    size=st.one_of(st.none(), st.integers(min_value=0, max_value=8)),
    content_md5=st.one_of(st.none(), _MD5),
    last_modified=st.one_of(
        st.none(),
        st.datetimes(
            min_value=datetime.datetime(2000, 1, 1), timezones=st.just(datetime.timezone.utc)
        ),
    ),
)
_LOCALS = st.builds(
    LocalFile,
    size=st.integers(min_value=0, max_value=8),
    mtime_ns=st.integers(min_value=0, max_value=4_000_000_000 * 10**9),
)


@given(
    remote=_REMOTES,
    local=st.one_of(st.none(), _LOCALS),
    overwrite=st.booleans(),
    local_md5=st.one_of(st.none(), _MD5),
)
def test_the_verdict_steps_end_in_skip_or_download_as_compare_decides(
    remote: RemoteFile,
    local: LocalFile | None,
    overwrite: bool,
    local_md5: bytes | None,
) -> None:
    first = first_verdict(remote, local, overwrite=overwrite)
    if overwrite:
        assert first.action is Action.DOWNLOAD
        return
    assert first == compare(remote, local)
    if first.action is not Action.HASH_LOCAL:
        return
    assert local is not None
    final = verdict_after_hash(remote, local, local_md5)
    assert final.action is not Action.HASH_LOCAL
    if local_md5 is None:  # could not be read: never kept
        assert final.action is Action.DOWNLOAD
    else:
        assert final == compare(remote, local, local_md5=local_md5)
        assert (final.action is Action.SKIP) == (local_md5 == remote.content_md5)


@given(
    writes=st.lists(
        st.tuples(st.integers(min_value=0, max_value=64), st.integers(min_value=1, max_value=16)),
        max_size=8,
    ),
    size=st.integers(min_value=0, max_value=80),
)
def test_incomplete_is_none_exactly_when_the_writes_are_the_whole_blob(
    writes: list[tuple[int, int]], size: int
) -> None:
    coverage = Coverage()
    for start, length in writes:
        try:
            coverage.add(start, length)
        except ValueError:
            continue  # a repeated write is refused: the rest still counts
    what = incomplete(coverage, size)
    assert (what is None) == coverage.is_whole(size)
    if what is not None:
        assert what.endswith(f"({coverage.written} of {size} bytes arrived)")
