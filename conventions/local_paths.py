"""Where outputs go on the local disk, and which local files a save accepts (rules LP-1 to LP-5).

Pure decisions: no I/O, no Azure import. ``conventions._local_files`` does the I/O that
these decide, and the async twin reuses them.

>>> from conventions.blobs import parse_blob_name
>>> local_parts(parse_blob_name("t1/$TaskOutput/a/b.txt"))
('t1', 'a', 'b.txt')
>>> local_parts(parse_blob_name("$JobOutput/summary.csv"))
('summary.csv',)
"""

from __future__ import annotations

import errno
import posixpath
import stat
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import attrs

from .errors import InvalidPathError, LocalPathError
from .paths import local_relative_path

__all__ = [
    "NAME_MAX",
    "LocalTarget",
    "check_distinct_blobs",
    "local_parts",
    "local_targets",
    "not_a_regular_file",
]

#: The longest file or directory name, in bytes, on Linux file systems (ext4, xfs, btrfs,
#: tmpfs: ``NAME_MAX``). A whole path has no limit here: downloads open one level at a time.
NAME_MAX = 255


class Located(Protocol):
    """Anything that says where a blob sits: a ``BlobLocation`` or an ``OutputFileReference``."""

    @property
    def task_id(self) -> str | None: ...

    @property
    def path(self) -> str: ...

    @property
    def blob_name(self) -> str: ...


def local_parts(location: Located) -> tuple[str, ...]:
    """The local path of an output, as segments below the download's destination (rule LP-1).

    ``<task id>/<path>`` for a task output, ``<path>`` for a job output; the path is the
    stored one read by rule RP-1 (``local_relative_path``: any form .NET writes, such as
    ``a\\b``, mapped inside the destination), so no segment is empty, ``.``, ``..`` or
    holds ``\\``.

    Raises:
        InvalidPathError: the stored path climbs out of its folder (rule RP-1).
    """
    parts = tuple(local_relative_path(location.path).split("/"))
    return parts if location.task_id is None else (location.task_id, *parts)


@attrs.frozen
class LocalTarget:
    """Where one output goes: its blob and the segments of its local path below *root*."""

    blob_name: str
    root: str
    parts: tuple[str, ...]

    @property
    def path(self) -> str:
        """The local path as text, for messages."""
        return posixpath.join(self.root, *self.parts)


def _too_long(parts: tuple[str, ...]) -> str | None:
    for segment in parts:
        # Temporary files are '.<first 40 characters>.<8 hex>.part': at most 175 bytes.
        if len(segment.encode("utf-8", "surrogateescape")) > NAME_MAX:
            return segment
    return None


def local_targets(
    root: str,
    outputs: Sequence[Located],
    claimed: Mapping[tuple[str, ...], str] | None = None,
) -> list[LocalTarget | LocalPathError]:
    """Decide where each of *outputs* goes below *root*, or why it cannot go anywhere.

    One entry per output, in order. An output gets a ``LocalPathError`` (and is not written)
    when a segment of its local path is longer than ``NAME_MAX`` bytes (rule LP-2), when an
    earlier output already goes to the same local path, or when its path is also the folder
    of another output's path: ``x`` and ``x/y`` cannot both exist, and the folder wins, so
    ``x`` is the one reported whatever the order (rule LP-3).

    *claimed* maps the local paths (as segments) that earlier downloads into *root* already
    wrote to the blob written there (``watch``'s earlier rounds): those stay, so an output
    whose path is claimed by another blob, or is the folder of a claimed path, or lies
    below a claimed file, is refused whatever else is listed; the blob that claimed a path
    keeps it.

    >>> from conventions.blobs import parse_blob_name as p
    >>> [str(t) if isinstance(t, Exception) else t.path for t in local_targets(
    ...     "/d", [p("t/$TaskOutput/x"), p("t/$TaskOutput/x/y")])]  # doctest: +ELLIPSIS
    ["blob 't/$TaskOutput/x' cannot be written to '/d/t/x': ... (rule LP-3)", '/d/t/x/y']
    """
    claimed = claimed or {}
    claimed_folders: dict[tuple[str, ...], str] = {}  # folder -> a claimed blob below it
    for parts, blob in claimed.items():
        for depth in range(1, len(parts)):
            claimed_folders.setdefault(parts[:depth], blob)
    decided: list[LocalTarget | LocalPathError] = []
    folders: dict[tuple[str, ...], str] = {}  # folder -> first blob that needs it
    for output in outputs:
        try:
            target = LocalTarget(output.blob_name, root, local_parts(output))
        except InvalidPathError as error:
            decided.append(
                LocalPathError(
                    f"blob {output.blob_name!r} cannot be written below {root!r}: {error}",
                    path=root,
                    blob=output.blob_name,
                    errno=errno.EINVAL,
                )
            )
            continue
        long_segment = _too_long(target.parts)
        if long_segment is not None:
            size = len(long_segment.encode("utf-8", "surrogateescape"))
            decided.append(
                LocalPathError(
                    f"blob {target.blob_name!r} cannot be written to {target.path!r}: the name "
                    f"{long_segment[:40]!r}... is {size} bytes long; local file names have at "
                    f"most {NAME_MAX} (rule LP-2)",
                    path=target.path,
                    blob=target.blob_name,
                    errno=errno.ENAMETOOLONG,
                )
            )
            continue
        refusal = _claim_refusal(target, claimed, claimed_folders)
        if refusal is not None:
            decided.append(refusal)
            continue
        decided.append(target)
        for depth in range(1, len(target.parts)):
            folders.setdefault(target.parts[:depth], target.blob_name)
    taken: dict[tuple[str, ...], str] = {}
    for index, entry in enumerate(decided):
        if isinstance(entry, LocalPathError):
            continue
        if claimed.get(entry.parts) == entry.blob_name:
            taken[entry.parts] = entry.blob_name  # its own path, from an earlier round
            continue
        if entry.parts in folders:
            reason = (
                f"that path is the folder of blob {folders[entry.parts]!r}, which is "
                "downloaded instead"
            )
            code = errno.EISDIR
        elif entry.parts in taken:
            reason = f"blob {taken[entry.parts]!r} is downloaded to the same local path"
            code = errno.EEXIST
        else:
            taken[entry.parts] = entry.blob_name
            continue
        decided[index] = LocalPathError(
            f"blob {entry.blob_name!r} cannot be written to {entry.path!r}: {reason} (rule LP-3)",
            path=entry.path,
            blob=entry.blob_name,
            errno=code,
        )
    return decided


