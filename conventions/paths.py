"""How a local relative path becomes the path under a kind (rule DP-1), and how a stored
path is read back to a local one (rule RP-1).

Pure: no I/O, no Azure import.
"""

from __future__ import annotations

import re

from .errors import InvalidPathError

__all__ = ["destination_path", "local_relative_path"]

# Rooted on POSIX ("/x") or Windows ("\x", "\\server\share" UNC), or carrying a
# drive ("C:\x", and the drive-relative "C:x").
_ABSOLUTE = re.compile(r"[/\\]|[A-Za-z]:", re.ASCII)
# C0 controls (NUL among them) are illegal in blob names; lone surrogates come
# from undecodable file names (os.fsdecode) and cannot be sent as UTF-8.
_FORBIDDEN = re.compile(r"[\x00-\x1f\ud800-\udfff]")


def destination_path(relative_path: str) -> str:
    r"""Return the blob path, under a kind, for the local *relative_path* (rule DP-1).

    ``\`` becomes ``/``; leading ``..`` segments (any number, either separator) are
    dropped, as .NET does for ``..\stdout.txt``; ``.`` segments, empty segments and
    ``x/..`` pairs are resolved. The result never starts with ``/`` or ``..`` and
    applying the function again changes nothing.

    >>> destination_path(r"File\Under\TestText2.txt")
    'File/Under/TestText2.txt'
    >>> destination_path("../../x.txt")        # .NET loops forever here
    'x.txt'
    >>> destination_path("out/./a/../b.txt")
    'out/b.txt'

    Raises:
        InvalidPathError: *relative_path* is empty, absolute, holds a control
            character, names a directory or a name ending in ``.``, or escapes
            upwards after a real segment (``a/../../x``).
    """
    if not isinstance(relative_path, str) or not relative_path:
        raise InvalidPathError(relative_path, "must be a non-empty string (rule DP-1)")
    if _ABSOLUTE.match(relative_path):
        raise InvalidPathError(relative_path, "must be relative, not absolute (rule DP-1)")
    if _FORBIDDEN.search(relative_path):
        raise InvalidPathError(
            relative_path,
            "must not contain control characters or undecodable bytes (rule DP-1)",
        )
    kept = _resolve_segments(relative_path, "DP-1")
    if not kept:
        raise InvalidPathError(relative_path, "must name a file, not a directory (rule DP-1)")
    if _ABSOLUTE.match(kept[0]):
        # "x/../C:y" would otherwise become "C:y", which reads as a drive.
        raise InvalidPathError(relative_path, "must be relative, not absolute (rule DP-1)")
    if kept[-1].endswith("."):
        # Azure rejects or mangles blob names that end in '.'.
        raise InvalidPathError(relative_path, "must not end with '.' (rule BN-2)")
    return "/".join(kept)


def local_relative_path(stored_path: str) -> str:
    r"""Return the local relative path for the *stored_path* of a blob under a kind (rule RP-1).

    The reading twin of :func:`destination_path`: it accepts every path .NET's writers
    store (``a\b.txt``, ``..\x.txt``, ``a//b``, ``C:x``, ``a:b.txt``; decisions D-3,
    D-17, D-19, D-41) and maps it to a path that stays inside the download directory:
    ``\`` is a separator, empty segments are dropped, leading ``..`` segments are
    dropped as the writers do, and ``x/..`` pairs are resolved. It only computes a
    string; the download still checks that the target resolves inside its directory
    (D-23), which also stops a drive form such as ``C:x`` on Windows.

    >>> local_relative_path("a//b.txt"), local_relative_path(r"..\logs\run.txt")
    ('a/b.txt', 'logs/run.txt')
    >>> local_relative_path("./x")
    Traceback (most recent call last):
    ...
    conventions.errors.InvalidPathError: path './x' must not hold a '.' or '..' segment ... D-16)

    Raises:
        InvalidPathError: *stored_path* is empty, holds a control character, a
            ``/``-separated ``.`` or ``..`` segment (URL clients and the service resolve
            those, so no such blob can be read by name; decision D-16), names a
            directory, or climbs above its first directory.
    """
    if not isinstance(stored_path, str) or not stored_path:
        raise InvalidPathError(stored_path, "must be a non-empty string (rule RP-1)")
    if _FORBIDDEN.search(stored_path):
        raise InvalidPathError(
            stored_path, "must not contain control characters or undecodable bytes (rule RP-1)"
        )
    if {".", ".."} & set(stored_path.split("/")):
        raise InvalidPathError(
            stored_path,
            "must not hold a '.' or '..' segment between '/' separators: URLs resolve them, "
            "so the blob cannot be read by its name (rule RP-1, decision D-16)",
        )
    return "/".join(_resolve_segments(stored_path, "RP-1"))


def _resolve_segments(path: str, rule: str) -> list[str]:
    """The segments of *path* (``/`` or ``\\`` separated) with empty and ``.`` segments
    dropped, leading ``..`` segments dropped (as .NET strips ``..\\stdout.txt``) and
    ``x/..`` pairs resolved; what DP-1 (writing) and RP-1 (reading) share."""
    segments = path.replace("\\", "/").split("/")
    if segments[-1] in ("", ".", ".."):
        raise InvalidPathError(path, f"must name a file, not a directory (rule {rule})")
    kept: list[str] = []
    leading = True  # still in the run of leading '..' (and '.') segments
    for segment in segments:
        if segment in ("", "."):
            continue
        if segment == "..":
            if kept:
                kept.pop()
            elif not leading:
                raise InvalidPathError(
                    path, f"must not climb above its first directory (rule {rule})"
                )
            continue
        leading = False
        kept.append(segment)
    return kept
