"""The local side of a tracked save: the growing file, opened without blocking, checked.

Kept apart from :mod:`conventions.tracked` (the blob side and the thread): opening the
source without blocking on a FIFO, noticing that it was replaced, removed, truncated or
rewritten, and the errors that say so. No storage I/O here.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

from .errors import (
    TrackedFileChangedError,
    TrackedFileReplacedError,
    TrackedFileTruncatedError,
    TrackedSourceError,
)

__all__ = ["TrackedSource", "read_at"]

_VERIFY_CHUNK = 1024 * 1024
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO must not block open()
_O_BINARY = getattr(os, "O_BINARY", 0)


class TrackedSource:
    """The tracked file: *where* and *names* say which save, for the errors."""

    def __init__(self, path: Path, where: str, names: dict[str, str]) -> None:
        self.path = path
        self._where = where
        self._names = names
        #: ``(st_dev, st_ino)`` once the file was seen; another one means it was replaced.
        self.identity: tuple[int, int] | None = None

    def open(self, uploaded: int) -> tuple[BinaryIO, os.stat_result] | None:
        """Open the source without blocking (a FIFO would), or None if not there yet."""
        try:
            fd = os.open(self.path, os.O_RDONLY | _O_NONBLOCK | _O_BINARY)
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise self.not_regular(stat.S_IFDIR) from None
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            os.close(fd)
            raise self.not_regular(status.st_mode)
        file = os.fdopen(fd, "rb")
        identity = (status.st_dev, status.st_ino)
        if self.identity is not None and identity != self.identity:
            file.close()
            raise TrackedFileReplacedError(
                f"{self._where}: the file was replaced by another file after "
                f"{uploaded} bytes were uploaded",
                **self._names,
            )
        self.identity = identity
        return file, status

    def verify(self, uploaded: int, digest: bytes) -> None:
        """Re-read the first *uploaded* bytes and compare their SHA-256 with *digest*:
        catches in-place rewrites and truncations that grew back (one more read)."""
        opened = self.open(uploaded)
        if opened is None:
            raise self.removed(uploaded)
        file, _ = opened
        check = hashlib.sha256()
        with file:
            left = uploaded
            while left:
                chunk = file.read(min(left, _VERIFY_CHUNK))
                if not chunk:
                    raise self.truncated("shrank while it was checked", uploaded)
                check.update(chunk)
                left -= len(chunk)
        if check.digest() != digest:
            raise TrackedFileChangedError(
                f"{self._where}: bytes of the file that were already uploaded changed "
                f"(checked at close over the first {uploaded} bytes); the blob holds "
                "what the file held when they were uploaded; tracked files may only grow",
                **self._names,
            )

    def not_regular(self, mode: int) -> TrackedSourceError:
        what = (
            "a directory"
            if stat.S_ISDIR(mode)
            else "a FIFO"
            if stat.S_ISFIFO(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "not a regular file"
        )
        return TrackedSourceError(
            f"{self._where}: the source is {what}; only a regular file can be tracked",
            **self._names,
        )

    def removed(self, uploaded: int) -> TrackedFileReplacedError:
        return TrackedFileReplacedError(
            f"{self._where}: the file was removed after {uploaded} bytes were uploaded",
            **self._names,
        )

    def truncated(self, what: str, uploaded: int) -> TrackedFileTruncatedError:
        return TrackedFileTruncatedError(
            f"{self._where}: the file {what}, but {uploaded} bytes were already "
            "uploaded; tracked files may only grow",
            **self._names,
        )

    def changed(self, uploaded: int) -> TrackedFileChangedError:
        return TrackedFileChangedError(
            f"{self._where}: the file changed before the end of what was uploaded "
            f"({uploaded} bytes); tracked files may only grow",
            **self._names,
        )


def read_at(file: BinaryIO, offset: int, length: int) -> bytes:
    """At most *length* bytes of *file* from *offset* (one file-level step: the async face
    runs it in a thread)."""
    file.seek(offset)
    return file.read(length)
