"""``TaskOutputStorage.save_tracked`` of the async face (the tracked flusher as a task)."""

from __future__ import annotations

__all__ = ["TrackedSaves"]


class TrackedSaves:
    """The tracked saves of a task's storage (mixed into ``TaskOutputStorage``)."""

    __slots__ = ()
