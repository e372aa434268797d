"""Whether a download may skip an output whose local copy is already identical (rules IN-1 to IN-4).

Pure decisions: no I/O, no Azure import. The download code gathers what they need (the
listed blob's size, Content-MD5 and last-modified time; the local file's ``stat``; an MD5
of the local file only when asked) and the async twin reuses them unchanged::

    verdict = compare(remote, local)
    if verdict.action is Action.HASH_LOCAL:           # sizes agree; the blob has an MD5
        verdict = compare(remote, local, local_md5=md5_of_the_local_file)
    if verdict.action is Action.DOWNLOAD: ...

>>> import datetime
>>> when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
>>> remote = RemoteFile(size=3, content_md5=None, last_modified=when)
>>> compare(remote, LocalFile(size=3, mtime_ns=stamp_ns(when))).action
<Action.SKIP: 'skip'>
>>> compare(remote, LocalFile(size=3, mtime_ns=stamp_ns(when) + 1)).reason
'the local file was modified after its download (mtime differs from the stamp)'
"""

from __future__ import annotations

import datetime
import enum

import attrs

__all__ = ["Action", "LocalFile", "RemoteFile", "Verdict", "compare", "stamp_ns"]


class Action(enum.Enum):
    """What to do with one output."""

    #: Fetch the blob (and stamp the local file, rule IN-4).
    DOWNLOAD = "download"
    #: The local copy is identical: transfer nothing.
    SKIP = "skip"
    #: Sizes agree and the blob carries an MD5: hash the local file, then ask again.
    HASH_LOCAL = "hash-local"


@attrs.frozen
class RemoteFile:
    """What a listing says about a blob."""

    #: Size in bytes, or ``None`` when unknown.
    size: int | None
    #: The blob's stored Content-MD5 (16 bytes), or ``None`` when it has none.
    content_md5: bytes | None
    #: The blob's last-modified time (whole seconds, UTC), or ``None`` when unknown.
    last_modified: datetime.datetime | None


@attrs.frozen
class LocalFile:
    """What ``stat`` says about the local file at the output's target (a regular file)."""

    size: int
    mtime_ns: int


@attrs.frozen
class Verdict:
    """An :class:`Action` and why, for logs."""

    action: Action
    reason: str


def stamp_ns(last_modified: datetime.datetime) -> int:
    """The mtime (nanoseconds) a downloaded file is stamped with: the blob's last-modified
    time (rule IN-4). Storage reports whole seconds, so the stamp is a whole second too.

    >>> stamp_ns(datetime.datetime(1970, 1, 1, 0, 0, 1, tzinfo=datetime.timezone.utc))
    1000000000
    """
    return int(last_modified.timestamp()) * 1_000_000_000


def compare(
    remote: RemoteFile,
    local: LocalFile | None,
    *,
    local_md5: bytes | None = None,
    overwrite: bool = False,
) -> Verdict:
    """Decide whether one output must be downloaded (rules IN-1 to IN-3).

    *local* is ``None`` when nothing (or no regular file) is at the target. *local_md5*
    is the MD5 of the local file, given only after a ``HASH_LOCAL`` verdict.
    """
    if overwrite:
        return Verdict(Action.DOWNLOAD, "overwrite requested")
    if local is None:
        return Verdict(Action.DOWNLOAD, "no local file")
    if remote.size is None:
        return Verdict(Action.DOWNLOAD, "the blob's size is unknown")
    if local.size != remote.size:
        return Verdict(Action.DOWNLOAD, f"sizes differ ({local.size} local, {remote.size} blob)")
    if remote.content_md5 is not None:
        if local_md5 is None:
            return Verdict(Action.HASH_LOCAL, "same size; compare the MD5s")
        if bytes(local_md5) == bytes(remote.content_md5):
            return Verdict(Action.SKIP, "same size and MD5")
        return Verdict(Action.DOWNLOAD, "same size, different MD5")
    if remote.last_modified is None:
        return Verdict(Action.DOWNLOAD, "the blob has neither an MD5 nor a last-modified time")
    if local.mtime_ns == stamp_ns(remote.last_modified):
        return Verdict(Action.SKIP, "same size, and the local file carries the blob's stamp")
    if local.mtime_ns > stamp_ns(remote.last_modified):
        return Verdict(
            Action.DOWNLOAD,
            "the local file was modified after its download (mtime differs from the stamp)",
        )
    return Verdict(Action.DOWNLOAD, "the blob changed since the local copy (no MD5 to compare)")
