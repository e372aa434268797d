"""Content-MD5 end to end (spec "Integrity", rules IG-1 to IG-4): hashed while the bytes
stream, never by a second read.

- :class:`HashingReader` wraps a file being uploaded: the SDK reads through it (in order,
  once), so the MD5 is of exactly the bytes sent.
- :class:`VerifyingWriter` wraps the file a download writes: it hashes what passes and
  :meth:`VerifyingWriter.verify` raises :class:`~conventions.errors.IntegrityError` when
  the blob's stored MD5 disagrees; the download's temporary file is then removed.
  :func:`download_writer` picks it once the first response tells the stored MD5; a blob
  without one gets a :class:`CountingWriter`, which hashes nothing.

The decisions (which writer, which reader, whether to read again, whether a digest
matches) are pure, in ``conventions._integrity_rules`` (re-exported here); which bytes
were written, in which order, is :class:`conventions.received.Coverage`'s, shared by every
writer. This module is the I/O: it hashes, and its background writers use threads.
"""

from __future__ import annotations

import hashlib
import io
import os
import queue
import threading
from collections.abc import Callable
from typing import IO, Any

from ._integrity_rules import (
    BACKGROUND_HASH_SIZE,
    CHANGED_ATTEMPTS,
    Hashing,
    check_md5,
    choose_hashing,
    hash_upload_in_background,
    read_again_after_change,
)
from .received import Coverage

__all__ = [
    "BACKGROUND_HASH_SIZE",
    "CHANGED_ATTEMPTS",
    "BackgroundHashingReader",
    "BackgroundVerifyingWriter",
    "CountingWriter",
    "HashingReader",
    "VerifyingWriter",
    "check_md5",
    "download_writer",
    "md5_of",
    "read_again_after_change",
    "supports_parallel_writes",
    "upload_reader",
]


def md5_of(data: bytes) -> bytes:
    """The MD5 of *data* (a checksum, not security)."""
    return hashlib.md5(data, usedforsecurity=False).digest()


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

    def stop(self) -> None:
        """Nothing runs in the background."""


def upload_reader(source: IO[bytes], size: int) -> HashingReader:
    """The hashing reader an upload of *size* bytes from *source* streams through."""
    if hash_upload_in_background(size):
        return BackgroundHashingReader(source)
    return HashingReader(source)


class BackgroundHashingReader(HashingReader):
    """A :class:`HashingReader` that hashes on a thread of its own, in read order, so
    that hashing a large upload overlaps sending it (``hashlib`` releases the GIL): the
    SDK reads a non-seekable upload on one thread, and hashing there held up every
    block. At most *depth* pieces wait to be hashed (memory stays bounded). Call
    :meth:`stop` when the upload ends either way; :meth:`digest` waits for the hash.
    """

    def __init__(self, source: IO[bytes], depth: int = 4) -> None:
        super().__init__(source)
        self._pieces: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._stopped = False
        self._thread = threading.Thread(target=self._hash, name="conventions-md5", daemon=True)
        self._thread.start()

    def read(self, size: int | None = -1) -> bytes:
        if self._stopped:
            raise ValueError("read after the hash was taken")
        data = self._source.read(-1 if size is None else size)
        self.read_bytes += len(data)
        if data:
            self._pieces.put(data)
        return data

    def _hash(self) -> None:
        while (piece := self._pieces.get()) is not None:
            self._md5.update(piece)

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._pieces.put(None)
            self._thread.join()

    def digest(self) -> bytes:
        self.stop()
        return super().digest()


def supports_parallel_writes(file: IO[bytes]) -> bool:
    """Whether the SDK may write chunks of a parallel download into *file* at their
    offsets (it seeks), and a hashing thread may read them back (by descriptor)."""
    return bool(file.seekable()) and hasattr(file, "fileno")


def download_writer(
    file: IO[bytes],
    on_bytes: Callable[[int], None] | None,
    *,
    stored_md5: bytes | None,
    parallel: bool,
) -> CountingWriter:
    """The writer a download streams into, once its first response told the version's
    stored MD5: hashing in line, hashing on a thread of its own (chunks may arrive out of
    order: *parallel*), or not hashing at all when there is nothing to compare with
    (rule IG-3: hashing would only cost CPU)."""
    return _WRITERS[choose_hashing(stored_md5, parallel=parallel)](file, on_bytes)


class CountingWriter:
    """Writes through to *file*; *on_bytes* (if given) hears each chunk's length, for
    byte-level progress. Seekable (when *file* is), for the SDK's parallel download.
    Verifies nothing: the writer for a blob without a stored MD5 (rule IG-3). Every
    writer notes which bytes it wrote (:attr:`coverage`), so that a download is judged
    complete by what arrived, not by what the SDK expected (rule IG-5)."""

    def __init__(self, file: IO[bytes], on_bytes: Callable[[int], None] | None = None) -> None:
        self._file = file
        self._on_bytes = on_bytes
        self._position = 0
        #: The byte ranges written (rule IG-5).
        self.coverage = Coverage()

    def write(self, data: bytes) -> int:
        start = self._position
        written = self._file.write(data)
        self._position += len(data)
        self.coverage.add(start, len(data))
        self._wrote(start, data)
        if self._on_bytes is not None:
            self._on_bytes(len(data))
        return written

    def _wrote(self, start: int, data: bytes) -> None:
        """*data* was just written at *start*: the subclasses hash it, or note it."""

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return bool(self._file.seekable())

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence != io.SEEK_SET:
            raise ValueError(f"{type(self).__name__} seeks from the start only")
        self._file.seek(offset)
        self._position = offset
        return offset

    def flush(self) -> None:
        self._file.flush()

    def verify(self, expected: bytes | bytearray | None, *, container: str, blob: str) -> None:
        """Nothing to check (rule IG-3); a stored MD5 here is a misuse."""
        if expected is not None:
            raise ValueError("a CountingWriter cannot verify a stored MD5")

    def stop(self) -> None:
        """Nothing runs in the background."""


