"""A tracked save's life cycle (``conventions._tracked_state``): one phase, moved by a pure
function. A stateful test runs it against the flags ``TrackedFile`` kept before (started,
closed, closing in the background, finished, succeeded, reported), as its reference."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from conventions._tracked_state import Event, Phase, advance


@attrs.define
class _Flags:
    """What TrackedFile did with its flags, event by event (the reference)."""

    started: bool = False
    closed: bool = False
    in_background: bool = False
    finished: bool = False
    succeeded: bool = False
    reported: bool = False

    def phase(self) -> Phase:
        if self.reported:
            return Phase.REPORTED
        if self.finished:
            return Phase.SUCCEEDED if self.succeeded else Phase.FAILED
        if not self.started:
            return Phase.CLOSED_UNSTARTED if self.closed else Phase.NEW
        if not self.closed:
            return Phase.RUNNING
        return Phase.CLOSING_IN_BACKGROUND if self.in_background else Phase.CLOSING


class LifeCycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.flags = _Flags()
        self.phase = Phase.NEW
        self.was_closed = False

    @precondition(lambda self: not self.flags.started)
    @rule()
    def start(self) -> None:
        self.flags.started = True
        self.phase = advance(self.phase, Event.START)

    @precondition(lambda self: self.flags.started)
    @rule()
    def start_again_is_refused(self) -> None:
        # TrackedFile raises "already started" before asking; the rule refuses it too.
        with pytest.raises(ValueError, match="start"):
            advance(self.phase, Event.START)

    @rule()
    def close(self) -> None:
        self.flags.closed = True
        self.phase = advance(self.phase, Event.CLOSE)

    @precondition(lambda self: self.flags.started and not self.flags.finished)
    @rule()
    def close_from_on_error(self) -> None:
        # Only a started save has a background thread, which exists until the final flush.
        self.flags.closed = True
        self.flags.in_background = True
        self.phase = advance(self.phase, Event.CLOSE_IN_BACKGROUND)

    @precondition(lambda self: self.flags.started and self.flags.closed)
    @rule(ok=st.booleans())
    def final_flush(self, ok: bool) -> None:
        if not self.flags.finished:  # it runs once
            self.flags.finished = True
            self.flags.succeeded = ok
        self.phase = advance(self.phase, Event.FINISHED_OK if ok else Event.FINISHED_FAILED)

    @precondition(lambda self: self.flags.finished)
    @rule()
    def report(self) -> None:
        self.flags.reported = True
        self.phase = advance(self.phase, Event.REPORT)

    @invariant()
    def one_phase_says_what_the_flags_said(self) -> None:
        assert self.phase is self.flags.phase()
        assert self.phase.started is self.flags.started
        assert self.phase.closed is self.flags.closed
        assert self.phase.finished is self.flags.finished

    @invariant()
    def closing_is_for_good(self) -> None:
        if self.was_closed:
            assert self.phase.closed
        self.was_closed = self.phase.closed
        if self.phase.finished:
            assert self.phase.started
            assert self.phase.closed


TestLifeCycle = LifeCycle.TestCase


@given(phase=st.sampled_from(Phase), event=st.sampled_from(Event))
def test_every_move_is_listed_kept_or_refused(phase: Phase, event: Event) -> None:
    try:
        after = advance(phase, event)
    except ValueError:
        assert (event is Event.START and phase.started) or (
            event in (Event.FINISHED_OK, Event.FINISHED_FAILED) and not phase.closed
        )
        return
    # Nothing reopens, unstarts or unfinishes a save.
    assert after.closed or not phase.closed
    assert after.started or not phase.started
    assert after.finished or not phase.finished
    if event is Event.REPORT:
        assert after is (Phase.REPORTED if phase.finished else phase)


def test_a_final_flush_of_an_open_save_is_refused() -> None:
    with pytest.raises(ValueError, match="running"):
        advance(Phase.RUNNING, Event.FINISHED_OK)


def test_the_life_cycle_is_a_decision_module() -> None:
    from tests.test_purity import BANNED, _imports

    imported = _imports("conventions._tracked_state")
    assert imported  # the walk saw the module's imports
    assert not [name for name in imported if name.split(".")[0] in BANNED]
    assert not [name for name in imported if name.startswith("conventions.")]


def test_the_examples_run() -> None:
    import doctest

    import conventions._tracked_state as module

    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
