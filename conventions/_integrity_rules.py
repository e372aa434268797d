"""The decisions of Content-MD5 end to end (spec "Integrity", rules IG-2 to IG-4), without
I/O: whether a download hashes and where, whether an upload hashes on a thread of its
own, whether a changed blob is read again, and whether a digest matches.

Pure: no threads, no files, no Azure. The hashing readers and writers that act on these
decisions are in ``conventions._integrity``.

>>> choose_hashing(None, parallel=True)
<Hashing.NONE: 'none'>
>>> choose_hashing(b"0123456789abcdef", parallel=False)
<Hashing.INLINE: 'inline'>
"""

from __future__ import annotations

import enum

from .errors import IntegrityError

__all__ = [
    "BACKGROUND_HASH_SIZE",
    "CHANGED_ATTEMPTS",
    "Hashing",
    "check_md5",
    "choose_hashing",
    "hash_upload_in_background",
    "read_again_after_change",
]

#: Reads of a blob that changed between a download's requests, in all (rule IG-4).
CHANGED_ATTEMPTS = 3

#: From this size up, an upload is hashed on a thread of its own (one 4 MiB block: below
#: it, a thread costs more than the hashing it moves).
BACKGROUND_HASH_SIZE = 4 * 1024 * 1024


def read_again_after_change(attempt: int) -> bool:
    """Whether a download whose *attempt*-th read (from 1) found the blob changed
    reads it again from its start (rule IG-4).

    >>> [read_again_after_change(n) for n in (1, 2, 3)]
    [True, True, False]
    """
    return attempt < CHANGED_ATTEMPTS


def hash_upload_in_background(size: int) -> bool:
    """Whether an upload of *size* bytes is hashed on a thread of its own.

    >>> hash_upload_in_background(4 * 1024 * 1024), hash_upload_in_background(10)
    (True, False)
    """
    return size >= BACKGROUND_HASH_SIZE


class Hashing(enum.Enum):
    """How a download hashes what it writes."""

    #: Nothing to compare with (rule IG-3): hashing would only cost CPU.
    NONE = "none"
    #: In line, as each chunk passes (chunks arrive in order, or nearly).
    INLINE = "inline"
    #: On a thread of its own, reading back the written prefix (parallel chunks).
    BACKGROUND = "background"


def choose_hashing(stored_md5: bytes | None, *, parallel: bool) -> Hashing:
    """How a download hashes, once its first response told the version's stored MD5:
    not at all without one, in line, or on a thread of its own when chunks may arrive
    out of order (*parallel*)."""
    if stored_md5 is None:
        return Hashing.NONE
    return Hashing.BACKGROUND if parallel else Hashing.INLINE


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
