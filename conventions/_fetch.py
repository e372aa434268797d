"""The sync face's reads of one blob's bytes: the SDK's downloader, its chunk threads and
the library's checks (rule IG-5 on every answer, IG-2 on the whole). The async face drives
its own ranged reads instead (``conventions.aio._fetch``: its SDK's ``readinto`` would
leave chunk tasks running when cancelled); both keep this module's contract:
:func:`copy_to`, :func:`read_all`, :func:`open_stream`.

Imports azure-storage-blob; ``import conventions`` does not load it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, cast

from azure.storage.blob import StorageStreamDownloader

from ._azure_errors import check_download_answer, translate_reference
from ._download_plan import chunks_out_of_order, file_chunk_threads, incomplete
from ._integrity import CountingWriter, download_writer, supports_parallel_writes
from .errors import StorageError
from .network import TransferDeadline
from .received import Coverage

if TYPE_CHECKING:
    from .references import OutputFileReference

__all__ = [
    "DownloadStream",
    "check_complete",
    "copy_to",
    "open_stream",
    "read_all",
    "stored_md5",
]

#: What ``OutputFileReference.open`` returns in this face.
DownloadStream = IO[bytes]


def _downloader(
    reference: OutputFileReference,
    deadline: TransferDeadline | None = None,
    max_concurrency: int = 1,
) -> StorageStreamDownloader[bytes]:
    # Every answer, the first and each chunk's, is checked before the SDK reads it
    # (rule IG-5); a download with a deadline also hands it each answer's socket.
    with translate_reference(reference, "download", "r"):
        if deadline is None:
            return reference.blob_client.download_blob(
                max_concurrency=max_concurrency, raw_response_hook=check_download_answer
            )
        return reference.blob_client.download_blob(
            max_concurrency=max_concurrency,
            raw_response_hook=deadline.checked_hook,
            raw_request_hook=deadline.request_hook,
        )


def _deadline(reference: OutputFileReference) -> TransferDeadline:
    """The bound on one whole download (``conventions.network``)."""
    return TransferDeadline(reference.container_name, reference.blob_name, reference.size)


def check_complete(reference: Any, coverage: Coverage, expected: int) -> None:
    """Raise unless *coverage* is exactly the blob's *expected* bytes (rule IG-5)."""
    # .NET reads once and returns whatever arrived (hazard 5); never here.
    what = incomplete(coverage, expected)
    if what is None:
        return
    raise StorageError(
        f"download of blob {reference.blob_name!r} in container {reference.container_name!r} "
        f"was incomplete: {what}; nothing was written, download it again",
        container=reference.container_name,
        blob=reference.blob_name,
    )


def stored_md5(downloader: Any) -> bytes | None:
    """The stored MD5 of the version a downloader reads (pinned by ETag across chunks)."""
    md5 = downloader.properties.content_settings.content_md5
    return None if md5 is None else bytes(md5)


def copy_to(
    reference: OutputFileReference,
    file: IO[bytes],
    on_bytes: Callable[[int], None] | None = None,
    *,
    max_concurrency: int = 1,
    then: Callable[[], object] | None = None,
) -> int:
    """Stream the whole blob into *file*; return the bytes written, checked complete
    and checked against the blob's stored Content-MD5 (``IntegrityError``, rule IG-2),
    then run *then* (the commit).
    *on_bytes* hears the length of each chunk written (byte-level progress). A blob
    larger than the first request (4 MiB on the library's own client, 32 MiB on yours)
    comes in *max_concurrency* parallel chunks when *file* is seekable, still hashed in
    file order."""
    threads = file_chunk_threads(
        max_concurrency, max_concurrency > 1 and supports_parallel_writes(file)
    )
    checked: CountingWriter | None = None
    try:
        with _deadline(reference) as deadline:
            downloader = _downloader(reference, deadline, threads)  # open
            stored = stored_md5(downloader)
            parallel = chunks_out_of_order(threads, downloader.size)
            checked = download_writer(file, on_bytes, stored_md5=stored, parallel=parallel)
            with translate_reference(reference, "download", "r"):
                downloader.readinto(cast(IO[bytes], checked))  # write
        check_complete(reference, checked.coverage, downloader.size)  # commit
        written = checked.coverage.written
        checked.verify(stored, container=reference.container_name, blob=reference.blob_name)
    finally:
        if checked is not None:
            checked.stop()
    if then is not None:
        then()
    return written


def read_all(reference: OutputFileReference, max_concurrency: int) -> tuple[bytes | None, bytes]:
    """The whole blob, checked complete (not yet against its MD5), and its stored MD5."""
    buffer = io.BytesIO()
    # Counted like a file's download (rule IG-5): a hole would read back as zeros.
    counted = CountingWriter(buffer)
    with _deadline(reference) as deadline:
        downloader = _downloader(reference, deadline, max_concurrency)
        with translate_reference(reference, "download", "r"):
            downloader.readinto(cast(IO[bytes], counted))
    check_complete(reference, counted.coverage, downloader.size)
    return stored_md5(downloader), buffer.getvalue()


def open_stream(reference: OutputFileReference) -> DownloadStream:
    """``OutputFileReference.open``: a buffered stream over the blob, read as it goes."""
    return io.BufferedReader(_DownloadStream(reference, _downloader(reference)))


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
        with translate_reference(self._reference, "download", "r"):
            data = self._downloader.read(len(view))
        view[: len(data)] = data
        return len(data)
