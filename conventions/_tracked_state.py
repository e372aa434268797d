"""A tracked save's life cycle, as one value: the decisions of
:class:`conventions.tracked.TrackedFile` about what ``start``, ``close`` and the final flush
may do next, without threads or I/O.

``TrackedFile`` holds one :class:`Phase` and moves it only by :func:`advance` (under its
lock), instead of a set of flags (started, closed, closing in the background, finished,
succeeded, reported).

>>> phase = advance(Phase.NEW, Event.START)
>>> phase, phase.started, phase.closed
(<Phase.RUNNING: 'running'>, True, False)
>>> phase = advance(phase, Event.CLOSE)
>>> phase = advance(phase, Event.FINISHED_OK)
>>> phase, advance(phase, Event.REPORT)
(<Phase.SUCCEEDED: 'succeeded'>, <Phase.REPORTED: 'reported'>)
>>> advance(Phase.NEW, Event.CLOSE)  # closed before it started: nothing to flush
<Phase.CLOSED_UNSTARTED: 'closed-unstarted'>
"""

from __future__ import annotations

import enum

__all__ = ["Event", "Phase", "advance"]


class Phase(enum.Enum):
    """Where a tracked save is in its life."""

    #: Built; :meth:`~conventions.tracked.TrackedFile.start` not called (or it failed).
    NEW = "new"
    #: ``close()`` before ``start()``: nothing to flush. ``start()`` is still allowed
    #: (then the save runs closed: ``flush()`` refuses, the next ``close()`` finishes).
    CLOSED_UNSTARTED = "closed-unstarted"
    #: Started: the background thread flushes.
    RUNNING = "running"
    #: ``close()`` was called; the final flush is still to run, by ``close()``.
    CLOSING = "closing"
    #: ``close()`` was called from the background thread (in ``on_error``): that thread
    #: runs the final flush once its loop ends.
    CLOSING_IN_BACKGROUND = "closing-in-background"
    #: The final flush ran and the blob equals the file.
    SUCCEEDED = "succeeded"
    #: The final flush ran and the blob is not the file (or it was not checked).
    FAILED = "failed"
    #: ``close()`` returned or raised the outcome; closing again does nothing.
    REPORTED = "reported"

    @property
    def started(self) -> bool:
        """Whether ``start()`` succeeded."""
        return self not in (Phase.NEW, Phase.CLOSED_UNSTARTED)

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self not in (Phase.NEW, Phase.RUNNING)

    @property
    def finished(self) -> bool:
        """Whether the final flush ran (it runs once)."""
        return self in (Phase.SUCCEEDED, Phase.FAILED, Phase.REPORTED)


class Event(enum.Enum):
    """What happens to a tracked save."""

    #: ``start()`` created the blob and started the background thread.
    START = "start"
    #: ``close()`` called from any thread but the background one.
    CLOSE = "close"
    #: ``close()`` called from the background thread (from ``on_error``).
    CLOSE_IN_BACKGROUND = "close-in-background"
    #: The final flush ended, with the blob equal to the file.
    FINISHED_OK = "finished-ok"
    #: The final flush ended otherwise.
    FINISHED_FAILED = "finished-failed"
    #: ``close()`` returns or raises the outcome.
    REPORT = "report"


_CHANGES: dict[tuple[Phase, Event], Phase] = {
    (Phase.NEW, Event.START): Phase.RUNNING,
    (Phase.CLOSED_UNSTARTED, Event.START): Phase.CLOSING,
    (Phase.NEW, Event.CLOSE): Phase.CLOSED_UNSTARTED,
    (Phase.NEW, Event.CLOSE_IN_BACKGROUND): Phase.CLOSED_UNSTARTED,
    (Phase.RUNNING, Event.CLOSE): Phase.CLOSING,
    (Phase.RUNNING, Event.CLOSE_IN_BACKGROUND): Phase.CLOSING_IN_BACKGROUND,
    # The owner closed first, then on_error closed in the background thread: that thread,
    # which the owner is waiting for, runs the final flush.
    (Phase.CLOSING, Event.CLOSE_IN_BACKGROUND): Phase.CLOSING_IN_BACKGROUND,
    (Phase.CLOSING, Event.FINISHED_OK): Phase.SUCCEEDED,
    (Phase.CLOSING, Event.FINISHED_FAILED): Phase.FAILED,
    (Phase.CLOSING_IN_BACKGROUND, Event.FINISHED_OK): Phase.SUCCEEDED,
    (Phase.CLOSING_IN_BACKGROUND, Event.FINISHED_FAILED): Phase.FAILED,
    (Phase.SUCCEEDED, Event.REPORT): Phase.REPORTED,
    (Phase.FAILED, Event.REPORT): Phase.REPORTED,
}


def advance(phase: Phase, event: Event) -> Phase:
    """The phase after *event*. Any pair not listed leaves the phase as it is (closing
    again, a final flush asked for twice, a report before the end), except ``START`` of
    a started save or a final flush of an open one, which are programming errors
    (``ValueError``): ``TrackedFile`` checks :attr:`Phase.started` and closes first."""
    changed = _CHANGES.get((phase, event))
    if changed is not None:
        return changed
    if event is Event.START or (
        event in (Event.FINISHED_OK, Event.FINISHED_FAILED) and not phase.closed
    ):
        raise ValueError(f"a tracked save cannot take {event.value!r} when {phase.value!r}")
    return phase
