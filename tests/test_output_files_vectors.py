"""Every vector of spec/vectors/output_files.json and planner.json, by id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import conventions
from conventions import OutputFile, plan_uploads

from .builders import build
from .vectors import cases, load

OUTPUT_FILES = load("output_files.json")
PLANNER = load("planner.json")


def _error(name: str) -> type[BaseException]:
    error: type[BaseException] = getattr(conventions, name)
    return error


@pytest.mark.parametrize("case", cases("output_files.json"))
def test_output_file_vector(case: dict[str, Any]) -> None:
    if "raises" in case:
        with pytest.raises(_error(case["raises"]), match=case["match"]) as info:
            build(case, OUTPUT_FILES["container_url"])
        assert "FAKE" not in str(info.value)  # no SAS signature in any message
        return
    built = build(case, OUTPUT_FILES["container_url"])
    dicts = [output_file.to_dict() for output_file in built]
    assert dicts == (case["expected"] if case["function"] == "std_logs" else [case["expected"]])
    for output_file, as_dict in zip(built, dicts, strict=True):
        assert OutputFile.from_dict(as_dict) == output_file
        assert json.loads(json.dumps(as_dict)) == as_dict
        assert "FAKE" not in repr(output_file)
        assert "FAKE" not in str(output_file)


def _make_tree(root: Path, files: list[str]) -> Path:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name, encoding="utf-8")
    (root / "wd").mkdir(exist_ok=True)
    return root / "wd"


@pytest.mark.parametrize("case", cases("planner.json"))
def test_planner_vector(case: dict[str, Any], tmp_path: Path) -> None:
    working_dir = _make_tree(tmp_path, case["tree"])
    if "working_dir" in case:
        working_dir = tmp_path / case["working_dir"]
    allow_empty = case.get("allow_empty", False)
    output_files = [
        output_file
        for spec in case["output_files"]
        for output_file in build(spec, PLANNER["container_url"])
    ]
    if "raises" in case:
        with pytest.raises(_error(case["raises"]), match=case["match"]):
            plan_uploads(
                output_files, working_dir, exit_code=case["exit_code"], allow_empty=allow_empty
            )
        return
    plan = plan_uploads(
        output_files, working_dir, exit_code=case["exit_code"], allow_empty=allow_empty
    )
    got = [
        [upload.local_path.relative_to(tmp_path).as_posix(), upload.blob_name] for upload in plan
    ]
    assert got == case["expected"]
    for upload in plan:
        assert upload.local_path.is_file()
        assert upload.output_file in output_files
