"""How many connections a storage uses: the client's connection pool, and the bound on
files x chunks in flight (issue 14).

azure-core's ``RequestsTransport`` keeps at most 10 idle connections per host (requests'
default ``HTTPAdapter`` pool); a save or download running 32 files, or 8 files of 4
chunks, would open and throw away connections all the time (urllib3 then logs "Connection
pool is full, discarding connection"). When the library builds the client itself (the
named constructors, through ``conventions._clients``), :func:`pooled_client_kwargs` gives
it a transport whose pool keeps :data:`POOL_SIZE` connections. A client you build yourself
(``from_service_client``, or ``transport=``/``session=`` in the keyword arguments) is used
as it is.

Two levels of concurrency meet in a save or download of many files: *max_concurrency*
files at once, each moved in up to *chunk_concurrency* parallel chunks (only files larger
than the SDK's single-request size, 64 MiB up and 32 MiB down by default, have several
chunks). :func:`chunks_per_file` bounds the product: by default a file gets
``max(1, CONNECTION_BUDGET // max_concurrency)`` chunk threads, so files x chunks stays
within ``max(CONNECTION_BUDGET, max_concurrency)``; an explicit *chunk_concurrency* is
taken as given (then up to ``max_concurrency * chunk_concurrency`` requests run at once).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import InvalidSettingError

__all__ = [
    "CONNECTION_BUDGET",
    "DEFAULT_CHUNK_CONCURRENCY",
    "POOL_SIZE",
    "chunks_per_file",
    "pooled_client_kwargs",
]

#: Parallel chunks of one large file moved by ``save`` / ``download_to_file`` (as
#: ``upload_blob(max_concurrency=8)`` in plain code).
DEFAULT_CHUNK_CONCURRENCY = 8
#: Files x chunks in flight at once, by default, in ``save_many`` and ``download``.
CONNECTION_BUDGET = 32
#: Idle connections the library's own client keeps (azure-core's default is 10).
POOL_SIZE = 64

# azure-storage-blob's own transport timeouts (seconds), applied when it builds the
# transport; ours must carry them too.
_CONNECTION_TIMEOUT = 20
_READ_TIMEOUT = 60


def chunks_per_file(max_concurrency: int, chunk_concurrency: int | None) -> int:
    """The parallel chunks each file gets when *max_concurrency* files run at once.

    >>> chunks_per_file(8, None), chunks_per_file(32, None), chunks_per_file(1, None)
    (4, 1, 32)
    >>> chunks_per_file(8, 2)
    2
    """
    if chunk_concurrency is not None:
        if chunk_concurrency < 1:
            raise InvalidSettingError(
                chunk_concurrency, "must be at least 1", subject="chunk_concurrency"
            )
        return chunk_concurrency
    if max_concurrency < 1:
        raise InvalidSettingError(max_concurrency, "must be at least 1", subject="max_concurrency")
    return max(1, CONNECTION_BUDGET // max_concurrency)


def pooled_client_kwargs(client_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """*client_kwargs* for a client the library builds, with a requests transport whose
    connection pool keeps :data:`POOL_SIZE` connections; unchanged if the caller passed
    their own ``transport`` or ``session``."""
    if "transport" in client_kwargs or "session" in client_kwargs:
        return dict(client_kwargs)
    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from urllib3.util.retry import Retry

    options = dict(client_kwargs)
    options.setdefault("connection_timeout", _CONNECTION_TIMEOUT)
    options.setdefault("read_timeout", _READ_TIMEOUT)
    session = requests.Session()
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


def _adapter_class() -> Any:
    # azure-core's adapter reads responses in bigger blocks; plain requests' if it moves.
    try:
        from azure.core.pipeline.transport._bigger_block_size_http_adapters import (
            BiggerBlockSizeHTTPAdapter,
        )
    except ImportError:  # pragma: no cover - depends on the azure-core version
        from requests.adapters import HTTPAdapter

        return HTTPAdapter
    return BiggerBlockSizeHTTPAdapter
