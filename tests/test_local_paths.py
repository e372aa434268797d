"""The pure local-path decisions (rules LP-1 to LP-5): vectors and properties, no I/O."""

from __future__ import annotations

import errno
import random
import re
import stat
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conventions import InvalidPathError, LocalPathError, parse_blob_name, task_blob_name
from conventions.kinds import TaskOutputKind
from conventions.local_paths import (
    LocalTarget,
    check_distinct_blobs,
    local_targets,
    not_a_regular_file,
)

from .strategies import normal_paths
from .vectors import cases


def _expand(text: str) -> str:
    """'{a*255}' stands for 255 'a's: the vectors stay readable."""
    return re.sub(r"\{(.)\*(\d+)\}", lambda m: m.group(1) * int(m.group(2)), text)


def _outcome(entry: LocalTarget | LocalPathError) -> str:
    if isinstance(entry, LocalPathError):
        assert entry.errno is not None
        assert entry.blob is not None
        assert entry.blob in str(entry)
        assert entry.path in str(entry)
        return errno.errorcode[entry.errno]
    return entry.path


@pytest.mark.parametrize("case", cases("local_paths.json"))
def test_local_path_vectors(case: dict[str, Any]) -> None:
    if "targets" in case:
        locations = [parse_blob_name(_expand(name)) for name in case["targets"]]
        got = [_outcome(entry) for entry in local_targets("/d", locations)]
        assert got == [_expand(text) for text in case["expected"]]
    elif "source_mode" in case:
        mode = getattr(stat, case["source_mode"]) | 0o644
        assert (not_a_regular_file(mode) is None) == case["readable"]
    else:
        pairs = [(local, blob) for local, blob in case["saves"]]
        if case["raises"] is None:
            check_distinct_blobs(pairs)
        else:
            with pytest.raises(InvalidPathError, match=r"rule LP-5") as caught:
                check_distinct_blobs(pairs)
            assert repr(pairs[0][0]) in str(caught.value)
            assert repr(pairs[1][0]) in str(caught.value)


@given(st.lists(normal_paths(), min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_written_targets_never_conflict_and_the_verdict_ignores_order(
    paths: list[str], rng: random.Random
) -> None:
    locations = [parse_blob_name(task_blob_name("t", TaskOutputKind.TASK_OUTPUT, p)) for p in paths]
    decided = local_targets("/d", locations)
    assert len(decided) == len(locations)
    written = [entry.parts for entry in decided if isinstance(entry, LocalTarget)]
    assert len(written) == len(set(written))  # no two outputs on one file
    folders = {parts[:depth] for parts in written for depth in range(1, len(parts))}
    assert not folders & set(written)  # no file where a folder is needed
    # Every refused output is refused for a reason that holds.
    for location, entry in zip(locations, decided, strict=True):
        if isinstance(entry, LocalPathError):
            parts = ("t", *location.path.split("/"))
            assert parts in folders or parts in written or entry.errno == errno.ENAMETOOLONG
    # Which folder/file conflict is refused does not depend on the listing order.
    shuffled = list(locations)
    rng.shuffle(shuffled)
    refused = {
        loc.blob_name
        for loc, entry in zip(shuffled, local_targets("/d", shuffled), strict=True)
        if isinstance(entry, LocalPathError) and entry.errno == errno.EISDIR
    }
    assert refused == {
        loc.blob_name
        for loc, entry in zip(locations, decided, strict=True)
        if isinstance(entry, LocalPathError) and entry.errno == errno.EISDIR
    }
