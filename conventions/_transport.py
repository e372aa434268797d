"""How a storage moves bytes: the client's connection pool, its socket read size and
first download request, and the bound on files x chunks in flight (issue 14).

azure-core's ``RequestsTransport`` keeps at most 10 idle connections per host (requests'
default ``HTTPAdapter`` pool); a save or download running 32 files, or 8 files of 4
chunks, would open and throw away connections all the time (urllib3 then logs "Connection
pool is full, discarding connection"). When the library builds the client itself (the
named constructors, through ``conventions._clients``), :func:`library_client_kwargs`
gives it a transport whose pool keeps :data:`POOL_SIZE` connections and reads the socket
256 KiB at a time (as the SDK's own transport does; azure-core's default is 4 KiB), and a
first download request of :data:`FIRST_GET_SIZE`. A client you build yourself
(``from_service_client``) is used as it is; so is a ``transport``/``session`` among the
keyword arguments, and any option you set there.

Two levels of concurrency meet in a save or download of many files: *max_concurrency*
files at once, each moved in up to *chunk_concurrency* parallel chunks (only files larger
than one request have several chunks: 64 MiB up; 4 MiB down, 32 MiB on your own client).
:func:`chunks_per_file` bounds the product: by default a file gets
``max(1, CONNECTION_BUDGET // max_concurrency)`` chunk threads, so files x chunks stays
within ``max(CONNECTION_BUDGET, max_concurrency)``; an explicit *chunk_concurrency* is
taken as given (then up to ``max_concurrency * chunk_concurrency`` requests run at once).
That decision, the sizes and the checks are pure, in ``conventions._download_plan``
(re-exported here); this module builds the transport.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ._download_plan import (
    CONNECTION_BUDGET,
    DEFAULT_CHUNK_CONCURRENCY,
    FIRST_GET_SIZE,
    WrongType,
    check_count,
    chunks_per_file,
)

__all__ = [
    "CONNECTION_BUDGET",
    "DEFAULT_CHUNK_CONCURRENCY",
    "FIRST_GET_SIZE",
    "POOL_SIZE",
    "check_chunk_concurrency",
    "chunks_per_file",
    "library_client_kwargs",
    "pooled_client_kwargs",
]

#: Idle connections the library's own client keeps (azure-core's default is 10).
POOL_SIZE = 64

# What azure-storage-blob sets when it builds the transport itself; ours must carry them
# too: its timeouts (seconds) and its socket read size (azure-core's default is 4 KiB,
# which makes a download loop through urllib3 and azure-core once per 4 KiB).
_CONNECTION_TIMEOUT = 20
_READ_TIMEOUT = 60
_DATA_BLOCK_SIZE = 256 * 1024


def check_chunk_concurrency(value: int, subject: str = "max_concurrency") -> int:
    """*value*, if it is a usable number of parallel chunks (at least 1)."""
    return check_count(value, subject, WrongType.TYPE)


def library_client_kwargs(client_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """*client_kwargs* for a client the library builds: the caller's, then the first
    download request of :data:`FIRST_GET_SIZE` and the pooled transport of
    :func:`pooled_client_kwargs`. What the caller set is kept."""
    options = dict(client_kwargs)
    options.setdefault("max_single_get_size", FIRST_GET_SIZE)
    return pooled_client_kwargs(options)


def pooled_client_kwargs(client_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """*client_kwargs* for a client the library builds, with a requests transport whose
    connection pool keeps :data:`POOL_SIZE` connections; unchanged if the caller passed
    their own ``transport`` or ``session``."""
    if "transport" in client_kwargs or "session" in client_kwargs:
        return dict(client_kwargs)
    from azure.core.pipeline.transport import RequestsTransport
    from urllib3.util.retry import Retry

    options = dict(client_kwargs)
    options.setdefault("connection_timeout", _CONNECTION_TIMEOUT)
    options.setdefault("read_timeout", _READ_TIMEOUT)
    options.setdefault("connection_data_block_size", _DATA_BLOCK_SIZE)
    session = _environment_once_session_class()()
    # As azure-core sets up its own session: environment settings (proxies) unless told
    # otherwise, and no urllib3 retries (azure-core's retry policy retries).
    session.trust_env = options.get("use_env_settings", True)
    adapter = _adapter_class()(
        pool_connections=POOL_SIZE,
        pool_maxsize=POOL_SIZE,
        max_retries=Retry(total=False, redirect=False, raise_on_status=False),
    )
    for scheme in ("http://", "https://"):
        session.mount(scheme, adapter)
    # session_owner=True: closing the client closes the session and its connections.
    options["transport"] = RequestsTransport(session=session, session_owner=True, **options)
    return options


@functools.cache
def _environment_once_session_class() -> type[Any]:
    import requests
    from requests.sessions import merge_setting
    from requests.utils import get_environ_proxies

    class EnvironmentOnceSession(requests.Session):
        """A ``requests.Session`` that reads the proxy settings of the environment
        (``HTTPS_PROXY``, ``NO_PROXY``...) once per scheme and host instead of on every
        request: requests scans the whole environment twice per request (~70 µs with 35
        variables), a few per cent of a small file's save or download. Otherwise what
        ``requests.Session.merge_environment_settings`` returns (tests compare the two).
        A change to those variables after a client's first request to a host is not
        seen by that client."""

        def __init__(self) -> None:
            super().__init__()
            self._environ_proxies: dict[tuple[str, str, str | None], dict[str, str]] = {}

        def merge_environment_settings(
            self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
        ) -> Any:
            if not self.trust_env:
                return super().merge_environment_settings(url, proxies, stream, verify, cert)
            no_proxy = proxies.get("no_proxy") if proxies is not None else None
            parts = urlsplit(str(url))
            key = (parts.scheme, parts.netloc, no_proxy)
            found = self._environ_proxies.get(key)
            if found is None:  # a race computes it twice: harmless
                found = self._environ_proxies[key] = dict(get_environ_proxies(url, no_proxy))
            if proxies is not None:
                for name, value in found.items():
                    proxies.setdefault(name, value)
            if verify is True or verify is None:
                verify = (
                    os.environ.get("REQUESTS_CA_BUNDLE")
                    or os.environ.get("CURL_CA_BUNDLE")
                    or verify
                )
            return {
                "proxies": merge_setting(proxies, self.proxies),
                "stream": merge_setting(stream, self.stream),
                "verify": merge_setting(verify, self.verify),
                "cert": merge_setting(cert, self.cert),
            }

    return EnvironmentOnceSession


@functools.cache
def _adapter_class() -> Any:
    # azure-core's adapter reads responses in bigger blocks; plain requests' if it moves.
    base: type[Any]
    try:
        from azure.core.pipeline.transport._bigger_block_size_http_adapters import (
            BiggerBlockSizeHTTPAdapter,
        )

        base = BiggerBlockSizeHTTPAdapter
    except ImportError:  # pragma: no cover - depends on the azure-core version
        from requests.adapters import HTTPAdapter

        base = HTTPAdapter

    pools = _pool_classes()

    class CheckedHeadAdapter(base):  # type: ignore[misc]
        """An adapter whose connections refuse a cut response head and obey the
        operation's deadline (:func:`_pool_classes`), direct or through a proxy."""

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(*args, **kwargs)
            if getattr(manager, "pool_classes_by_scheme", None) is not None:
                manager.pool_classes_by_scheme = pools
            return manager

    return CheckedHeadAdapter


