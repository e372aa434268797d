"""The follow decisions (conventions.follow): spec vectors and properties, no I/O."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conventions.follow import (
    LIVENESS_SLACK,
    MAX_LIVENESS_PERIOD,
    MIN_LIVENESS_PERIOD,
    TAIL_CHECK,
    BlobRead,
    FollowEvent,
    FollowRestart,
    FollowState,
    completion_metadata,
    liveness,
    liveness_metadata,
    liveness_period,
    marked_length,
    next_range,
    observe,
)

from .vectors import cases, load


def _event(event: FollowEvent) -> Any:
    if isinstance(event, FollowRestart):
        return {"restart": event.attempt}
    return event.decode("ascii")


@pytest.mark.parametrize("case", cases("follow.json"))
def test_follow_vectors(case: dict[str, Any]) -> None:
    chunk = case.get("options", {}).get("chunk_size", 10)
    state = FollowState()
    for step in case["steps"]:
        assert list(next_range(state, chunk)) == step["range"]
        raw = step["read"]
        read = None
        if raw is not None:
            read = BlobRead(**{**raw, "data": raw["data"].encode("ascii")})
        decided = observe(state, read)
        assert [_event(event) for event in decided.events] == step["events"]
        assert (decided.done, decided.more) == (step["done"], step["more"])
        state = decided.state


def test_completion_metadata_round_trips() -> None:
    assert marked_length(completion_metadata(0)) == 0
    assert marked_length({"CONVENTIONS_COMPLETE": " 42 "}) == 42
    assert marked_length({"conventions_complete": "yes"}) is None
    assert marked_length(None) is None
    with pytest.raises(ValueError, match="length must be"):
        completion_metadata(-1)


@given(
    content=st.binary(max_size=300),
    cuts=st.lists(st.integers(0, 300), max_size=8),
    chunk=st.integers(1, 50),
)
def test_reading_a_growing_blob_hands_out_exactly_its_bytes(
    content: bytes, cuts: list[int], chunk: int
) -> None:
    """Whatever the growth steps and chunk size, the events concatenate to the blob, with
    no restart, and the follower stops exactly when the marked blob is read to its end."""
    sizes = sorted({min(cut, len(content)) for cut in cuts} | {len(content)})
    state, out = FollowState(), bytearray()
    for index, size in enumerate(sizes):
        last = index == len(sizes) - 1
        while True:
            start, length = next_range(state, chunk)
            assert 0 <= start <= state.offset
            assert state.offset - start <= TAIL_CHECK
            data = content[:size][start : start + length]
            read = BlobRead(
                start=min(start, size),
                data=data,
                size=size,
                identity="t",
                complete_length=size if last else None,
            )
            step = observe(state, read)
            for event in step.events:
                assert isinstance(event, bytes)
                out += event
            state = step.state
            assert step.done == (last and state.offset == size)
            if not step.more:
                break
    assert bytes(out) == content
    assert state.offset == len(content)


@given(
    old=st.binary(min_size=1, max_size=100),
    new=st.binary(max_size=100),
)
def test_a_different_blob_is_never_continued_silently(old: bytes, new: bytes) -> None:
    """After following *old*, a read of another blob (same identity) either continues a
    blob that really extends what was handed out, or restarts."""
    state = observe(FollowState(), BlobRead(0, old, len(old), "t")).state
    start, length = next_range(state, 1000)
    read = BlobRead(min(start, len(new)), new[start : start + length], len(new), "t")
    step = observe(state, read)
    restarted = any(isinstance(event, FollowRestart) for event in step.events)
    tail = old[-TAIL_CHECK:]
    continues = len(new) >= len(old) and new[len(old) - len(tail) : len(old)] == tail
    assert restarted != continues


# -- the writer's liveness (decision D-81) -------------------------------------------------------


@pytest.mark.parametrize("case", load("follow.json")["liveness"]["cases"], ids=lambda c: c["id"])
def test_liveness_vectors(case: dict[str, Any]) -> None:
    read = BlobRead.from_metadata(
        case["metadata"],
        start=0,
        data=b"",
        size=0,
        appendable=case["appendable"],
        silent_for=case["silent_for"],
    )
    verdict = liveness(read)
    assert verdict.gone == case["gone"]
    assert verdict.due_in == case["due_in"]
    assert bool(verdict.reason) == verdict.gone


@given(period=st.floats(0.001, 1e6, allow_nan=False))
def test_a_published_period_reads_back_never_shorter(period: float) -> None:
    published = liveness_period(period)
    read = BlobRead.from_metadata(liveness_metadata(published), start=0, data=b"", size=0)
    assert read.live_period is not None
    assert published <= read.live_period <= published + 0.01
    assert MIN_LIVENESS_PERIOD <= read.live_period <= MAX_LIVENESS_PERIOD + 0.01


@given(
    period=st.floats(MIN_LIVENESS_PERIOD, MAX_LIVENESS_PERIOD),
    late=st.floats(0, LIVENESS_SLACK - 1),
    extra=st.floats(0.001, 1e6),
)
def test_a_writer_that_keeps_its_promise_is_never_gone_and_a_silent_one_is(
    period: float, late: float, extra: float
) -> None:
    """A live writer changes the blob at least every period; one that is late by less
    than the slack (a slow request) is alive, and the verdict falls due exactly at
    2 x period + slack of silence."""
    promise = liveness_metadata(period)
    alive = liveness(BlobRead.from_metadata(promise, start=0, data=b"", size=0,
                                            silent_for=period + late))  # fmt: skip
    assert not alive.gone
    assert alive.due_in is not None
    assert alive.due_in >= period - 0.01
    silent = 2 * (period + 0.01) + LIVENESS_SLACK + extra
    dead = liveness(BlobRead.from_metadata(promise, start=0, data=b"", size=0, silent_for=silent))
    assert dead.gone
    unpromised = BlobRead.from_metadata({}, start=0, data=b"", size=0, silent_for=silent)
    assert not liveness(unpromised).gone  # .NET and older writers: followed as before
