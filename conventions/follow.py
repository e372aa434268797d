"""Following a growing log: the pure decisions, without any I/O.

:meth:`conventions.references.OutputFileReference.follow` (and the async twin to come)
loops: ask :func:`next_range` which bytes to read, read them with one ranged GET (or learn
that the blob does not exist), describe the answer as a :class:`BlobRead`, and let
:func:`observe` say what to hand to the caller, the new state, and whether to stop or to
read again at once. Everything here is a value; nothing waits or talks to storage
(spec/README.md, "Following a log"; decisions D-60 to D-62 and D-81, the writer's
liveness: :func:`liveness`; vectors ``follow.json``).

Why the read starts before the offset: each read asks again for the last
:data:`TAIL_CHECK` bytes already followed, so the answer itself shows whether those
bytes are still there. A retried task whose ``run`` replaced its log with a new attempt
that is already longer than what we followed is noticed this way, where a length check
could not, and the creation time (a whole second) may not have changed.

>>> state = FollowState()
>>> step = observe(state, BlobRead(start=0, data=b"hello", size=5, identity="t1"))
>>> step.events, step.done
((b'hello',), False)
>>> next_range(step.state, 100)
(0, 105)
>>> marked = BlobRead(start=0, data=b"hello", size=5, identity="t1", complete_length=5)
>>> observe(step.state, marked).done
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs

from .errors import InvalidSettingError

__all__ = [
    "COMPLETE_METADATA_KEY",
    "INCOMPLETE_METADATA_KEY",
    "LIVENESS_SLACK",
    "LIVE_METADATA_KEY",
    "MAX_LIVENESS_PERIOD",
    "MIN_LIVENESS_PERIOD",
    "TAIL_CHECK",
    "BlobRead",
    "FollowEvent",
    "FollowRestart",
    "FollowState",
    "FollowStep",
    "Liveness",
    "completion_metadata",
    "incomplete_metadata",
    "liveness",
    "liveness_metadata",
    "liveness_period",
    "marked_length",
    "next_range",
    "observe",
]

#: The blob metadata key that marks a tracked log complete; its value is the blob's
#: length in bytes when the writer closed it. Set by ``TrackedFile.close()`` after its
#: final flush, on the append blob itself, so a replaced blob (a new append blob) loses it.
COMPLETE_METADATA_KEY = "conventions_complete"

#: The blob metadata key by which a live writer promises to change the blob (append or
#: set metadata) at least every so many seconds (decimal text); refreshed while the file
#: is quiet. Set by ``TrackedFile`` from this version on; .NET and older versions do not.
LIVE_METADATA_KEY = "conventions_live"

#: The blob metadata key a writer sets when it stopped without storing the whole file;
#: its value is the blob's length then.
INCOMPLETE_METADATA_KEY = "conventions_incomplete"

#: How many already-followed bytes each read asks for again, to notice a replaced blob.
TAIL_CHECK = 64

#: Bounds of the liveness period a writer publishes: heartbeats at most every 2 s (a
#: quiet file costs a request, not a block), at least every 5 minutes.
MIN_LIVENESS_PERIOD = 2.0
MAX_LIVENESS_PERIOD = 300.0
#: A writer is judged gone once its blob has not changed for ``2 x period + SLACK``
#: seconds (by the service's own clock): a live writer changes it at least every period,
#: the slack absorbs slow requests and whole-second timestamps, and a follower that
#: reads again when the verdict falls due notices within ``3 x period + 30 s``.
LIVENESS_SLACK = 20.0


def completion_metadata(length: int) -> dict[str, str]:
    """The metadata that marks a blob of *length* bytes complete.

    >>> completion_metadata(12)
    {'conventions_complete': '12'}
    """
    if length < 0:
        raise ValueError(f"length must be >= 0, not {length!r}")
    return {COMPLETE_METADATA_KEY: str(length)}


def incomplete_metadata(length: int) -> dict[str, str]:
    """The metadata by which a writer says it stopped at *length* bytes, not complete.

    >>> incomplete_metadata(3)
    {'conventions_incomplete': '3'}
    """
    if length < 0:
        raise ValueError(f"length must be >= 0, not {length!r}")
    return {INCOMPLETE_METADATA_KEY: str(length)}


def liveness_period(cadence: float) -> float:
    """The period a writer flushing every *cadence* seconds publishes: the cadence,
    within [2 s, 5 min].

    >>> liveness_period(0.05), liveness_period(30.0), liveness_period(float("inf"))
    (2.0, 30.0, 300.0)
    """
    return min(max(cadence, MIN_LIVENESS_PERIOD), MAX_LIVENESS_PERIOD)


def liveness_metadata(period: float) -> dict[str, str]:
    """The metadata that promises a change of the blob at least every *period* seconds.

    >>> liveness_metadata(2.0), liveness_metadata(12.345)
    ({'conventions_live': '2'}, {'conventions_live': '12.35'})
    >>> liveness_metadata(2.001)
    {'conventions_live': '2.01'}
    """
    # Rounded up: the promise is never shorter than the writer's real period.
    text = f"{math.ceil(period * 100) / 100:.2f}".rstrip("0").rstrip(".")
    return {LIVE_METADATA_KEY: text}


def _metadata_value(metadata: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (metadata or {}).items():
        if key.lower() == name:
            return value.strip()
    return None


def _length(text: str | None) -> int | None:
    return int(text) if text is not None and text.isascii() and text.isdigit() else None


def marked_length(metadata: Mapping[str, str] | None) -> int | None:
    """The length a completion mark records, or ``None`` if *metadata* has no valid mark.

    Lenient reader: metadata keys are case-insensitive in Azure, so any case is accepted;
    a value that is not a decimal length is no mark.

    >>> marked_length({"Conventions_Complete": "7"}), marked_length({"other": "1"})
    (7, None)
    """
    return _length(_metadata_value(metadata, COMPLETE_METADATA_KEY))


def _period(metadata: Mapping[str, str] | None) -> float | None:
    text = _metadata_value(metadata, LIVE_METADATA_KEY)
    try:
        period = float(text) if text is not None and text.isascii() else math.nan
    except ValueError:
        return None
    return period if math.isfinite(period) and period > 0 else None


@attrs.frozen
class Liveness:
    """What a read says about the writer (:func:`liveness`)."""

    #: The writer stopped without completing the blob: it said so, or went silent.
    gone: bool
    #: Seconds until the verdict could change to gone, if it can (the follower reads
    #: again by then at the latest); ``None`` if it cannot be judged.
    due_in: float | None = None
    #: Why it is gone, for the message.
    reason: str = ""


@attrs.frozen
class FollowState:
    """What a follower knows between two reads."""

    #: Bytes of the blob handed to the caller so far.
    offset: int = 0
    #: The last (at most :data:`TAIL_CHECK`) bytes handed out, ending at ``offset``.
    tail: bytes = b""
    #: The blob's identity when first seen (its creation time, as text), if known.
    identity: str | None = None
    #: Whether the blob was seen at all (a follow may start before it exists).
    seen: bool = False
    #: 1 for the blob first followed, +1 for every replacement noticed.
    attempt: int = 1


@attrs.frozen
class BlobRead:
    """What one read said: the bytes ``[start, start + len(data))`` of the blob as it is.

    A read that the service refused with 416 (the range starts past the end) is
    described with the blob's properties, ``start=size`` and no data.
    """

    #: Where ``data`` starts in the blob.
    start: int
    #: The bytes read.
    data: bytes
    #: The blob's whole length when read.
    size: int
    #: The blob's identity (creation time, as text), if known.
    identity: str | None = None
    #: The length recorded by the completion mark, if the blob carries one.
    complete_length: int | None = None
    #: ``True`` for an append blob; a block blob is written at once, so complete when read.
    appendable: bool = True
    #: The period the writer promised to change the blob within (its live metadata).
    live_period: float | None = None
    #: The length the writer recorded when it stopped without completing, if it did.
    incomplete_length: int | None = None
    #: Seconds between the blob's last change and the read, by the service's clock
    #: (its ``Date`` header minus the blob's ``Last-Modified``), if both were given.
    silent_for: float | None = None

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, str] | None, **fields: object) -> BlobRead:
        """A read whose completion, liveness and incomplete marks come from *metadata*."""
        return cls(
            complete_length=marked_length(metadata),
            live_period=_period(metadata),
            incomplete_length=_length(_metadata_value(metadata, INCOMPLETE_METADATA_KEY)),
            **fields,  # type: ignore[arg-type]
        )


@attrs.frozen
class FollowRestart:
    """Yielded by ``follow`` when the blob was replaced: what follows starts at byte 0
    of a new blob (e.g. a retried task's new log), not after what came before."""

    #: Why the follower thinks the blob was replaced.
    reason: str
    #: How many bytes of the old blob had been handed out.
    offset: int
    #: The attempt that starts now (2 for the first replacement).
    attempt: int


#: What ``follow`` yields: new bytes, or a notice that the blob was replaced.
FollowEvent = bytes | FollowRestart


@attrs.frozen
class FollowStep:
    """What :func:`observe` decided."""

    #: The state for the next read.
    state: FollowState
    #: What to hand to the caller, in order.
    events: tuple[FollowEvent, ...]
    #: The blob is complete and everything in it was handed out: stop.
    done: bool
    #: There is more to read now: read again without waiting.
    more: bool


def next_range(state: FollowState, chunk_size: int) -> tuple[int, int]:
    """The ``(offset, length)`` to read next: the tail again, then up to *chunk_size* new
    bytes."""
    if chunk_size < 1:
        raise InvalidSettingError(chunk_size, "must be at least 1", subject="chunk_size")
    start = state.offset - len(state.tail)
    return start, state.offset - start + chunk_size


def _replaced(state: FollowState, read: BlobRead) -> str | None:
    if not state.seen:
        return None
    if read.identity is not None and state.identity is not None and read.identity != state.identity:
        return f"the blob was created again (at {read.identity}, was {state.identity})"
    if read.size < state.offset:
        return f"the blob holds {read.size} bytes, fewer than the {state.offset} already read"
    tail_start = state.offset - len(state.tail)
    low = max(read.start, tail_start)
    high = min(read.start + len(read.data), state.offset)
    if high > low:
        ours = state.tail[low - tail_start : high - tail_start]
        theirs = read.data[low - read.start : high - read.start]
        if ours != theirs:
            return f"bytes before offset {state.offset} changed"
    return None


def observe(state: FollowState, read: BlobRead | None) -> FollowStep:
    """Decide what a read means: the bytes to hand out, the new state, stop or go on.

    *read* is ``None`` when the blob does not exist (not yet, or deleted): wait.
    A replaced blob yields a :class:`FollowRestart` and starts again from byte 0 (from
    this read's data if it starts at 0, else by reading again at once).
    """
    if read is None:
        return FollowStep(state, (), done=False, more=False)
    reason = _replaced(state, read)
    if reason is not None:
        fresh = FollowState(identity=read.identity, seen=True, attempt=state.attempt + 1)
        restart = FollowRestart(reason=reason, offset=state.offset, attempt=fresh.attempt)
        if read.start != 0:
            return FollowStep(fresh, (restart,), done=False, more=True)
        step = observe(fresh, read)
        return attrs.evolve(step, events=(restart, *step.events))
    if read.start > state.offset:
        # The blob grew between a refused read and the properties that described it.
        return FollowStep(attrs.evolve(state, seen=True), (), done=False, more=True)
    new = read.data[state.offset - read.start :]
    offset = state.offset + len(new)
    updated = FollowState(
        offset=offset,
        tail=(state.tail + new)[-TAIL_CHECK:],
        identity=state.identity if state.seen else read.identity,
        seen=True,
        attempt=state.attempt,
    )
    # The mark records the complete blob's length: never stop short of it, even when an
    # answer shows the mark with fewer bytes (seen on Azurite: a read that carried the
    # mark of a close whose last append it did not show yet). Read again after the
    # interval until that many bytes were handed out.
    marked = read.complete_length
    complete = (marked is not None and offset >= marked) or not read.appendable
    return FollowStep(
        updated,
        (new,) if new else (),
        done=complete and offset >= read.size,
        more=offset < read.size,
    )


def liveness(read: BlobRead) -> Liveness:
    """Whether the writer of a blob not (yet) complete is gone.

    Gone if it marked the blob incomplete, or if it promised a period and the blob has
    not changed for ``2 x period + LIVENESS_SLACK`` seconds. A blob without the promise
    (.NET, older versions) is never judged: it is followed as before.

    >>> liveness(BlobRead(0, b"", 0, live_period=2.0, silent_for=25.0)).gone
    True
    >>> liveness(BlobRead(0, b"", 0, live_period=2.0, silent_for=5.0))
    Liveness(gone=False, due_in=19.0, reason='')
    >>> liveness(BlobRead(0, b"", 0, silent_for=1e6)).gone
    False
    """
    if read.complete_length is not None or not read.appendable:
        return Liveness(gone=False)
    if read.incomplete_length is not None:
        return Liveness(
            gone=True,
            reason=f"its writer stopped at {read.incomplete_length} bytes without storing "
            "the whole log (it marked it incomplete)",
        )
    if read.live_period is None or read.silent_for is None:
        return Liveness(gone=False)
    limit = 2 * read.live_period + LIVENESS_SLACK
    if read.silent_for > limit:
        return Liveness(
            gone=True,
            reason=f"it has not changed for {read.silent_for:g} s although its writer "
            f"promised a change every {read.live_period:g} s (judged gone after "
            f"{limit:g} s): the writer died without completing it (node lost, killed?)",
        )
    return Liveness(gone=False, due_in=limit - read.silent_for)