class VerifyingWriter(CountingWriter):
    """Writes through to *file*, hashing as it goes; *on_bytes* (if given) hears each
    chunk's length, for byte-level progress.

    Seekable (when *file* is), for the SDK's parallel download, which writes chunks at
    their offsets in the order they arrive: the MD5 must still be of the bytes in file
    order. A chunk that continues the hashed prefix is hashed as it passes; one written
    ahead of a gap is only noted, and once the gap fills its bytes are read back from
    *file* (just written: the page cache) and hashed, so memory stays flat.
    """

    def __init__(self, file: IO[bytes], on_bytes: Callable[[int], None] | None = None) -> None:
        super().__init__(file, on_bytes)
        self._md5 = hashlib.md5(usedforsecurity=False)
        # Bytes [0, _hashed) are in the MD5; which bytes were written, and past which
        # gap, is ``coverage``'s (rule IG-5), not a copy kept here.
        self._hashed = 0

    def _wrote(self, start: int, data: bytes) -> None:
        if start == self._hashed:
            self._md5.update(data)
            self._hashed += len(data)
            if self.coverage.contiguous > self._hashed:  # it filled a gap: catch up
                self._file.flush()
                self._hash_written(self.coverage.contiguous)
        # A chunk past a gap is only noted (by ``coverage``); it is read back once the
        # gap fills. A rewritten range was refused by ``coverage`` already.

    def _hash_written(self, end: int) -> None:
        """Read back bytes ``[_hashed, end)`` from the file (the page cache) and hash them."""
        descriptor = self._file.fileno()
        while self._hashed < end:
            piece = os.pread(descriptor, min(end - self._hashed, 1 << 20), self._hashed)
            if not piece:
                raise OSError(f"read back {self._hashed} of {end} bytes written")
            self._md5.update(piece)
            self._hashed += len(piece)

    @property
    def complete(self) -> bool:
        """Whether every byte written so far is in the MD5 (no gap left)."""
        return not self.coverage.gaps

    def verify(self, expected: bytes | bytearray | None, *, container: str, blob: str) -> None:
        """Raise ``IntegrityError`` if *expected* (the stored MD5) is set and differs."""
        if self.coverage.gaps:
            raise ValueError(f"bytes at {self.coverage.starts_ahead} were never verified: a gap")
        check_md5(expected, self._md5.digest(), container=container, blob=blob)


class BackgroundVerifyingWriter(VerifyingWriter):
    """A :class:`VerifyingWriter` for a parallel download: chunks are only written and
    noted here (the SDK calls ``write`` under its stream lock, so hashing there would hold
    up every other chunk's write); a thread hashes the file's contiguous prefix as it
    grows, reading it back from *file* (the page cache). Call :meth:`stop` when the
    download ends either way; :meth:`verify` waits for the hash first."""

    def __init__(self, file: IO[bytes], on_bytes: Callable[[int], None] | None = None) -> None:
        super().__init__(file, on_bytes)
        self._contiguous = 0  # bytes [0, _contiguous) are written
        self._changed = threading.Condition()
        self._stopping = False
        self._failure: OSError | None = None
        self._thread = threading.Thread(target=self._hash, name="conventions-md5", daemon=True)
        self._thread.start()

    def _wrote(self, start: int, data: bytes) -> None:
        self._file.flush()  # the hashing thread reads the file itself
        # Published under the lock and after the flush: the hashing thread reads up to
        # ``_contiguous``, never ``coverage`` (which moves before the bytes are flushed).
        contiguous = self.coverage.contiguous
        if contiguous != self._contiguous:
            with self._changed:
                self._contiguous = contiguous
                self._changed.notify()

    def _hash(self) -> None:
        try:
            while True:
                with self._changed:
                    while self._contiguous == self._hashed and not self._stopping:
                        self._changed.wait()
                    end = self._contiguous
                    if end == self._hashed:
                        return  # stopping, everything written is hashed
                self._hash_written(end)
        except OSError as error:  # reported by verify()
            self._failure = error

    def stop(self) -> None:
        """Let the hashing thread finish what was written, and end."""
        with self._changed:
            self._stopping = True
            self._changed.notify()
        self._thread.join()

    def verify(self, expected: bytes | bytearray | None, *, container: str, blob: str) -> None:
        self.stop()
        if self._failure is not None:
            raise self._failure
        super().verify(expected, container=container, blob=blob)


#: The writer of each way of hashing (``conventions._integrity_rules.choose_hashing``).
_WRITERS: dict[Hashing, type[CountingWriter]] = {
    Hashing.NONE: CountingWriter,
    Hashing.INLINE: VerifyingWriter,
    Hashing.BACKGROUND: BackgroundVerifyingWriter,
}
