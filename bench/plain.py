"""The plain azure-storage-blob code the library is measured against.

Two baselines per operation, both what a careful user would hand-write:

- *sequential*: a plain loop, one request after another, with the SDK's defaults;
- *pool*: a ``ThreadPoolExecutor`` of *c* threads over blob clients that share one
  ``ContainerClient`` whose connection pool holds *c* connections (azure-core keeps 10
  otherwise, and threads past 10 would wait for a connection), each directory made once,
  listing overlapped with the transfers; a large file moves in chunks with the SDK's own
  ``max_concurrency``.

Nothing here imports ``conventions``: the baselines must not benefit from the library.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import ContainerClient
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

_Adapter: type[HTTPAdapter]
try:  # the adapter azure-core mounts itself (bigger socket reads), private or not
    from azure.core.pipeline.transport._bigger_block_size_http_adapters import (
        BiggerBlockSizeHTTPAdapter as _Adapter,
    )
except ImportError:  # pragma: no cover - older azure-core
    _Adapter = HTTPAdapter

__all__ = [
    "container_client",
    "download_large",
    "download_pool",
    "download_sequential",
    "list_iterate",
    "list_kept",
    "upload_large",
    "upload_pool",
    "upload_sequential",
]


def _transport(pool_size: int) -> RequestsTransport:
    """azure-core's requests transport with a connection pool of *pool_size* (at least 10)."""
    session = requests.Session()
    # What azure-core's own _init_session mounts, with a bigger pool; retries stay azure-core's.
    adapter = _Adapter(
        pool_connections=1,
        pool_maxsize=max(pool_size, 10),
        max_retries=Retry(total=False, redirect=False, raise_on_status=False),
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # The socket read size azure-storage-blob sets when it builds its transport (azure-core's
    # default, 4 KiB, costs a Python loop per 4 KiB downloaded). The transport owns (and
    # closes) the session.
    return RequestsTransport(session=session, connection_data_block_size=256 * 1024)


def container_client(
    connection_string: str, container: str, concurrency: int | None = None
) -> ContainerClient:
    """A ``ContainerClient``; with *concurrency*, its connection pool is sized to it."""
    if concurrency is None:
        return ContainerClient.from_connection_string(connection_string, container)
    return ContainerClient.from_connection_string(
        connection_string, container, transport=_transport(concurrency)
    )


# -- many small files ----------------------------------------------------------------------------


def upload_sequential(container: ContainerClient, files: Sequence[tuple[str, Path]]) -> None:
    """Upload ``(blob name, local path)`` pairs one after another."""
    for name, path in files:
        with open(path, "rb") as data:
            container.upload_blob(name, data, overwrite=True)


def upload_pool(
    container: ContainerClient, files: Sequence[tuple[str, Path]], concurrency: int
) -> int:
    """Upload ``(blob name, local path)`` pairs on *concurrency* threads; return the count."""

    def one(item: tuple[str, Path]) -> None:
        name, path = item
        with open(path, "rb") as data:
            container.get_blob_client(name).upload_blob(data, overwrite=True)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return sum(1 for _ in pool.map(one, files))


def download_sequential(container: ContainerClient, dest: Path) -> int:
    """Download every blob of the container under *dest*/<blob name>; return the count."""
    count = 0
    for blob in container.list_blobs():
        target = dest / blob.name
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as file:
            container.download_blob(blob.name).readinto(file)
        count += 1
    return count


def download_pool(container: ContainerClient, dest: Path, concurrency: int) -> int:
    """The same on *concurrency* threads, listing while downloading; return the count."""
    made: set[Path] = set()
    lock = threading.Lock()

    def one(name: str) -> None:
        target = dest / name
        parent = target.parent
        if parent not in made:  # one mkdir per directory, not per file
            parent.mkdir(parents=True, exist_ok=True)
            with lock:
                made.add(parent)
        with open(target, "wb") as file:
            container.get_blob_client(name).download_blob().readinto(file)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return sum(1 for _ in pool.map(one, (blob.name for blob in container.list_blobs())))


# -- one large file ------------------------------------------------------------------------------


def upload_large(container: ContainerClient, name: str, path: Path, concurrency: int) -> None:
    """``upload_blob`` of one file in chunks on *concurrency* threads (1: the SDK default)."""
    with open(path, "rb") as data:
        container.get_blob_client(name).upload_blob(
            data, overwrite=True, max_concurrency=concurrency
        )


def download_large(container: ContainerClient, name: str, target: Path, concurrency: int) -> int:
    """``download_blob(...).readinto`` a file, *concurrency* chunks at once; return the bytes."""
    with open(target, "wb") as file:
        return int(
            container.get_blob_client(name)
            .download_blob(max_concurrency=concurrency)
            .readinto(file)
        )


# -- listing -------------------------------------------------------------------------------------


def list_iterate(container: ContainerClient, prefix: str | None = None) -> int:
    """Iterate over ``list_blobs`` and keep nothing; return the count."""
    return sum(1 for _ in container.list_blobs(name_starts_with=prefix))


def list_kept(container: ContainerClient, prefix: str | None = None) -> list[object]:
    """``list(list_blobs())``: every ``BlobProperties`` kept."""
    items: Iterable[object] = container.list_blobs(name_starts_with=prefix)
    return list(items)
