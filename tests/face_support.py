"""Helpers for the tests that run on both faces (the ``face`` fixture, tests/face_fixtures.py):
a Blob service client of the face's own kind, and a counting transport for each face.

The ``face_service`` fixture is registered in conftest.py.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.pipeline.transport import HttpRequest
from azure.storage.blob import BlobServiceClient

from scripts.azurite import StorageEndpoint

from .face_fixtures import Face
from .faces import PortalProblems, _Proxy
from .storage_support import CountingTransport

__all__ = [
    "async_counting_transport_class",
    "check_the_loop_now",
    "counting_transport",
    "face_service",
    "sas_module",
    "service_client",
    "unwrapped",
]


@functools.cache
def async_counting_transport_class() -> type[Any]:
    """``CountingTransport`` for the async face: a real aiohttp transport that records each
    request it is asked to send, retries included. Made on first use: the sync face's tests
    (and this conftest) run without aiohttp, e.g. in the azure-batch 14 environment."""
    from azure.core.pipeline.transport import AioHttpTransport

    class AsyncCountingTransport(AioHttpTransport):  # type: ignore[misc]
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.requests: list[str] = []

        async def send(self, request: HttpRequest, **kwargs: Any) -> Any:
            self.requests.append(f"{request.method} {request.url}")
            return await super().send(request, **kwargs)

    return AsyncCountingTransport


def check_the_loop_now(face: Face) -> None:
    """Fail now, in the test's body, on what the portal recorded so far (else it fails at
    teardown, where ``xfail(raises=PortalProblems)`` cannot see it); nothing on the sync face."""
    if face.portal is None:
        return
    problems = face.portal.take_problems()
    if problems:
        raise PortalProblems(f"the test misused the async face:\n{problems.describe()}")


def unwrapped(value: Any) -> Any:
    """The async-face object behind a portal proxy (else *value*): for what a test hands to
    the async face lazily (a generator's items), which the portal cannot unwrap."""
    return object.__getattribute__(value, "_target") if isinstance(value, _Proxy) else value


def counting_transport(face: Face, **kwargs: Any) -> Any:
    """A counting transport the *face*'s clients can use (``transport=``)."""
    if face.is_async:
        return async_counting_transport_class()(**kwargs)
    return CountingTransport(**kwargs)


def service_client(face: Face, endpoint: StorageEndpoint, **kwargs: Any) -> Any:
    """A ``BlobServiceClient`` for *endpoint* of the *face*'s kind (sync, or aio through the
    portal), from its connection string with *kwargs*; use it in a ``with`` block."""
    if not face.is_async:
        return BlobServiceClient.from_connection_string(endpoint.connection_string, **kwargs)
    from azure.storage.blob.aio import BlobServiceClient as AsyncBlobServiceClient

    assert face.portal is not None
    return face.portal.wrap(
        AsyncBlobServiceClient.from_connection_string(endpoint.connection_string, **kwargs)
    )


def sas_module(face: Face) -> Any:
    """The face's ``sas`` module: ``conventions.sas``, or ``conventions.aio.sas`` through the
    portal (its functions awaited on the loop, called as sync ones)."""
    import conventions.aio.sas
    import conventions.sas

    if face.portal is None:
        return conventions.sas
    return face.portal.wrap(conventions.aio.sas, force=True)


@pytest.fixture
def face_service(
    face: Face, azurite: StorageEndpoint, blob_service_client: BlobServiceClient
) -> Iterator[Any]:
    """The session's Blob service as the face's ``from_service_client`` takes it: the sync
    client, or an ``azure.storage.blob.aio`` one (driven through the portal, closed after
    the test)."""
    if not face.is_async:
        yield blob_service_client
        return
    with service_client(face, azurite, **azurite.client_kwargs) as client:
        yield client
