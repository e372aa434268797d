"""The decisions of a download, without I/O: the checks of its concurrency settings, how
many chunk threads each file gets, whether its chunks may arrive out of order (and so
are hashed on a thread), whether the local copy may be kept (the order of rules IN-1 to
IN-4), and whether what arrived is the whole blob (rule IG-5).

Pure: no threads, no sockets, no files, no Azure. ``conventions.transfer``,
``conventions._download`` and ``conventions._transport`` call these; an async twin can
call them unchanged.

>>> chunks_per_file(8, None), chunk_threads(100, 4), chunk_threads(None, 4)
(4, 1, 4)
>>> check_count(0, "max_concurrency")
Traceback (most recent call last):
...
conventions.errors.InvalidSettingError: max_concurrency 0 must be a whole number, at least 1...
"""

from __future__ import annotations

import enum

from .errors import InvalidSettingError
from .incremental import Action, LocalFile, RemoteFile, Verdict, compare
from .received import Coverage

__all__ = [
    "CONNECTION_BUDGET",
    "DEFAULT_CHUNK_CONCURRENCY",
    "FIRST_GET_SIZE",
    "PARALLEL_HASH_SIZE",
    "WrongType",
    "check_count",
    "chunk_threads",
    "chunks_out_of_order",
    "chunks_per_file",
    "file_chunk_threads",
    "first_verdict",
    "incomplete",
    "verdict_after_hash",
]

#: Parallel chunks of one large file moved by ``save`` / ``download_to_file`` (as
#: ``upload_blob(max_concurrency=8)`` in plain code).
DEFAULT_CHUNK_CONCURRENCY = 8
#: Files x chunks in flight at once, by default, in ``save_many`` and ``download``.
CONNECTION_BUDGET = 32
#: The first request of a download, in bytes (``max_single_get_size``) when the library
#: builds the client: one 4 MiB chunk, like every later one, instead of the SDK's 32 MiB.
#: A large download goes parallel after 4 MiB instead of after 32 MiB fetched on one
#: connection, and never holds a 32 MiB response in memory.
FIRST_GET_SIZE = 4 * 1024 * 1024
#: From this size up, a download in parallel chunks is hashed on a thread of its own.
PARALLEL_HASH_SIZE = 1 << 20


class WrongType(enum.Enum):
    """What :func:`check_count` raises for a value that is not an ``int``: each entry
    point keeps the error it always raised."""

    #: ``InvalidSettingError``: "must be a whole number, at least 1".
    SETTING = "setting"
    #: ``TypeError``: "<subject> must be an int, not <type>".
    TYPE = "type"
    #: Nothing of its own: the value is compared with 1 as it is.
    UNCHECKED = "unchecked"


def check_count(value: int, subject: str, wrong_type: WrongType = WrongType.SETTING) -> int:
    """*value*, if it is a count of at least 1 (files or chunks at once): the one check of
    every concurrency setting.

    >>> check_count(3, "max_concurrency")
    3
    >>> check_count(0, "max_concurrency", WrongType.TYPE)
    Traceback (most recent call last):
    ...
    conventions.errors.InvalidSettingError: max_concurrency 0 must be at least 1...
    >>> check_count(True, "max_concurrency", WrongType.TYPE)
    Traceback (most recent call last):
    ...
    TypeError: max_concurrency must be an int, not bool
    """
    if wrong_type is not WrongType.UNCHECKED and (
        isinstance(value, bool) or not isinstance(value, int)
    ):
        if wrong_type is WrongType.TYPE:
            raise TypeError(f"{subject} must be an int, not {type(value).__name__}")
        raise InvalidSettingError(value, "must be a whole number, at least 1", subject=subject)
    if value < 1:
        rule = "must be a whole number, at least 1"
        if wrong_type is not WrongType.SETTING:
            rule = "must be at least 1"
        raise InvalidSettingError(value, rule, subject=subject)
    return value


def chunks_per_file(max_concurrency: int, chunk_concurrency: int | None) -> int:
    """The parallel chunks each file gets when *max_concurrency* files run at once.

    >>> chunks_per_file(8, None), chunks_per_file(32, None), chunks_per_file(1, None)
    (4, 1, 32)
    >>> chunks_per_file(8, 2)
    2
    """
    if chunk_concurrency is not None:
        return check_count(chunk_concurrency, "chunk_concurrency", WrongType.UNCHECKED)
    check_count(max_concurrency, "max_concurrency", WrongType.UNCHECKED)
    return max(1, CONNECTION_BUDGET // max_concurrency)


def chunk_threads(size: int | None, chunks: int) -> int:
    """The chunk threads for one blob of *size* bytes (``None``: unknown) in a download
    of many files that gives each *chunks*: a blob the first request brings whole needs
    none of its own (the SDK would still seek the file for them)."""
    return 1 if size is not None and size <= FIRST_GET_SIZE else chunks


def file_chunk_threads(max_concurrency: int, parallel_writes: bool) -> int:
    """The chunk threads a download into one file uses: *max_concurrency*, or 1 when the
    file cannot take writes at offsets (*parallel_writes* false: not seekable)."""
    return max_concurrency if max_concurrency <= 1 or parallel_writes else 1


def chunks_out_of_order(threads: int, size: int) -> bool:
    """Whether a download of *size* bytes in *threads* chunk threads may write its chunks
    out of order (then it is hashed on a thread of its own, when it is hashed at all):
    chunks come in parallel only past the first request.

    >>> chunks_out_of_order(4, 5 << 20), chunks_out_of_order(1, 5 << 20)
    (True, False)
    """
    return threads > 1 and size >= PARALLEL_HASH_SIZE


def first_verdict(remote: RemoteFile, local: LocalFile | None, *, overwrite: bool) -> Verdict:
    """The first step of rules IN-1 to IN-4 for one output against the file at its
    target (*local*: ``None`` if none): ``SKIP``, ``DOWNLOAD``, or ``HASH_LOCAL`` (then
    hash the local file and take :func:`verdict_after_hash`)."""
    if overwrite:
        return compare(remote, None, overwrite=True)
    return compare(remote, local)


def verdict_after_hash(remote: RemoteFile, local: LocalFile, local_md5: bytes | None) -> Verdict:
    """The last step, once the local file was hashed (*local_md5*: ``None`` if it could
    not be read, e.g. it vanished meanwhile: then it is downloaded). Never
    ``HASH_LOCAL``."""
    verdict = compare(remote, local, local_md5=local_md5)
    if verdict.action is Action.HASH_LOCAL:  # the file vanished meanwhile
        verdict = compare(remote, None)
    return verdict


def incomplete(coverage: Coverage, expected: int) -> str | None:
    """What is wrong with a download whose writes are *coverage*, of a blob of *expected*
    bytes; ``None`` when they are exactly the whole blob (rule IG-5). What counts is what
    was written, not what the SDK reports.

    >>> coverage = Coverage()
    >>> coverage.add(0, 3)
    >>> incomplete(coverage, 5)
    'it was short (3 of 5 bytes arrived)'
    """
    if coverage.is_whole(expected):
        return None
    if coverage.gaps or coverage.contiguous != coverage.written:
        what = f"bytes are missing after byte {coverage.contiguous}"
    else:
        what = "it was short"
    return f"{what} ({coverage.written} of {expected} bytes arrived)"
