"""The thread-pool runner behind save_many and downloads: bounded, ordered, progress as it goes.

Pure: the work items are plain callables, no storage involved.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conventions.transfer import run_parallel as _run_parallel


class _Tracked:
    """A lazy source of work items that records how many were taken and finished."""

    def __init__(self, outcomes: list[bool], pause: float = 0.0) -> None:
        self.outcomes = outcomes  # True: succeed, False: raise
        self.pause = pause
        self.taken = 0
        self.finished = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def _item(self, index: int) -> Callable[[], int]:
        def run() -> int:
            if self.pause:
                time.sleep(self.pause)
            with self._lock:
                self.finished += 1
            if not self.outcomes[index]:
                raise RuntimeError(f"item {index} failed")
            return index

        return run

    def __iter__(self) -> Iterator[Callable[[], int]]:
        for index in range(len(self.outcomes)):
            with self._lock:
                self.taken += 1
                self.most_in_flight = max(self.most_in_flight, self.taken - self.finished)
            yield self._item(index)


@given(
    outcomes=st.lists(st.booleans(), max_size=60).map(lambda xs: [not x for x in xs]),
    concurrency=st.integers(min_value=1, max_value=6),
)
def test_results_in_order_bounded_in_flight_and_first_error_raised(
    outcomes: list[bool], concurrency: int
) -> None:
    work = _Tracked(outcomes)
    done: list[int] = []
    if all(outcomes):
        assert _run_parallel(work, concurrency, done.append) == list(range(len(outcomes)))
        assert sorted(done) == list(range(len(outcomes)))
    else:
        with pytest.raises(RuntimeError, match="failed"):
            _run_parallel(work, concurrency, done.append)
        first_failure = outcomes.index(False)
        # Nothing new is taken once a failure is seen: at most one window past it.
        assert work.taken <= first_failure + 1 + 2 * concurrency
        assert all(outcomes[index] for index in done)
    assert work.most_in_flight <= 2 * concurrency


def test_memory_is_flat_in_the_number_of_items() -> None:
    work = _Tracked([True] * 2000)
    assert _run_parallel(work, 4, keep_results=False) == []
    assert work.finished == 2000
    assert work.most_in_flight <= 8


def test_progress_moves_while_the_work_runs_on_the_calling_thread() -> None:
    work = _Tracked([True] * 24, pause=0.05)
    caller = threading.get_ident()
    seen: list[tuple[float, int]] = []
    started = time.monotonic()
    _run_parallel(
        work, 4, lambda _result: seen.append((time.monotonic() - started, threading.get_ident()))
    )
    total = time.monotonic() - started
    assert len(seen) == 24
    assert {ident for _, ident in seen} == {caller}
    # 6 rounds of 50 ms: the first file is reported after about one round, not at the end.
    assert seen[0][0] < total / 2
    assert seen[len(seen) // 2][0] < total * 0.9


def test_a_bad_concurrency_raises() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        _run_parallel([], 0)


def test_ctrl_c_still_reports_the_work_that_was_running() -> None:
    # Thrown in at a yield, as the CLI does after Ctrl-C: nothing new starts, and the
    # items already running are still yielded before the interrupt goes on.
    from conventions.transfer import iter_parallel as _iter_parallel

    started: list[int] = []
    lock = threading.Lock()

    def item(index: int) -> Callable[[], int]:
        def run() -> int:
            with lock:
                started.append(index)
            time.sleep(0.05 * (index + 1))
            return index

        return run

    results = _iter_parallel((item(index) for index in range(20)), 2)
    first = next(results)
    after: list[int] = []
    def drain() -> None:
        after.append(results.throw(KeyboardInterrupt())[1])
        after.extend(index for index, _ in results)

    with pytest.raises(KeyboardInterrupt):
        drain()
    # Everything that started either came out before or after the interrupt.
    assert sorted([first[1], *after]) == sorted(started)
    assert len(started) < 20