class _LastLine:
    """A response's file, seen by ``http.client`` while it reads the head: notes the
    last line read, to tell a head that ended (an empty line) from one cut off (EOF)."""

    def __init__(self, fp: Any) -> None:
        self._fp = fp
        self.last: bytes | None = None

    def readline(self, *args: Any) -> bytes:
        line: bytes = self._fp.readline(*args)
        self.last = line
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fp, name)


@functools.cache
def _pool_classes() -> dict[str, Any]:
    """urllib3 pools whose connections (1) refuse a response head that the connection
    cut before its end: ``http.client`` takes EOF inside the head as its end, and
    azure-storage-blob then reads a ``206`` without headers or body as an empty chunk
    (rule IG-5); refused as a dropped connection, azure-core retries it; (2) hand their
    socket to the deadline of the operation running on their thread
    (``conventions.network.current_deadline``) before they connect and before they read a
    head, so that a stalled or trickled head cannot outlast it."""
    import http.client

    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    from .network import current_deadline

    class WholeHeadResponse(http.client.HTTPResponse):
        def begin(self) -> None:
            fp = self.fp
            seen = _LastLine(fp)
            self.fp = seen  # type: ignore[assignment]
            try:
                super().begin()
            finally:
                if self.fp is not None:  # begin() sets None when it closes the connection
                    self.fp = fp
            if seen.last not in (b"\r\n", b"\n"):
                raise http.client.RemoteDisconnected(
                    "the connection closed inside the response head"
                )

    class DeadlineMixin:
        sock: Any

        def connect(self) -> None:
            deadline = current_deadline()
            if deadline is not None:
                deadline.check()
            super().connect()  # type: ignore[misc]
            if deadline is not None:
                deadline.watch(self.sock)

        def getresponse(self) -> Any:
            deadline = current_deadline()
            if deadline is None:
                return super().getresponse()  # type: ignore[misc]
            deadline.watch(self.sock)
            try:
                return super().getresponse()  # type: ignore[misc]
            except Exception:
                # The deadline shut the socket down: say so, and let no retry (and its
                # back-off) follow; the library's error is not one azure-core retries.
                deadline.check()
                raise

    class CheckedConnection(DeadlineMixin, HTTPConnection):
        response_class = WholeHeadResponse

    class CheckedHTTPSConnection(DeadlineMixin, HTTPSConnection):
        response_class = WholeHeadResponse

    class CheckedPool(HTTPConnectionPool):
        ConnectionCls = CheckedConnection

    class CheckedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = CheckedHTTPSConnection

    return {"http": CheckedPool, "https": CheckedHTTPSPool}
