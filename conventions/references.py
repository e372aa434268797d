"""A stored output: :class:`OutputFileReference`, the counterpart of .NET ``OutputFileReference``.

Imports azure-storage-blob; ``import conventions`` does not load this module.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import logging
import os
import tempfile
from pathlib import Path
from typing import IO, Any

import attrs
from azure.storage.blob import BlobClient, BlobProperties, StorageStreamDownloader

from ._azure_errors import translate_errors
from .blobs import BlobLocation, parse_blob_name
from .errors import StorageError
from .kinds import JobOutputKind, TaskOutputKind
from .network import TransferDeadline
from .urls import redact_sas

__all__ = ["OutputFileReference"]

_log = logging.getLogger("conventions")


# The process umask, read once at import: os.umask() can only read it by setting it,
# which would race with downloads running on worker threads.
_UMASK = os.umask(0o022)
os.umask(_UMASK)

@attrs.frozen(repr=False, eq=False)
class OutputFileReference:
    """One stored job or task output: where it is, how big, and how to read it back.

    ``path`` comes from the blob name itself (decision D-10), so non-ASCII letters, ``+``,
    ``%``, ``#`` and spaces are exact. ``repr`` never shows the SAS signature of ``url``.

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
    #: The azure-storage-blob client for the blob (shares the storage's pipeline).
    blob_client: BlobClient
    #: Size in bytes, when known (listed or saved).
    size: int | None = None
    #: Last-modified time (UTC), when known.
    last_modified: datetime.datetime | None = None

    @classmethod
    def from_blob(
        cls,
        blob_client: BlobClient,
        *,
        size: int | None = None,
        last_modified: datetime.datetime | None = None,
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
        )

    @classmethod
    def from_location(
        cls,
        blob_client: BlobClient,
        location: BlobLocation,
        *,
        size: int | None = None,
        last_modified: datetime.datetime | None = None,
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
        )

    @classmethod
    def from_properties(
        cls, blob_client: BlobClient, properties: BlobProperties
    ) -> OutputFileReference:
        """Return the reference for *blob_client*, with size and time from *properties*."""
        return cls.from_blob(
            blob_client, size=properties.size, last_modified=properties.last_modified
        )

    @property
    def url(self) -> str:
        """The blob's full URL, with the SAS token if the storage was built from one.

        Treat it as a secret when it carries a SAS; ``repr`` shows it redacted.
        """
        return str(self.blob_client.url)

    @property
    def container_name(self) -> str:
        """The name of the container that holds the output."""
        return str(self.blob_client.container_name)

    def __repr__(self) -> str:
        return (
            f"OutputFileReference(kind={self.kind!r}, task_id={self.task_id!r}, "
            f"path={self.path!r}, size={self.size!r}, url={redact_sas(self.url)!r})"
        )

    def _translate(self, operation: str, permission: str) -> Any:
        return translate_errors(
            operation, container=self.container_name, blob=self.blob_name, permission=permission
        )

    def _downloader(
        self, deadline: TransferDeadline | None = None
    ) -> StorageStreamDownloader[bytes]:
        with self._translate("download", "r"):
            if deadline is None:
                return self.blob_client.download_blob()
            return self.blob_client.download_blob(raw_response_hook=deadline.hook)

    def _deadline(self) -> TransferDeadline:
        """The bound on one whole download (``conventions.network``)."""
        return TransferDeadline(self.container_name, self.blob_name, self.size)

    def _check_complete(self, received: int, expected: int) -> None:
        # .NET reads once and returns whatever arrived (hazard 5); never here.
        if received != expected:
            raise StorageError(
                f"download of blob {self.blob_name!r} in container {self.container_name!r} "
                f"was short: {received} of {expected} bytes",
                container=self.container_name,
                blob=self.blob_name,
            )

    def download_to_file(self, dest: str | os.PathLike[str]) -> Path:
        """Stream the output into the file *dest* and return its path.

        Atomic: the bytes go to a temporary file in the same directory, renamed onto
        *dest* only once complete; on any failure the temporary file is removed and
        *dest* is left as it was. Parent directories are created.

        Raises:
            OutputNotFoundError: the output does not exist (any more).
            AccessDeniedError: the SAS lacks ``r``.
            StorageError: the download was short or failed after azure-core's retries.
        """
        target = Path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name[:40]}.", suffix=".part"
        )
        try:
            with os.fdopen(handle, "wb") as file:
                with self._deadline() as deadline:
                    downloader = self._downloader(deadline)
                    with self._translate("download", "r"):
                        written = downloader.readinto(file)
                self._check_complete(written, downloader.size)
            # mkstemp makes the file 0600; give it the mode a plain open() would.
            os.chmod(temp_name, 0o666 & ~_UMASK)
            os.replace(temp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        _log.debug("downloaded %s to %s (%d bytes)", self.blob_name, target, written)
        return target

    def download_bytes(self) -> bytes:
        """Return the whole output as bytes (all of it: never a short read)."""
        with self._deadline() as deadline:
            downloader = self._downloader(deadline)
            with self._translate("download", "r"):
                data = downloader.readall()
        self._check_complete(len(data), downloader.size)
        return data

    def download_text(self, encoding: str = "utf-8") -> str:
        """Return the whole output decoded as *encoding* (UTF-8 by default)."""
        return self.download_bytes().decode(encoding)

    def open(self) -> IO[bytes]:
        """Return a readable binary stream over the output, fetched chunk by chunk.

        Use it as a context manager::

            with ref.open() as stream:
                header = stream.read(100)
        """
        return io.BufferedReader(_DownloadStream(self, self._downloader()))

    def delete(self) -> None:
        """Delete the output.

        Raises:
            OutputNotFoundError: it does not exist.
            AccessDeniedError: the SAS lacks ``d`` (the default SAS of
                ``output_container_url`` has none, like .NET's).
        """
        with self._translate("delete", "d"):
            self.blob_client.delete_blob()


class _DownloadStream(io.RawIOBase):
    """A raw read-only stream over a ``StorageStreamDownloader``; errors translated."""

    def __init__(self, reference: OutputFileReference, downloader: StorageStreamDownloader[bytes]):
        super().__init__()
        self._reference = reference
        self._downloader = downloader

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        with self._reference._translate("download", "r"):
            data = self._downloader.read(len(view))
        view[: len(data)] = data
        return len(data)
