"""Rule IG-5 without I/O: which answers a download may use, and when its writes are whole."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conventions.received import Coverage, range_problem


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


@pytest.mark.parametrize(
    ("requested", "status", "headers", "usable"),
    [
        (
            "bytes=0-4194303",
            206,
            {"content-range": "bytes 0-99/100", "content-length": "100"},
            True,
        ),
        ("bytes=4-9", 206, {"Content-Range": "bytes 4-9/100", "Content-Length": "6"}, True),
        ("bytes=4-9", 206, {"Content-Range": "bytes 0-9/100", "Content-Length": "10"}, False),
        ("bytes=4-9", 206, {"Content-Range": "bytes */100", "Content-Length": "0"}, False),
        (None, 200, {"Content-Length": "0"}, True),
        (None, 200, {}, False),
        ("bytes=0-9", 404, {}, True),  # not judged: the SDK raises for it
        ("bytes=0-9", 416, {}, True),
    ],
)
def test_range_vectors(
    requested: str | None, status: int, headers: dict[str, str], usable: bool
) -> None:
    assert (range_problem(requested, status, headers) is None) is usable
