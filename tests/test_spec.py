"""The spec and its vectors stay consistent with each other."""

from __future__ import annotations

import json
import re

from .vectors import SPEC_VECTORS

SPEC = SPEC_VECTORS.parent


def _vector_texts() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in SPEC_VECTORS.glob("*.json"))


def test_every_rule_in_the_spec_is_cited_by_a_vector_file() -> None:
    rules = set(re.findall(r"^\*\*([A-Z]{2}-\d)\.", (SPEC / "README.md").read_text(), re.M))
    assert len(rules) >= 12
    cited = {
        rule
        for path in SPEC_VECTORS.glob("*.json")
        for rule in re.findall(r"[A-Z]{2}-\d", json.loads(path.read_text())["rule"])
    }
    # KD-2 (job and task kinds are distinct) is a property, not a vector.
    assert rules - cited <= {"KD-2"}


def test_every_decision_has_a_vector() -> None:
    decisions = re.findall(r"^## (D-\d+)\.", (SPEC / "DECISIONS.md").read_text(), re.M)
    numbers = [int(decision[2:]) for decision in decisions]
    # Numbered in blocks per area (D-1.., D-11.., D-20.., D-30..): increasing, gaps allowed.
    assert numbers[:10] == list(range(1, 11))
    assert numbers == sorted(set(numbers))
    vectors = _vector_texts()
    for decision in decisions:
        assert f"decision {decision}\"" in vectors, decision


def test_vector_ids_are_unique() -> None:
    ids = [
        case["id"]
        for path in SPEC_VECTORS.glob("*.json")
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]
    ]
    assert len(ids) == len(set(ids))
