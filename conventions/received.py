"""What a download received: whether one answer covers exactly the range asked, and which
bytes of the whole were written (spec "Integrity", rule IG-5).

Pure decisions, no I/O: the download code feeds them the headers of each answer and the
offset and length of each write. azure-storage-blob trusts an answer's framing: a
connection closed inside a response head can leave a ``206`` with no headers and an empty
body, which it writes as nothing (a file 4 MiB short) or as a hole of zeros (parallel
chunks), and it reports the size it expected, not what arrived. Checked here, such an
answer is refused (and retried like a dropped connection), and a download is complete
only when its writes cover every byte of the blob exactly once.

>>> range_problem("bytes=0-9", 206, {"Content-Range": "bytes 0-9/100", "Content-Length": "10"})
>>> range_problem("bytes=10-19", 206, {})
'a 206 answer without Content-Range (a cut response head?)'
>>> coverage = Coverage()
>>> coverage.add(0, 4); coverage.add(8, 2); coverage.contiguous
4
>>> coverage.add(4, 4); coverage.contiguous, coverage.is_whole(10)
(10, True)
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["Coverage", "range_problem"]

_RANGE = re.compile(r"bytes=(\d+)-(\d*)", re.ASCII)
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)", re.ASCII)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # case-insensitive mappings answer the first get already
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return None if value is None else str(value).strip()


def range_problem(requested: str | None, status: int, headers: Mapping[str, str]) -> str | None:
    """Why the answer to a blob GET cannot be used as it stands, or ``None`` if it can
    (rule IG-5).

    *requested* is the request's ``x-ms-range``/``Range`` header (``bytes=<a>-<b>``) or
    ``None``; *status* and *headers* are the answer's. Only successful answers are judged
    (the SDK raises for the others). A ``206`` must say, in ``Content-Range``, that it
    holds exactly the bytes asked for (up to the blob's end) and, in ``Content-Length``,
    as many bytes; a ``200`` must say how long it is.

    >>> range_problem("bytes=0-9", 206, {"Content-Range": "bytes 0-4/5", "Content-Length": "5"})
    >>> range_problem("bytes=0-9", 206, {"Content-Range": "bytes 0-9/20", "Content-Length": "4"})
    'Content-Length 4 for bytes 0-9 (a cut response head?)'
    >>> range_problem("bytes=4-9", 206, {"Content-Range": "bytes 0-5/20", "Content-Length": "6"})
    'Content-Range bytes 0-5/20 answers bytes=4-9'
    >>> range_problem(None, 200, {"Content-Length": "0"})
    >>> range_problem(None, 200, {})
    'a 200 answer without Content-Length (a cut response head?)'
    """
    if not 200 <= status < 300:
        return None
    length_text = _header(headers, "Content-Length")
    if status != 206:
        if length_text is None or not length_text.isdigit():
            return f"a {status} answer without Content-Length (a cut response head?)"
        return None
    content_range = _header(headers, "Content-Range")
    if content_range is None:
        return "a 206 answer without Content-Range (a cut response head?)"
    answered = _CONTENT_RANGE.fullmatch(content_range)
    if answered is None:
        return f"an unreadable Content-Range {content_range!r}"
    first, last, total = (int(group) for group in answered.groups())
    asked = _RANGE.fullmatch(requested or "")
    if asked is not None:
        start = int(asked.group(1))
        end = int(asked.group(2)) if asked.group(2) else total - 1
        if first != start or last != min(end, total - 1):
            return f"Content-Range {content_range} answers {requested}"
    if length_text is None or not length_text.isdigit() or int(length_text) != last - first + 1:
        return f"Content-Length {length_text} for bytes {first}-{last} (a cut response head?)"
    return None


class Coverage:
    """The byte ranges a download wrote, to tell whether they make the whole blob.

    Writes may come out of order (parallel chunks); a byte written twice is refused.
    Memory holds only the ranges written past a gap.
    """

    __slots__ = ("_ahead", "contiguous", "written")

    def __init__(self) -> None:
        #: Bytes ``[0, contiguous)`` are all written.
        self.contiguous = 0
        #: Bytes written in all.
        self.written = 0
        self._ahead: dict[int, int] = {}  # start -> end of ranges past a gap

    def add(self, start: int, length: int) -> None:
        """Note that *length* bytes were written at *start*.

        Raises:
            ValueError: some of them were written before.
        """
        if length <= 0:
            return
        end = start + length
        if start < self.contiguous or any(
            start < later_end and later_start < end
            for later_start, later_end in self._ahead.items()
        ):
            raise ValueError(f"bytes {start}-{end - 1} were written twice")
        self.written += length
        if start == self.contiguous:
            self.contiguous = end
            while (after := self._ahead.pop(self.contiguous, None)) is not None:
                self.contiguous = after
        else:
            self._ahead[start] = end

    @property
    def gaps(self) -> bool:
        """Whether something was written past a range not written yet."""
        return bool(self._ahead)

    @property
    def starts_ahead(self) -> list[int]:
        """Where the ranges written past a gap start, in order."""
        return sorted(self._ahead)

    def is_whole(self, size: int) -> bool:
        """Whether the writes are exactly bytes ``[0, size)``."""
        return not self._ahead and self.contiguous == size == self.written
