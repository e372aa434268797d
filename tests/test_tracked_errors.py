"""What a tracked save keeps of its errors (``conventions._tracked_errors``): the first 100
kept, all counted, recovered from when a later flush caught up. Pure; a stateful test runs
it against a plain list model, as ``TrackedFile`` kept them before."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from conventions._tracked_errors import FINAL_ERRORS, MAX_KEPT_ERRORS, ErrorTally
from conventions.errors import (
    AccessDeniedError,
    AppendConflictError,
    StorageError,
    TrackedFileChangedError,
    TrackingError,
)

_KINDS = st.sampled_from(
    [StorageError, TrackingError, AccessDeniedError, AppendConflictError, TrackedFileChangedError]
)


class Tally(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tally = ErrorTally()
        self.kept: list[Exception] = []
        self.count = 0
        self.unrecovered: list[Exception] = []
        self.final: Exception | None = None
        self.made = 0

    def _error(self, kind: type[Exception]) -> Exception:
        self.made += 1
        return kind(f"error {self.made}")

    def _count(self, error: Exception) -> None:
        self.count += 1
        if len(self.kept) < MAX_KEPT_ERRORS:
            self.kept.append(error)

    @rule(kind=_KINDS, many=st.integers(min_value=1, max_value=60))
    def a_flush_failed(self, kind: type[Exception], many: int) -> None:
        for _ in range(many):
            error = self._error(kind)
            self.tally = self.tally.kept_error(error)
            self._count(error)
            self.unrecovered.append(error)
            if isinstance(error, FINAL_ERRORS) and self.final is None:
                self.final = error

    @rule(kind=_KINDS)
    def something_else_failed(self, kind: type[Exception]) -> None:
        error = self._error(kind)
        self.tally = self.tally.counted(error)
        self._count(error)

    @rule()
    def a_flush_caught_up(self) -> None:
        self.tally = self.tally.caught_up()
        self.unrecovered.clear()

    @invariant()
    def the_value_says_what_the_lists_said(self) -> None:
        assert list(self.tally.kept) == self.kept
        assert len(self.tally.kept) <= MAX_KEPT_ERRORS
        assert self.tally.count == self.count
        assert self.tally.final is self.final
        assert self.tally.stops is (self.final is not None)
        assert self.tally.succeeded is (self.final is None and not self.unrecovered)
        expected_first = self.final or (self.unrecovered[0] if self.unrecovered else None)
        assert self.tally.first is expected_first
        if expected_first is not None:
            others = self.tally.others(expected_first)
            assert expected_first not in others
            assert list(others) == [e for e in self.kept if e is not expected_first]


TestTally = Tally.TestCase


def test_a_final_error_stays_final_after_catching_up() -> None:
    denied = AccessDeniedError("denied")
    tally = ErrorTally().kept_error(StorageError("503")).kept_error(denied).caught_up()
    assert tally.first is denied
    assert tally.stops
    assert not tally.succeeded


def test_the_101st_error_is_counted_not_kept() -> None:
    tally = ErrorTally()
    for number in range(MAX_KEPT_ERRORS + 1):
        tally = tally.counted(StorageError(str(number)))
    assert tally.count == MAX_KEPT_ERRORS + 1
    assert [str(e) for e in tally.kept] == [str(n) for n in range(MAX_KEPT_ERRORS)]
    assert tally.succeeded  # counted errors are not about the log's bytes


def test_the_tally_is_a_decision_module() -> None:
    from tests.test_purity import BANNED, DECISION_MODULES, _imports

    imported = _imports("conventions._tracked_errors")
    assert "conventions.errors" in imported  # the walk saw the module's imports
    assert not [name for name in imported if name.split(".")[0] in BANNED]
    library = [name for name in imported if name.startswith("conventions.")]
    assert all(name in DECISION_MODULES for name in library), library


def test_the_examples_run() -> None:
    import doctest

    import conventions._tracked_errors as module

    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