def _claim_refusal(
    target: LocalTarget,
    claimed: Mapping[tuple[str, ...], str],
    claimed_folders: Mapping[tuple[str, ...], str],
) -> LocalPathError | None:
    """Why *target* cannot go where an earlier download already wrote (rule LP-3), if so."""
    owner = claimed.get(target.parts)
    if owner == target.blob_name:
        return None
    if owner is not None:
        reason = f"blob {owner!r} was downloaded to the same local path earlier"
        code = errno.EEXIST
    elif target.parts in claimed_folders:
        reason = (
            f"that path is the folder of blob {claimed_folders[target.parts]!r}, downloaded earlier"
        )
        code = errno.EISDIR
    else:
        above = next(
            (target.parts[:depth] for depth in range(1, len(target.parts))
             if target.parts[:depth] in claimed),
            None,
        )  # fmt: skip
        if above is None:
            return None
        reason = (
            f"its folder {posixpath.join(target.root, *above)!r} is the file of blob "
            f"{claimed[above]!r}, downloaded earlier"
        )
        code = errno.ENOTDIR
    return LocalPathError(
        f"blob {target.blob_name!r} cannot be written to {target.path!r}: {reason} (rule LP-3)",
        path=target.path,
        blob=target.blob_name,
        errno=code,
    )


_FILE_TYPES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISLNK, "a symbolic link"),
)


def not_a_regular_file(mode: int) -> str | None:
    """What a file of *mode* (``st_mode``) is, if a save cannot read it as a file (rule LP-4).

    >>> not_a_regular_file(stat.S_IFIFO | 0o644)
    'a FIFO (named pipe)'
    >>> not_a_regular_file(stat.S_IFREG | 0o644) is None
    True
    """
    if stat.S_ISREG(mode):
        return None
    for test, name in _FILE_TYPES:
        if test(mode):
            return name
    return "not a regular file"


def check_distinct_blobs(pairs: Iterable[tuple[str, str]]) -> None:
    """Raise if two ``(local path, blob name)`` pairs share a blob name (rule LP-5).

    >>> check_distinct_blobs([("../stdout.txt", "t/$TaskLog/stdout.txt"),
    ...                       ("stdout.txt", "t/$TaskLog/stdout.txt")])
    Traceback (most recent call last):
    ...
    conventions.errors.InvalidPathError: path 'stdout.txt' ... '../stdout.txt' ... (rule LP-5)
    """
    seen: dict[str, str] = {}
    for local, blob in pairs:
        first = seen.setdefault(blob, local)
        if first != local:
            raise InvalidPathError(
                local,
                f"and {first!r} would both be saved as blob {blob!r}, and one would be lost; "
                "save them under different destinations (rule LP-5)",
            )
