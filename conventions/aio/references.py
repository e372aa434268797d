"""A stored output: :class:`OutputFileReference`, the counterpart of .NET ``OutputFileReference``.

A reference is a value (kind, task, path, blob name, size, time, MD5, ETag) plus the
client it reads through; how a download, a stream or a delete goes is in
``conventions._download``, which its methods call.

Imports azure-storage-blob; ``import conventions`` does not load this module.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import attrs
from azure.storage.blob import BlobProperties
from azure.storage.blob.aio import BlobClient, ContainerClient

from .._transport import DEFAULT_CHUNK_CONCURRENCY
from ..blobs import BlobLocation, parse_blob_name
from ..follow import FollowEvent
from ..kinds import JobOutputKind, TaskOutputKind
from ..urls import redact_sas
from . import _download, _fetch

__all__ = ["OutputFileReference"]

def _optional_bytes(value: bytes | bytearray | None) -> bytes | None:
    return None if value is None else bytes(value)


def _value(reading: _Reading) -> OutputFileReference:
    return cast(OutputFileReference, reading)  # the only _Reading there is


class _Reading:
    """What an :class:`OutputFileReference` does with its client: read, follow or delete
    the output. The sequencing of each is in ``conventions._download`` (and
    ``conventions.live`` for ``follow``); the reference itself is a value."""

    __slots__ = ()

    async def download_to_file(
        self, dest: str | os.PathLike[str], *, max_concurrency: int = DEFAULT_CHUNK_CONCURRENCY
    ) -> Path:
        """Stream the output into the file *dest* and return its path.

        An output larger than the first request (4 MiB on the library's own client, the
        SDK's 32 MiB on a client you built) comes in chunks, *max_concurrency* of them at
        once (like plain ``download_blob(max_concurrency=8)``), checked against its
        Content-MD5 all the same.

        Atomic: the bytes go to a temporary file in the same directory, renamed onto
        *dest* only once complete; on any failure the temporary file is removed and
        *dest* is left as it was. Parent directories are created. The file gets the mode
        a plain ``open()`` gives. A symbolic link at *dest* itself is replaced, never
        followed; the directories above it are the caller's path and are followed.

        Raises:
            OutputNotFoundError: the output does not exist (any more).
            AccessDeniedError: the SAS lacks ``r``.
            StorageError: the download was short or failed after azure-core's retries.
            IntegrityError: the bytes differ from the blob's stored Content-MD5 (rule
                IG-2); *dest* is left as it was.
            LocalPathError: *dest* cannot be written (a directory is in its place, its
                name is too long, its parent is a file...).
            InvalidSettingError: *max_concurrency* is less than 1.
        """
        return await _download.download_to_file(_value(self), dest, max_concurrency)

    async def download_bytes(self, *, max_concurrency: int = DEFAULT_CHUNK_CONCURRENCY) -> bytes:
        """Return the whole output as bytes (all of it: never a short read), checked
        against the blob's stored Content-MD5 when it has one (``IntegrityError``). An
        output larger than the first request (4 MiB on the library's own client) comes in
        chunks, *max_concurrency* of them at once."""
        return await _download.download_bytes(_value(self), max_concurrency)

    async def download_text(
        self, encoding: str = "utf-8", *, max_concurrency: int = DEFAULT_CHUNK_CONCURRENCY
    ) -> str:
        """Return the whole output decoded as *encoding* (UTF-8 by default)."""
        return (await self.download_bytes(max_concurrency=max_concurrency)).decode(encoding)

    async def open(self) -> _fetch.DownloadStream:
        """Return a readable binary stream over the output, fetched chunk by chunk.

        Use it as a context manager::

            async with await ref.open() as stream:
                header = await stream.read(100)
        """
        return await _fetch.open_stream(_value(self))

    def follow(
        self,
        *,
        interval: float = 2.0,
        timeout: float | None = None,
        request_timeout: float = 30.0,
    ) -> AsyncIterator[FollowEvent]:
        """Yield the bytes the output gains as it grows, until its writer marks it complete.

        For a log written by a tracked save (``save_tracked``, ``batch-conventions run``),
        read while the task runs. Each read is one ranged GET from the last offset (it
        asks again for the last 64 bytes, to notice a replaced blob); a blob that did not
        grow is read again after *interval* seconds. The output may not exist yet (get a
        reference without a check from ``storage.reference(kind, path)``): it is waited for.

        Yields ``bytes``, and a :class:`~conventions.follow.FollowRestart` when the blob
        was replaced (a retried task's ``run`` started a new log): what follows it starts
        at byte 0 of the new blob, never glued to the old one. The replacement is also
        logged as a warning on the ``conventions`` logger. Stops when the blob carries the
        completion mark that a successful ``TrackedFile.close()`` sets and everything
        was read, or when a block blob (written at once) was read to its end::

            from conventions.follow import FollowRestart

            log = job.task("task-1").reference(TaskOutputKind.TASK_LOG, "stdout.txt")
            async for item in log.follow(interval=1.0):
                if isinstance(item, FollowRestart):
                    print(f"--- the log was replaced ({item.reason}) ---")
                else:
                    sys.stdout.buffer.write(item)

        Args:
            interval: seconds between reads of a log that did not grow (> 0).
            timeout: seconds after which, if the log is not complete yet,
                :class:`~conventions.errors.FollowTimeoutError` is raised; ``None``
                follows until complete (or Ctrl-C).
            request_timeout: bound on each request's connect and read waits.

        Raises:
            FollowTimeoutError: *timeout* passed first.
            WriterGoneError: the writer stopped without completing the log (it marked it
                incomplete, or was silent past its liveness promise: killed, node lost).
            InvalidSettingError: *interval*, *timeout* or *request_timeout* out of range.
            ContainerNotFoundError; AccessDeniedError (a SAS needs ``r``); StorageError
                (after 3 tries of a read that failed for a passing reason).
        """
        from .live import follow_blob  # the loop and its waits live there

        blob_client = _value(self).blob_client
        return follow_blob(
            blob_client, interval=interval, timeout=timeout, request_timeout=request_timeout
        )

    async def delete(self) -> None:
        """Delete the output.

        Raises:
            OutputNotFoundError: it does not exist.
            AccessDeniedError: the SAS lacks ``d`` (the default SAS of
                ``output_container_url`` has none, like .NET's).
        """
        await _download.delete(_value(self))


@attrs.frozen(repr=False, eq=False)
class OutputFileReference(_Reading):
    """One stored job or task output: where it is, how big, and how to read it back.

    ``path`` comes from the blob name itself (decision D-10), so non-ASCII letters, ``+``,
    ``%``, ``#`` and spaces are exact. ``repr`` never shows the SAS signature of ``url``.

    A listed or saved reference holds the container client and the blob name, not a
    ``BlobClient``: :attr:`blob_client` builds one when asked (cheap; it shares the
    container's pipeline), so a kept listing costs little memory (issue 14).

    Built by the storage classes (``save``, ``list_outputs``, ``get_output``); use it like::

        ref = storage.get_output(TaskOutputKind.TASK_OUTPUT, "results/summary.csv")
        ref.download_to_file("summary.csv")     # streamed; atomic (temp file + rename)
        data = ref.download_bytes()
    """

    #: The output kind (job or task).
    kind: JobOutputKind | TaskOutputKind
    #: The task ID, or ``None`` for a job output.
    task_id: str | None
    #: The path under the kind, e.g. ``results/summary.csv``.
    path: str
    #: The blob name, e.g. ``t1/$TaskOutput/results/summary.csv``.
    blob_name: str
    # The blob's client if given one (``from_blob``); else built from the container client.
    _blob_client: BlobClient | None = attrs.field(default=None, alias="blob_client")
    #: Size in bytes, when known (listed or saved).
    size: int | None = None
    #: Last-modified time (UTC), when known.
    last_modified: datetime.datetime | None = None
    #: The blob's stored Content-MD5 (16 bytes), when known (listed or saved) and set.
    content_md5: bytes | None = attrs.field(default=None, converter=_optional_bytes)
    #: The blob's ETag, when known (listed or saved).
    etag: str | None = None
    # Where a lazily built ``blob_client`` comes from (listing, saving).
    _container_client: ContainerClient | None = attrs.field(
        default=None, alias="container_client", kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        if self._blob_client is None and self._container_client is None:
            raise TypeError("OutputFileReference needs a blob_client or a container_client")

    @classmethod
    def from_blob(
        cls,
        blob_client: BlobClient,
        *,
        size: int | None = None,
        last_modified: datetime.datetime | None = None,
        content_md5: bytes | bytearray | None = None,
        etag: str | None = None,
    ) -> OutputFileReference:
        """Return the reference for *blob_client*, whose name must follow the conventions.

        Raises:
            InvalidBlobNameError: the blob name is not one the conventions produce (rule PB-1).
        """
        return cls.from_location(
            blob_client,
            parse_blob_name(blob_client.blob_name),
            size=size,
            last_modified=last_modified,
            content_md5=content_md5,
            etag=etag,
        )

    @classmethod
    def from_location(
        cls,
        blob_client: BlobClient,
        location: BlobLocation,
        *,
        size: int | None = None,
        last_modified: datetime.datetime | None = None,
        content_md5: bytes | bytearray | None = None,
        etag: str | None = None,
    ) -> OutputFileReference:
        """Return the reference for *blob_client*, whose name *location* already parsed."""
        return cls(
            kind=location.kind,
            task_id=location.task_id,
            path=location.path,
            blob_name=blob_client.blob_name,
            blob_client=blob_client,
            size=size,
            last_modified=last_modified,
            content_md5=content_md5,
            etag=etag,
        )

    @classmethod
    def in_container(
        cls,
        container_client: ContainerClient,
        blob_name: str,
        location: BlobLocation,
        *,
        size: int | None = None,
        last_modified: datetime.datetime | None = None,
        content_md5: bytes | bytearray | None = None,
        etag: str | None = None,
    ) -> OutputFileReference:
        """Return the reference to *blob_name* (which *location* parsed) in
        *container_client*, without building a ``BlobClient``: :attr:`blob_client` makes
        one when it is used."""
        return cls(
            kind=location.kind,
            task_id=location.task_id,
            path=location.path,
            blob_name=blob_name,
            size=size,
            last_modified=last_modified,
            content_md5=content_md5,
            etag=etag,
            container_client=container_client,
        )

    @classmethod
    def from_properties(
        cls, blob_client: BlobClient, properties: BlobProperties
    ) -> OutputFileReference:
        """Return the reference for *blob_client*, with size, time, MD5 and ETag from
        *properties*."""
        return cls.from_location(
            blob_client,
            parse_blob_name(blob_client.blob_name),
            size=properties.size,
            last_modified=properties.last_modified,
            content_md5=properties.content_settings.content_md5,
            etag=properties.etag,
        )

    @property
    def blob_client(self) -> BlobClient:
        """The azure-storage-blob client for the blob (shares the storage's pipeline).

        A listed or saved reference builds it on each access (not kept, so that a kept
        listing stays small); keep it in a variable to reuse one."""
        if self._blob_client is not None:
            return self._blob_client
        assert self._container_client is not None
        return self._container_client.get_blob_client(self.blob_name)

    @property
    def url(self) -> str:
        """The blob's full URL, with the SAS token if the storage was built from one.

        Treat it as a secret when it carries a SAS; ``repr`` shows it redacted.
        """
        return str(self.blob_client.url)

    @property
    def container_name(self) -> str:
        """The name of the container that holds the output."""
        if self._container_client is not None:
            return str(self._container_client.container_name)
        return str(self.blob_client.container_name)

    def __repr__(self) -> str:
        return (
            f"OutputFileReference(kind={self.kind!r}, task_id={self.task_id!r}, "
            f"path={self.path!r}, size={self.size!r}, url={redact_sas(self.url)!r})"
        )
