"""Reading one stored output: the I/O sequencing behind ``OutputFileReference``'s
``download_to_file``, ``download_bytes``, ``open`` and ``delete``, and behind each file of
a whole-job download (``conventions.transfer``).

Each download is explicit steps: open the downloader (its first request), choose the
writer from what that first answer told (:mod:`conventions._download_plan`), write,
then commit (checked whole, rule IG-5, and against the stored MD5, rule IG-2) or discard
(the writer stopped, the temporary file removed by ``conventions._local_files``). A blob
that changed between the requests of one read is read again in an explicit loop whose
decision is rule IG-4's (``conventions._integrity_rules.read_again_after_change``).

Imports azure-storage-blob; ``import conventions`` does not load it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

from azure.storage.blob import StorageStreamDownloader

from ._azure_errors import check_download_answer, translate_errors
from ._download_plan import chunks_out_of_order, file_chunk_threads, incomplete
from ._integrity import (
    CountingWriter,
    check_md5,
    download_writer,
    read_again_after_change,
    supports_parallel_writes,
)
from ._local_files import Destination
from ._transport import check_chunk_concurrency
from .errors import BlobChangedError, StorageError
from .network import TransferDeadline
from .received import Coverage

if TYPE_CHECKING:
    from .references import OutputFileReference

__all__ = [
    "again_if_changed",
    "copy_to",
    "delete",
    "download_bytes",
    "download_to_file",
    "open_stream",
    "translate",
]

_log = logging.getLogger("conventions")

_R = TypeVar("_R")


def again_if_changed(read: Callable[[], _R]) -> _R:
    """``read()``, again while it raises ``BlobChangedError`` (a log appended to between
    the requests of one download) and rule IG-4 says to read again; each attempt reads
    one whole version; the last one's error is raised."""
    attempt = 1
    while True:
        try:
            return read()
        except BlobChangedError as error:
            if not read_again_after_change(attempt):
                raise
            attempt += 1
            _log.info("%s; reading it again (attempt %d)", error, attempt)


def translate(reference: OutputFileReference, operation: str, permission: str) -> Any:
    """The context that turns azure errors into the library's, naming *reference*."""
    return translate_errors(
        operation,
        container=reference.container_name,
        blob=reference.blob_name,
        permission=permission,
    )


def _downloader(
    reference: OutputFileReference,
    deadline: TransferDeadline | None = None,
    max_concurrency: int = 1,
) -> StorageStreamDownloader[bytes]:
    # Every answer, the first and each chunk's, is checked before the SDK reads it
    # (rule IG-5); a download with a deadline also hands it each answer's socket.
    with translate(reference, "download", "r"):
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


def _check_complete(reference: OutputFileReference, coverage: Coverage, expected: int) -> None:
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


def _stored_md5(downloader: StorageStreamDownloader[bytes]) -> bytes | None:
    # The version downloaded (the SDK pins it by ETag across chunks): its stored MD5.
    md5 = downloader.properties.content_settings.content_md5
    return None if md5 is None else bytes(md5)


def copy_to(
    reference: OutputFileReference,
    file: IO[bytes],
    on_bytes: Callable[[int], None] | None = None,
    *,
    max_concurrency: int = 1,
) -> int:
    """Stream the whole blob into *file*; return the bytes written, checked complete
    and checked against the blob's stored Content-MD5 (``IntegrityError``, rule IG-2).
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
            stored = _stored_md5(downloader)
            parallel = chunks_out_of_order(threads, downloader.size)
            checked = download_writer(file, on_bytes, stored_md5=stored, parallel=parallel)
            with translate(reference, "download", "r"):
                downloader.readinto(cast(IO[bytes], checked))  # write
        _check_complete(reference, checked.coverage, downloader.size)  # commit
        written = checked.coverage.written
        checked.verify(stored, container=reference.container_name, blob=reference.blob_name)
    finally:
        if checked is not None:
            checked.stop()
    return written


def download_to_file(
    reference: OutputFileReference, dest: str | os.PathLike[str], max_concurrency: int
) -> Path:
    """``OutputFileReference.download_to_file``: into a temporary file beside *dest*,
    renamed onto it once complete and verified."""
    check_chunk_concurrency(max_concurrency)
    target = Path(dest)
    with Destination(target.parent) as directory:
        copy = functools.partial(copy_to, reference, max_concurrency=max_concurrency)
        written = again_if_changed(
            lambda: directory.write((target.name,), copy, blob=reference.blob_name)
        )
    _log.debug("downloaded %s to %s (%d bytes)", reference.blob_name, target, written)
    return target


def download_bytes(reference: OutputFileReference, max_concurrency: int) -> bytes:
    """``OutputFileReference.download_bytes``: the whole blob, checked."""
    check_chunk_concurrency(max_concurrency)
    downloader, data = again_if_changed(lambda: _read_all(reference, max_concurrency))
    stored = _stored_md5(downloader)
    if stored is not None:  # rule IG-3: without one, nothing to hash for
        actual = hashlib.md5(data, usedforsecurity=False).digest()
        check_md5(stored, actual, container=reference.container_name, blob=reference.blob_name)
    return data


def _read_all(
    reference: OutputFileReference, max_concurrency: int
) -> tuple[StorageStreamDownloader[bytes], bytes]:
    buffer = io.BytesIO()
    # Counted like a file's download (rule IG-5): a hole would read back as zeros.
    counted = CountingWriter(buffer)
    with _deadline(reference) as deadline:
        downloader = _downloader(reference, deadline, max_concurrency)
        with translate(reference, "download", "r"):
            downloader.readinto(cast(IO[bytes], counted))
    _check_complete(reference, counted.coverage, downloader.size)
    return downloader, buffer.getvalue()


def open_stream(reference: OutputFileReference) -> IO[bytes]:
    """``OutputFileReference.open``: a buffered stream over the blob, read as it goes."""
    return io.BufferedReader(_DownloadStream(reference, _downloader(reference)))


def delete(reference: OutputFileReference) -> None:
    """``OutputFileReference.delete``."""
    with translate(reference, "delete", "d"):
        reference.blob_client.delete_blob()


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
        with translate(self._reference, "download", "r"):
            data = self._downloader.read(len(view))
        view[: len(data)] = data
        return len(data)
