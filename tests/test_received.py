"""Rule IG-5 without I/O: which answers a download may use, and when its writes are whole."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conventions.received import Coverage, range_problem

from .vectors import cases


@st.composite
def chunkings(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]]]:
    """A size and its cover by chunks, in some order."""
    size = draw(st.integers(0, 10_000))
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, size - 1)), max_size=12))))
    bounds = [0, *[cut for cut in cuts if 0 < cut < size], size]
    chunks = [(a, b - a) for a, b in itertools.pairwise(bounds) if b > a]
    return size, draw(st.permutations(chunks))


@given(chunkings())
def test_chunks_in_any_order_make_the_whole(case: tuple[int, list[tuple[int, int]]]) -> None:
    size, chunks = case
    coverage = Coverage()
    for start, length in chunks:
        coverage.add(start, length)
    assert coverage.is_whole(size)
    assert coverage.contiguous == coverage.written == size


@given(chunkings(), st.data())
def test_a_missing_chunk_is_never_whole(
    case: tuple[int, list[tuple[int, int]]], data: st.DataObject
) -> None:
    size, chunks = case
    if not chunks:
        return
    missing = data.draw(st.integers(0, len(chunks) - 1))
    coverage = Coverage()
    for index, (start, length) in enumerate(chunks):
        if index != missing:
            coverage.add(start, length)
    assert not coverage.is_whole(size)


@given(chunkings(), st.data())
def test_a_byte_written_twice_is_refused(
    case: tuple[int, list[tuple[int, int]]], data: st.DataObject
) -> None:
    _size, chunks = case
    if not chunks:
        return
    coverage = Coverage()
    for start, length in chunks:
        coverage.add(start, length)
    start, length = data.draw(st.sampled_from(chunks))
    with pytest.raises(ValueError, match="written twice"):
        coverage.add(start, length)


@given(
    start=st.integers(0, 1 << 40),
    length=st.integers(1, 1 << 30),
    total=st.integers(1, 1 << 41),
)
def test_a_206_that_holds_the_range_asked_is_used(start: int, length: int, total: int) -> None:
    if start >= total:
        return
    last = min(start + length - 1, total - 1)
    headers = {
        "Content-Range": f"bytes {start}-{last}/{total}",
        "Content-Length": str(last - start + 1),
    }
    assert range_problem(f"bytes={start}-{start + length - 1}", 206, headers) is None
    # Any header missing (a head cut before it), or any other length, is refused.
    for name in headers:
        assert (
            range_problem(
                f"bytes={start}-{start + length - 1}",
                206,
                {k: v for k, v in headers.items() if k != name},
            )
            is not None
        )
    wrong = {**headers, "Content-Length": str(last - start)}
    assert range_problem(f"bytes={start}-{start + length - 1}", 206, wrong) is not None


@pytest.mark.parametrize("case", cases("received.json"))
def test_received_vectors(case: dict[str, Any]) -> None:
    if case["kind"] == "range":
        problem = range_problem(case["requested"], case["status"], case["headers"])
        assert (problem is None) is case["usable"], problem
        return
    coverage = Coverage()
    *before, last = case["writes"] or [(0, 0)]
    for start, length in before:
        coverage.add(start, length)
    if case.get("raises"):
        with pytest.raises(ValueError, match="written twice"):
            coverage.add(*last)
        return
    coverage.add(*last)
    assert coverage.is_whole(case["size"]) is case["whole"]
