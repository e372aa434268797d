"""How the async face's clients move bytes: an aiohttp transport whose connection pool
is not the limit (aiohttp keeps 100 connections by default; a save at concurrency 128 or
256 would wait on it), the SDK's timeouts and socket read size, and the library's first
download request. The contract is ``conventions._transport``'s
(:func:`library_client_kwargs`, :func:`pooled_client_kwargs`); the bound on files x
chunks in flight is the same pure ``conventions._download_plan``.

A ``transport`` or ``session`` among your keyword arguments is used as it is.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .._download_plan import FIRST_GET_SIZE
from ..errors import MissingDependencyError

__all__ = ["POOL_LIMIT", "library_client_kwargs", "pooled_client_kwargs"]

#: Connections the library's own aio client may hold open at once. The runner bounds
#: the requests in flight (files x chunks); this only keeps aiohttp from being a second,
#: lower bound.
POOL_LIMIT = 1024

_CONNECTION_TIMEOUT = 20
_READ_TIMEOUT = 60
_DATA_BLOCK_SIZE = 256 * 1024

INSTALL = "pip install 'batch-file-conventions[aio]'"


def library_client_kwargs(client_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """*client_kwargs* for an aio client the library builds: the caller's, then the first
    download request of ``FIRST_GET_SIZE`` and the pooled transport."""
    options = dict(client_kwargs)
    options.setdefault("max_single_get_size", FIRST_GET_SIZE)
    return pooled_client_kwargs(options)


def pooled_client_kwargs(client_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """*client_kwargs* with an aiohttp transport whose pool holds :data:`POOL_LIMIT`
    connections; unchanged if the caller passed their own ``transport`` or ``session``."""
    if "transport" in client_kwargs or "session" in client_kwargs:
        return dict(client_kwargs)
    options = dict(client_kwargs)
    options.setdefault("connection_timeout", _CONNECTION_TIMEOUT)
    options.setdefault("read_timeout", _READ_TIMEOUT)
    options.setdefault("connection_data_block_size", _DATA_BLOCK_SIZE)
    options["transport"] = _transport_class()(**options)
    return options


_TRANSPORT: type[Any] | None = None


def _transport_class() -> type[Any]:
    global _TRANSPORT
    if _TRANSPORT is not None:
        return _TRANSPORT
    try:
        import aiohttp
        from azure.core.pipeline.transport import AioHttpTransport
    except ImportError as error:  # pragma: no cover - the extra is installed in the tests
        raise MissingDependencyError(f"conventions.aio needs aiohttp: {INSTALL}") from error

    class PooledAioHttpTransport(AioHttpTransport):  # type: ignore[misc]
        """azure-core's aiohttp transport, with a session (made on first use, inside the
        event loop, as azure-core makes its own) whose pool is :data:`POOL_LIMIT`, which
        never resends a request on its own, and which reads the environment's proxy
        settings once per scheme and host (aiohttp's ``trust_env`` reads them, and
        ``~/.netrc``, in a thread on every request: two thread hops per request)."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._proxies: dict[str, str | None] = {}

        async def send(self, request: Any, **config: Any) -> Any:
            transport: Any = self
            if transport._use_env_settings and not (config.get("proxy") or config.get("proxies")):
                proxy = self._proxy_for(str(request.url))
                if proxy:
                    config["proxy"] = proxy
            return await super().send(request, **config)

        def _proxy_for(self, url: str) -> str | None:
            # Keyed by "scheme://netloc" as written: no URL parsing per request.
            slash = url.find("/", url.find("//") + 2)
            origin = url if slash < 0 else url[:slash]
            if origin not in self._proxies:  # a race computes it twice: harmless
                parts = urlsplit(origin)
                proxies = urllib.request.getproxies()
                bypass = urllib.request.proxy_bypass(parts.hostname or "")
                self._proxies[origin] = None if bypass else proxies.get(parts.scheme)
            return self._proxies[origin]

        async def open(self) -> None:
            transport: Any = self
            if (
                not transport.session
                and transport._session_owner
                and not transport._has_been_opened
            ):
                transport.session = aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=POOL_LIMIT),
                    trust_env=False,  # the proxy is chosen in send(), once per host
                    cookie_jar=aiohttp.DummyCookieJar(),
                    auto_decompress=False,
                )
                # aiohttp sends an idempotent request (PUT, DELETE) again, unseen by the
                # SDK's retry policy, when a reused connection drops: a delete whose answer
                # was lost then read 404 "missing" (not D-71's deleted), and an Append Block
                # (a PUT) could be sent twice. Retries stay the SDK's, counted, as in sync.
                transport.session._retry_connection = False
            await super().open()

    _TRANSPORT = PooledAioHttpTransport
    return _TRANSPORT
