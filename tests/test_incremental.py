"""The pure skip-or-download decision (rules IN-1 to IN-4), the MD5 check and the download
writer's choice (IG-2, IG-3), and reading a changed blob again (IG-4): spec vectors and
properties, no I/O (a local temporary file for the writers)."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conventions import IntegrityError
from conventions._integrity import check_md5, download_writer, read_again_after_change
from conventions.incremental import Action, LocalFile, RemoteFile, compare, stamp_ns

from .vectors import cases, load


def _hex(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value)


def _remote(data: dict[str, Any]) -> RemoteFile:
    when = data["last_modified"]
    return RemoteFile(
        size=data["size"],
        content_md5=_hex(data["md5"]),
        last_modified=None if when is None else datetime.datetime.fromisoformat(when),
    )


COMPARE = [case for case in cases("incremental.json") if "remote" in case.values[0]]
CHECKS = [case for case in cases("incremental.json") if "check_md5" in case.values[0]]
WRITERS = [case for case in cases("incremental.json") if "writer_for" in case.values[0]]
CHANGED = [case for case in cases("incremental.json") if "changed_on_attempt" in case.values[0]]


def test_the_vector_file_has_every_kind() -> None:
    kinds = (COMPARE, CHECKS, WRITERS, CHANGED)
    assert sum(map(len, kinds)) == len(load("incremental.json")["cases"])
    assert all(kinds)


@pytest.mark.parametrize("case", WRITERS)
def test_download_writer_vectors(case: dict[str, Any], tmp_path: Any) -> None:
    given = case["writer_for"]
    with open(tmp_path / "f", "w+b") as file:
        writer = download_writer(
            file, None, stored_md5=_hex(given["stored_md5"]), parallel=given["parallel"]
        )
        try:
            assert type(writer).__name__ == case["expected"]
        finally:
            writer.stop()


@pytest.mark.parametrize("case", CHANGED)
def test_read_again_after_change_vectors(case: dict[str, Any]) -> None:
    assert read_again_after_change(case["changed_on_attempt"]) is case["read_again"]


@pytest.mark.parametrize("case", COMPARE)
def test_compare_vectors(case: dict[str, Any]) -> None:
    local = None if case["local"] is None else LocalFile(**case["local"])
    verdict = compare(
        _remote(case["remote"]),
        local,
        local_md5=_hex(case.get("local_md5")),
        overwrite=case.get("overwrite", False),
    )
    assert verdict.action.value == case["expected"], verdict.reason


@pytest.mark.parametrize("case", CHECKS)
def test_check_md5_vectors(case: dict[str, Any]) -> None:
    stored, actual = case["check_md5"]
    if case["raises"]:
        with pytest.raises(IntegrityError) as raised:
            check_md5(_hex(stored), bytes.fromhex(actual), container="c", blob="b")
        assert (raised.value.expected, raised.value.actual) == (stored, actual)
        assert "'b'" in str(raised.value)
    else:
        check_md5(_hex(stored), bytes.fromhex(actual), container="c", blob="b")


times = st.datetimes(
    min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2100, 1, 1)
).map(lambda moment: moment.replace(microsecond=0, tzinfo=datetime.timezone.utc))
md5s = st.binary(min_size=16, max_size=16)


@given(
    size=st.integers(0, 10**12),
    local_size=st.integers(0, 10**12),
    md5=st.none() | md5s,
    local_md5=st.none() | md5s,
    when=st.none() | times,
    mtime_ns=st.integers(0, 2**62),
)
def test_skip_only_when_size_and_md5_or_stamp_agree(
    size: int,
    local_size: int,
    md5: bytes | None,
    local_md5: bytes | None,
    when: datetime.datetime | None,
    mtime_ns: int,
) -> None:
    remote = RemoteFile(size=size, content_md5=md5, last_modified=when)
    local = LocalFile(size=local_size, mtime_ns=mtime_ns)
    verdict = compare(remote, local, local_md5=local_md5)
    if verdict.action is Action.SKIP:
        assert local_size == size
        if md5 is not None:
            assert local_md5 == md5
        else:
            assert when is not None
            assert mtime_ns == stamp_ns(when)
    if verdict.action is Action.HASH_LOCAL:
        assert local_md5 is None
        assert md5 is not None
    assert compare(remote, local, local_md5=local_md5, overwrite=True).action is Action.DOWNLOAD
    assert compare(remote, None, local_md5=local_md5).action is Action.DOWNLOAD


@given(data=st.binary(max_size=200), when=times)
def test_a_fresh_download_is_skipped_next_time(data: bytes, when: datetime.datetime) -> None:
    # What a download leaves (the bytes, stamped with the blob's time) is what it skips.
    for md5 in (hashlib.md5(data).digest(), None):
        remote = RemoteFile(size=len(data), content_md5=md5, last_modified=when)
        local = LocalFile(size=len(data), mtime_ns=stamp_ns(when))
        verdict = compare(remote, local, local_md5=hashlib.md5(data).digest())
        assert verdict.action is Action.SKIP
