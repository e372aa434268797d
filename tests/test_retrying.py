"""Decisions D-82 and D-83 without I/O: when a follow reads again, when the tracker tries
the completion mark again."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conventions.retrying import (
    FOLLOW_READ_RETRIES,
    completion_mark_pause,
    follow_read_bound,
    follow_read_pause,
)

from .vectors import cases


@pytest.mark.parametrize("case", cases("retrying.json"))
def test_retrying_vectors(case: dict[str, Any]) -> None:
    if case["kind"] == "follow_read_pause":
        remaining = math.inf if case["remaining"] is None else case["remaining"]
        assert follow_read_pause(case["failures"], remaining=remaining) == case["expected"]
    else:
        assert completion_mark_pause(case["attempt"]) == case["expected"]


@given(st.integers(1, 20), st.floats(0, 1e6))
def test_a_follow_never_waits_past_its_timeout(failures: int, remaining: float) -> None:
    pause = follow_read_pause(failures, remaining=remaining)
    if failures > FOLLOW_READ_RETRIES or remaining <= 0:
        assert pause is None
    else:
        assert pause is not None
        assert 0 < pause <= remaining


@given(
    st.floats(0.1, 3600),
    st.integers(0, 1 << 30),
    st.floats(1.0, 1e9),
    st.one_of(st.just(math.inf), st.floats(-10, 1e6)),
)
def test_a_read_bound_is_at_most_the_time_left_plus_one_request(
    request_timeout: float, length: int, rate: float, remaining: float
) -> None:
    bound = follow_read_bound(request_timeout, length, rate, remaining=remaining)
    assert bound <= request_timeout + length / rate
    if remaining != math.inf:
        assert bound <= max(remaining, 0.0) + request_timeout


@given(st.integers(1, 100))
def test_the_mark_is_tried_three_times(attempt: int) -> None:
    pause = completion_mark_pause(attempt)
    assert (pause is None) is (attempt >= 3)
