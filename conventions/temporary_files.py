"""A download's temporary files: their names, and when one left behind is stale (rule LP-6).

Pure decisions, no I/O: ``conventions._local_files`` writes each download into a
temporary file beside its target and renames it into place. A process killed in between
(SIGKILL, a lost node) leaves the temporary file; the next download into that directory
removes the stale ones it finds, and only those:

- a name it can read says which process wrote it (``.<target>.<pid>-<host>-<random>.part``):
  written on this host by a process that is gone, it is stale at once;
- any other temporary file (written on another host sharing the file system, or by an
  older version: ``.<target>.<random>.part``) is stale when untouched for
  :data:`STALE_AFTER` seconds. A live download writes all the time, and one that waits
  longer than its transfer bound has failed anyway.

>>> name = temporary_name("summary.csv", pid=42, host="a1b2c3d4", token="0f0f")
>>> name
'.summary.csv.42-a1b2c3d4-0f0f.part'
>>> writer_of(name)
(42, 'a1b2c3d4')
>>> is_stale(name, age=5.0, host="a1b2c3d4", alive=lambda pid: False)
True
>>> is_stale(name, age=5.0, host="ffffffff", alive=lambda pid: False)
False
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["STALE_AFTER", "is_stale", "is_temporary", "temporary_name", "writer_of"]

#: Seconds without a change after which a temporary file of unknown writer is stale.
STALE_AFTER = 3600.0

_OURS = re.compile(r"\..+\.(\d{1,10})-([0-9a-f]{8})-[0-9a-f]{4,32}\.part", re.ASCII | re.DOTALL)
_OLDER = re.compile(r"\..+\.[0-9a-f]{8}\.part", re.ASCII | re.DOTALL)


def temporary_name(target: str, *, pid: int, host: str, token: str) -> str:
    """The temporary file a download of *target* writes first (at most 40 characters of
    the target's name are kept, so that the temporary name stays under ``NAME_MAX``)."""
    return f".{target[:40]}.{pid}-{host}-{token}.part"


def is_temporary(name: str) -> bool:
    """Whether *name* is a download's temporary file (this version's or an older one's).

    >>> is_temporary(".a.txt.9-0123abcd-ffff.part"), is_temporary(".a.txt.0123abcd.part")
    (True, True)
    >>> is_temporary("a.part"), is_temporary(".a.txt.part")
    (False, False)
    """
    return bool(_OURS.fullmatch(name) or _OLDER.fullmatch(name))


def writer_of(name: str) -> tuple[int, str] | None:
    """The process ID and host of the download that named *name*, if the name says."""
    match = _OURS.fullmatch(name)
    return None if match is None else (int(match.group(1)), match.group(2))


def is_stale(name: str, *, age: float, host: str, alive: Callable[[int], bool]) -> bool:
    """Whether the temporary file *name*, untouched for *age* seconds, is left over from
    a download that will never finish. *host* is this host's tag; *alive* tells whether a
    process of this host is still running."""
    if not is_temporary(name):
        return False
    if age >= STALE_AFTER:
        return True
    writer = writer_of(name)
    return writer is not None and writer[1] == host and not alive(writer[0])
