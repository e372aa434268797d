# Generated from conventions/aio/_tracked_saves.py by scripts/unasync.py: do not edit.
# ruff: noqa
"""``TaskOutputStorage.save_tracked``: a growing file streamed to an append blob by a
background flusher (``conventions.tracked``: a thread; ``conventions.tracked``: a task).
Written once, in ``conventions.aio``; the sync face's module is generated from it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .kinds import TaskOutputKind
from .tracked import DEFAULT_LIFETIME, MAX_APPEND_BLOCKS, TrackedFile

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient

__all__ = ["TrackedSaves"]


class TrackedSaves:
    """The tracked saves of a task's storage (mixed into ``TaskOutputStorage``)."""

    __slots__ = ()

    if TYPE_CHECKING:  # given by the storage it is mixed into
        container_client: ContainerClient

        def _stored_name(
            self, kind: TaskOutputKind, path: str | os.PathLike[str], destination: str | None
        ) -> str: ...

    def save_tracked(
        self,
        source: str | os.PathLike[str],
        *,
        kind: TaskOutputKind = TaskOutputKind.TASK_LOG,
        destination: str | None = None,
        flush_interval: float = 60.0,
        on_error: Callable[[Exception], object] | None = None,
        overwrite: bool = False,
        lifetime: float = DEFAULT_LIFETIME,
        max_blocks: int = MAX_APPEND_BLOCKS,
    ) -> TrackedFile:
        """Stream the growing file *source* (a log) to an append blob while it is written.

        Returns a :class:`~conventions.tracked.TrackedFile`, not yet started: use it as a
        context manager (or ``start()``/``close()``). Every *flush_interval* seconds a
        background flusher (in the async face, a task) appends exactly what the file
        gained; closing uploads the rest, so that the blob is then byte-identical to the
        file. Background flushes spend the blob's *max_blocks* so that it streams for
        *lifetime* seconds (180 days, a Batch task's longest life): *flush_interval* while
        the budget allows, then less often. The stored path is *destination*, or else
        *source* as a relative path (``destination_path`` rules).
        With a SAS, tracked saves need ``racw``: ``r`` to reconcile an append retried after
        its response was lost (without it, that case raises ``AccessDeniedError``)::

            with storage.save_tracked("stdout.txt", flush_interval=15):
                run_the_simulation()     # writes stdout.txt; readable in storage as it grows

        Raises:
            InvalidPathError: the stored path is empty, absolute or escapes (pass
                *destination* for an absolute *source*).
            conventions.tracked.TrackingError: from ``start()``/``close()``, see there.
        """
        name = self._stored_name(kind, source, destination)
        return TrackedFile(
            self.container_client,
            name,
            # Resolved now: the background flusher must not depend on a later chdir.
            Path(source).absolute(),
            flush_interval=flush_interval,
            on_error=on_error,
            overwrite=overwrite,
            lifetime=lifetime,
            max_blocks=max_blocks,
        )
