"""What a tracked save keeps of its errors, as one value: the first 100 kept, all counted,
and recovered from when a later flush caught up with the file. Pure; used by
:class:`conventions.tracked.TrackedFile`, which replaces its :class:`ErrorTally` (under a
lock) as errors happen.

>>> from conventions.errors import AppendConflictError, StorageError
>>> tally = ErrorTally().kept_error(StorageError("a 503"))
>>> tally.succeeded, tally.first
(False, StorageError('a 503'))
>>> tally = tally.caught_up()      # a later flush sent everything: recovered
>>> tally.succeeded, tally.count, len(tally.kept)
(True, 1, 1)
>>> tally.kept_error(AppendConflictError("someone else appended")).stops
True
"""

from __future__ import annotations

import attrs

from .errors import (
    AccessDeniedError,
    AppendBlobLimitError,
    AppendConflictError,
    ContainerNotFoundError,
    TrackedFileReplacedError,
    TrackedFileTruncatedError,
    TrackedSourceError,
)

__all__ = ["FINAL_ERRORS", "MAX_KEPT_ERRORS", "ErrorTally"]

#: How many kept errors close() carries in ``.errors``; the count goes on regardless.
MAX_KEPT_ERRORS = 100

#: Errors after which flushing again cannot succeed: the background thread stops.
FINAL_ERRORS = (
    TrackedFileTruncatedError,  # and TrackedFileChangedError
    TrackedFileReplacedError,
    TrackedSourceError,
    AppendBlobLimitError,
    AppendConflictError,
    AccessDeniedError,
    ContainerNotFoundError,
)


@attrs.frozen
class ErrorTally:
    """A tracked save's errors so far."""

    #: The first :data:`MAX_KEPT_ERRORS` errors, oldest first (``TrackedFile.errors``).
    kept: tuple[Exception, ...] = ()
    #: Every error counted, kept or not.
    count: int = 0
    #: The first error of the log's bytes since the last flush that caught up.
    unrecovered: Exception | None = None
    #: The first of :data:`FINAL_ERRORS`: no flush can succeed after it.
    final: Exception | None = None

    def counted(self, error: Exception) -> ErrorTally:
        """*error* counted (and kept while there is room), not held against the outcome:
        it is not about the log's bytes (a liveness refresh, the completion mark, on_error)."""
        kept = (*self.kept, error) if len(self.kept) < MAX_KEPT_ERRORS else self.kept
        return attrs.evolve(self, kept=kept, count=self.count + 1)

    def kept_error(self, error: Exception) -> ErrorTally:
        """*error* of a flush: counted, unrecovered until a flush catches up, and final if
        it is the first of :data:`FINAL_ERRORS`."""
        tally = self.counted(error)
        final = self.final
        if final is None and isinstance(error, FINAL_ERRORS):
            final = error
        return attrs.evolve(tally, unrecovered=self.unrecovered or error, final=final)

    def caught_up(self) -> ErrorTally:
        """A flush found the blob equal to the file: the earlier errors are recovered from."""
        return self if self.unrecovered is None else attrs.evolve(self, unrecovered=None)

    @property
    def stops(self) -> bool:
        """Whether background flushing must stop (a final error was kept)."""
        return self.final is not None

    @property
    def succeeded(self) -> bool:
        """Whether nothing stands against the blob equalling the file."""
        return self.final is None and self.unrecovered is None

    @property
    def first(self) -> Exception | None:
        """The error ``close()`` raises: the final one, else the first unrecovered."""
        return self.final or self.unrecovered

    def others(self, first: Exception) -> tuple[Exception, ...]:
        """The kept errors but *first*, oldest first (``first.errors`` after *first*)."""
        return tuple(e for e in self.kept if e is not first)
