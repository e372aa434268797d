"""What one round of ``watch`` does: a pure decision over the round's listing and what the
earlier rounds did (rules LP-1 to LP-5 across rounds, decision D-70).

No I/O, no Azure import: ``conventions.transfer.watch`` lists, asks :meth:`WatchLedger.plan`,
downloads what it says and tells the ledger what was written.

>>> from conventions.blobs import read_blob_name
>>> class Out:
...     def __init__(self, name, etag):
...         location = read_blob_name(name)
...         self.blob_name, self.task_id, self.path = name, location.task_id, location.path
...         self.etag = etag
>>> ledger = WatchLedger()
>>> first = ledger.plan("/d", [Out("t/$TaskOutput/a//b", "1"), Out("t/$TaskOutput/a/b", "1")])
>>> [o.blob_name for o, _ in first.downloads], [o.blob_name for o, _ in first.refused]
(['t/$TaskOutput/a//b'], ['t/$TaskOutput/a/b'])
>>> ledger.done(first.downloads[0][0])
>>> second = ledger.plan("/d", [Out("t/$TaskOutput/a/b", "1")])  # the winner left the listing
>>> second.downloads, second.refused  # still refused (and reported once), never written
((), ())
>>> third = ledger.plan("/d", [Out("t/$TaskOutput/a/b", "2")])  # a new version: reported
>>> print(third.refused[0][1])  # doctest: +ELLIPSIS
blob 't/$TaskOutput/a/b' cannot be written to '/d/t/a/b': blob ... earlier (rule LP-3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

import attrs

from .errors import LocalPathError
from .local_paths import LocalTarget, Located, local_parts, local_targets

__all__ = ["Round", "WatchLedger", "Watched"]


class Watched(Located, Protocol):
    """A listed output: where it goes (``Located``) and which version it is."""

    @property
    def etag(self) -> str | None: ...


_O = TypeVar("_O", bound=Watched)

_NOT_YET = ""  # no ETag is empty: "never handled" (an ETag may be None)


@attrs.frozen
class Round(Generic[_O]):
    """What one round does: the outputs to download (each with its target), the refusals to
    report, and whether anything was news (a new blob or a new version)."""

    downloads: tuple[tuple[_O, LocalTarget], ...]
    refused: tuple[tuple[_O, LocalPathError], ...]
    news: bool


class WatchLedger(Generic[_O]):
    """What the rounds of one ``watch`` did, and what the next round does.

    Every round decides the local targets of its whole listing (LP-1 to LP-3) against the
    paths earlier rounds wrote (*claimed*), so two blobs that map to one local path never
    both land there, whichever round each appears in. An output already handled at its
    ETag is left alone; one that failed is tried again (not news); a refused version is
    reported once (it is decided again every round, and downloaded once nothing is in its
    way).
    """

    def __init__(self) -> None:
        #: blob name -> ETag downloaded or skipped (identical).
        self.handled: dict[str, str | None] = {}
        #: local path (segments) -> the blob written there by an earlier round.
        self.claimed: dict[tuple[str, ...], str] = {}
        self._seen: dict[str, str | None] = {}  # blob name -> ETag last considered
        self._refused: dict[str, str | None] = {}  # blob name -> ETag refused and reported

    def plan(self, root: str, listing: Sequence[_O]) -> Round[_O]:
        """The round for *listing* (the whole current listing) below *root*."""
        decided = local_targets(root, listing, self.claimed)
        downloads: list[tuple[_O, LocalTarget]] = []
        refused: list[tuple[_O, LocalPathError]] = []
        news = False
        for output, target in zip(listing, decided, strict=True):
            name, etag = output.blob_name, output.etag
            if self.handled.get(name, _NOT_YET) == etag:
                continue
            if self._seen.get(name, _NOT_YET) != etag:
                news = True
                self._seen[name] = etag
            if isinstance(target, LocalPathError):
                if self._refused.get(name, _NOT_YET) != etag:
                    self._refused[name] = etag
                    refused.append((output, target))
            else:
                self._refused.pop(name, None)
                downloads.append((output, target))
        return Round(tuple(downloads), tuple(refused), news)

    def done(self, output: _O) -> None:
        """*output*, one of the round's downloads, is on disk at its target (downloaded,
        or identical and skipped)."""
        self.handled[output.blob_name] = output.etag
        self.claimed[local_parts(output)] = output.blob_name
