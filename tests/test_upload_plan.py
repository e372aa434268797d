"""``conventions.upload_plan``: how a save goes up and how its MD5 is settled (rule IG-1),
as pure decisions without I/O."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conventions.errors import StorageError
from conventions.upload_plan import (
    block_id,
    check_blocks_read,
    plan_upload,
    settle_single_put,
)

_sizes = st.integers(min_value=0, max_value=2**40)
_positive = st.integers(min_value=1, max_value=2**30)


@given(size=_sizes, in_memory=st.booleans(), limit=_positive, block_size=_positive)
def test_only_a_file_larger_than_one_put_goes_in_blocks(
    size: int, in_memory: bool, limit: int, block_size: int
) -> None:
    plan = plan_upload(size, in_memory=in_memory, single_put_limit=limit, block_size=block_size)
    assert plan.in_blocks == (not in_memory and size > limit)
    assert (plan.size, plan.block_size) == (size, block_size)
    # The blocks hold every byte, and no block is empty.
    assert plan.block_count * block_size >= size
    assert (plan.block_count - 1) * block_size < size or plan.block_count == 0


@given(prefix=st.binary(min_size=8, max_size=8).map(bytes.hex), count=st.integers(1, 2000))
def test_block_ids_are_distinct_and_of_one_length(prefix: str, count: int) -> None:
    ids = [block_id(prefix, index) for index in range(0, 1_000_000, max(1, 1_000_000 // count))]
    assert len(set(ids)) == len(ids)
    assert len({len(one) for one in ids}) == 1  # the service requires it within a blob


_md5s = st.binary(min_size=16, max_size=16)


@given(
    size=st.integers(0, 2**40),
    read=st.integers(0, 2**40),
    stored=st.one_of(st.none(), _md5s),
    streamed=_md5s,
)
def test_a_single_put_settles_on_the_streamed_md5(
    size: int, read: int, stored: bytes | None, streamed: bytes
) -> None:
    def settle() -> object:
        return settle_single_put(
            container="c1", blob="t/$TaskOutput/x", size=size, read_bytes=read,
            stored_md5=stored, streamed_md5=streamed,
        )

    if read != size:
        with pytest.raises(StorageError) as raised:
            settle()
        assert (raised.value.container, raised.value.blob) == ("c1", "t/$TaskOutput/x")
        assert f"read {read} of {size} bytes" in str(raised.value)
        return
    settlement = settle_single_put(
        container="c1", blob="b", size=size, read_bytes=read, stored_md5=stored,
        streamed_md5=streamed,
    )
    # The blob always ends with the MD5 of the bytes read; recorded when the service's differs.
    assert settlement.md5 == streamed
    assert settlement.record == (stored != streamed)


def test_the_service_md5_of_what_was_read_needs_no_second_request() -> None:
    md5 = hashlib.md5(b"abc", usedforsecurity=False).digest()
    settlement = settle_single_put(
        container="c", blob="b", size=3, read_bytes=3, stored_md5=md5, streamed_md5=md5
    )
    assert (settlement.md5, settlement.record) == (md5, False)


@given(size=st.integers(0, 2**40), read=st.integers(0, 2**40), complete=st.booleans())
def test_blocks_commit_only_a_complete_source(size: int, read: int, complete: bool) -> None:
    if complete:
        check_blocks_read(container="c", blob="b", size=size, read_bytes=read, complete=True)
        return
    with pytest.raises(StorageError, match=f"did not hold the {size} bytes .*read {read}"):
        check_blocks_read(container="c", blob="b", size=size, read_bytes=read, complete=False)
