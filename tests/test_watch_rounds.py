"""``conventions.watching.WatchLedger``, the pure decision of each ``watch`` round (D-70),
without I/O: rounds of listings that collide on local paths, as a Hypothesis state machine."""

from __future__ import annotations

import errno
from typing import Any

import attrs
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from conventions.blobs import read_blob_name
from conventions.errors import LocalPathError
from conventions.local_paths import local_targets
from conventions.watching import WatchLedger

from .vectors import cases


@attrs.frozen
class Out:
    blob_name: str
    task_id: str | None
    path: str
    etag: str | None


def out(name: str, etag: str | None) -> Out:
    location = read_blob_name(name)
    return Out(name, location.task_id, location.path, etag)


# Names that collide: "a//b", "a/b" and "a\\b" all map to t/a/b; "a" is its folder; "a/b/c"
# is below it; "z" collides with nothing.
NAMES = [
    "t/$TaskOutput/a//b",
    "t/$TaskOutput/a/b",
    "t/$TaskOutput/a\\b",
    "t/$TaskLog/a/b",
    "t/$TaskOutput/a",
    "t/$TaskOutput/a/b/c",
    "t/$TaskOutput/z",
]


def _prefixes(parts: tuple[str, ...]) -> set[tuple[str, ...]]:
    return {parts[:depth] for depth in range(1, len(parts))}


class WatchRounds(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger: WatchLedger[Out] = WatchLedger()
        self.owners: dict[tuple[str, ...], str] = {}  # every path ever written -> its blob
        self.rounds = 0

    @rule(
        listing=st.lists(
            st.tuples(st.sampled_from(NAMES), st.sampled_from(["1", "2", None])),
            unique_by=lambda item: item[0],
        ),
        landed=st.lists(st.booleans(), min_size=len(NAMES), max_size=len(NAMES)),
    )
    def a_round(self, listing: list[tuple[str, str | None]], landed: list[bool]) -> None:
        listing = sorted(listing)  # listings come in blob-name order
        outputs = [out(name, etag) for name, etag in listing]
        claimed_before = dict(self.ledger.claimed)
        plan = self.ledger.plan("/d", outputs)
        if not claimed_before:  # nothing written yet: exactly a one-shot download's decision
            one_shot = local_targets("/d", outputs)
            expected = {
                o.blob_name for o, t in zip(outputs, one_shot, strict=True)
                if not isinstance(t, LocalPathError)
            }  # fmt: skip
            assert {o.blob_name for o, _ in plan.downloads} <= expected
        targets = [target.parts for _, target in plan.downloads]
        assert len(set(targets)) == len(targets)  # one file per local path in a round
        for output, target in plan.downloads:
            parts = target.parts
            assert not _prefixes(parts) & set(targets)  # no file where a folder goes
            assert claimed_before.get(parts, output.blob_name) == output.blob_name
            assert parts not in {p for c in claimed_before for p in _prefixes(c)}
            assert not _prefixes(parts) & set(claimed_before)
        for _, error in plan.refused:
            assert isinstance(error, LocalPathError)
            assert "rule LP-" in str(error)
        for (output, target), ok in zip(plan.downloads, landed, strict=False):
            if ok:  # downloaded (or skipped); else an I/O failure, tried again next round
                self.ledger.done(output)
                previous = self.owners.setdefault(target.parts, output.blob_name)
                assert previous == output.blob_name  # a path never changes hands
        self.rounds += 1

    @invariant()
    def claims_are_files_not_folders_of_each_other(self) -> None:
        claimed = set(self.ledger.claimed)
        for parts in claimed:
            assert not _prefixes(parts) & claimed

    @invariant()
    def each_blob_claims_one_path(self) -> None:
        blobs = list(self.ledger.claimed.values())
        assert len(set(blobs)) == len(blobs)


WatchRounds.TestCase.settings = settings(max_examples=200, stateful_step_count=8, deadline=None)
test_watch_rounds = WatchRounds.TestCase


def test_a_refusal_is_reported_once_per_version_and_a_failure_is_tried_again() -> None:
    ledger: WatchLedger[Out] = WatchLedger()
    listing = [out("t/$TaskOutput/a//b", "1"), out("t/$TaskOutput/a/b", "1")]
    first = ledger.plan("/d", listing)
    assert first.news
    assert [o.blob_name for o, _ in first.refused] == ["t/$TaskOutput/a/b"]
    # The winner failed (not done): tried again, not news; the refusal is not repeated.
    second = ledger.plan("/d", listing)
    assert not second.news
    assert [o.blob_name for o, _ in second.downloads] == ["t/$TaskOutput/a//b"]
    assert second.refused == ()
    ledger.done(second.downloads[0][0])
    third = ledger.plan("/d", [out("t/$TaskOutput/a//b", "1"), out("t/$TaskOutput/a/b", "2")])
    assert third.news
    assert third.downloads == ()
    assert [o.blob_name for o, _ in third.refused] == ["t/$TaskOutput/a/b"]
    assert "downloaded to the same local path earlier" in str(third.refused[0][1])


def test_the_owner_of_a_path_keeps_it_when_a_new_blob_sorts_before_it() -> None:
    ledger: WatchLedger[Out] = WatchLedger()
    ((owner, _),) = ledger.plan("/d", [out("t/$TaskOutput/a/b", "1")]).downloads
    ledger.done(owner)
    plan = ledger.plan("/d", [out("t/$TaskOutput/a//b", "1"), out("t/$TaskOutput/a/b", "2")])
    assert [o.blob_name for o, _ in plan.downloads] == ["t/$TaskOutput/a/b"]  # its new version
    assert [o.blob_name for o, _ in plan.refused] == ["t/$TaskOutput/a//b"]


@pytest.mark.parametrize("case", cases("watch_rounds.json"))
def test_watch_round_vectors(case: dict[str, Any]) -> None:
    ledger: WatchLedger[Out] = WatchLedger()
    for number, expected in enumerate(case["rounds"], start=1):
        plan = ledger.plan("/d", [out(name, etag) for name, etag in expected["listing"]])
        got_refused = [
            [output.blob_name, errno.errorcode[error.errno or 0]] for output, error in plan.refused
        ]
        assert [o.blob_name for o, _ in plan.downloads] == expected["downloads"], number
        assert got_refused == expected["refused"], number
        for output, _ in plan.downloads:
            if output.blob_name not in expected.get("fail", []):
                ledger.done(output)
