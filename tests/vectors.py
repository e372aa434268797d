"""Load the spec vectors in ``spec/vectors/*.json`` as pytest parameters, by id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SPEC_VECTORS = Path(__file__).resolve().parents[1] / "spec" / "vectors"


def load(name: str) -> dict[str, Any]:
    """Return the whole vector file *name*."""
    data: dict[str, Any] = json.loads((SPEC_VECTORS / name).read_text(encoding="utf-8"))
    return data


def cases(name: str) -> list[Any]:
    """Return the cases of vector file *name*, each a ``pytest.param`` with the case's id."""
    return [pytest.param(case, id=case["id"]) for case in load(name)["cases"]]
