"""Content-MD5 end to end (spec "Integrity", rules IG-1 to IG-3): hashed while the bytes
stream, never by a second read.

- :class:`HashingReader` wraps a file being uploaded: the SDK reads through it (in order,
  once), so the MD5 is of exactly the bytes sent.
- :class:`VerifyingWriter` wraps the file a download writes: it hashes what passes and
  :meth:`VerifyingWriter.verify` raises :class:`~conventions.errors.IntegrityError` when
  the blob's stored MD5 disagrees; the download's temporary file is then removed.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from typing import IO, Any

from .errors import IntegrityError

__all__ = ["HashingReader", "VerifyingWriter", "check_md5"]


class HashingReader(io.RawIOBase):
    """A read-only, non-seekable view of *source* that hashes every byte read.

    Not seekable on purpose: azure-storage-blob then reads it front to back once (single
    put, or one block after another), never out of order.
    """

    def __init__(self, source: IO[bytes]) -> None:
        super().__init__()
        self._source = source
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, size: int | None = -1) -> bytes:
        data = self._source.read(-1 if size is None else size)
        self._md5.update(data)
        self.read_bytes += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(memoryview(buffer)))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def digest(self) -> bytes:
        """The MD5 of everything read so far."""
        return self._md5.digest()


class VerifyingWriter:
    """Writes through to *file*, hashing as it goes; *on_bytes* (if given) hears each
    chunk's length, for byte-level progress."""

    def __init__(self, file: IO[bytes], on_bytes: Callable[[int], None] | None = None) -> None:
        self._file = file
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._on_bytes = on_bytes

    def write(self, data: bytes) -> int:
        written = self._file.write(data)
        self._md5.update(data)
        if self._on_bytes is not None:
            self._on_bytes(len(data))
        return written

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self._file.flush()

    def verify(self, expected: bytes | bytearray | None, *, container: str, blob: str) -> None:
        """Raise ``IntegrityError`` if *expected* (the stored MD5) is set and differs."""
        check_md5(expected, self._md5.digest(), container=container, blob=blob)


def check_md5(
    expected: bytes | bytearray | None, actual: bytes, *, container: str, blob: str
) -> None:
    """Raise ``IntegrityError`` when the stored MD5 *expected* is set and is not *actual*
    (rule IG-2); a blob without an MD5 is not checked (rule IG-3)."""
    if expected is None or bytes(expected) == actual:
        return
    raise IntegrityError(
        f"blob {blob!r} in container {container!r} does not match its stored Content-MD5 "
        f"(stored {bytes(expected).hex()}, received {actual.hex()}): its content changed "
        "behind the MD5 or was damaged in transit; nothing was written. Download it again; "
        "if it persists, save the output again (rule IG-2)",
        container=container,
        blob=blob,
        expected=bytes(expected).hex(),
        actual=actual.hex(),
    )
