"""The tracked save on both faces (``face`` fixture): the face's ``TrackedFile`` and the
container clients it takes, built and closed on the portal's loop for the async face.

The sync face: ``conventions.tracked.TrackedFile`` and ``azure.storage.blob`` clients. The
async face: ``conventions.aio.TrackedFile`` and ``azure.storage.blob.aio`` clients, wrapped by
the portal (tests/faces.py), so that a test written for the sync face drives both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import azure.storage.blob as blob_sync
import azure.storage.blob.aio as blob_aio

from conventions import tracked as tracked_sync

from .face_fixtures import Face
from .faces import _unwrap

__all__ = ["TrackedFace"]


class TrackedFace:
    """``TrackedFile`` and container clients for one face."""

    def __init__(self, face: Face) -> None:
        self.face = face
        self.portal = face.portal
        if self.portal is None:
            self.TrackedFile: Any = tracked_sync.TrackedFile
        else:
            import conventions.aio as aio

            self.TrackedFile = self.portal.wrap(aio.TrackedFile, force=True)

    @property
    def is_async(self) -> bool:
        return self.portal is not None

    def container_client(
        self, connection_string: str, name: str, *, retries: int | None = None, **kwargs: Any
    ) -> Any:
        """A ``ContainerClient`` of this face (close it with ``close``, or use ``with``);
        *retries*: a linear retry without pauses, that many times."""
        package = blob_aio if self.is_async else blob_sync
        if retries is not None:
            kwargs["retry_policy"] = package.LinearRetry(
                backoff=0, random_jitter_range=0, retry_total=retries
            )
        build = package.ContainerClient.from_connection_string
        if self.portal is None:
            return build(connection_string, name, **kwargs)
        return self.portal.call(build, connection_string, name, **kwargs)

    def closing(
        self, tracked: Callable[[], Any], then: Callable[[Exception], object] | None = None
    ) -> Callable[[Exception], object]:
        """An ``on_error`` that calls *then* and closes ``tracked()``: in the async face a
        coroutine function, which awaits ``close()`` in the flusher task (a sync callback
        there cannot wait for the portal, whose loop runs it)."""
        if self.portal is None:

            def on_error(error: Exception) -> None:
                if then is not None:
                    then(error)
                tracked().close()

            return on_error

        async def on_error_async(error: Exception) -> None:
            if then is not None:
                then(error)
            await _unwrap(tracked()).close()

        return on_error_async
