"""The pure CLI commands: container-name, blob-name, parse (in-process, click's runner)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conventions import container_name
from conventions.cli import main

from .vectors import load


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_container_name_json_matches_every_vector() -> None:
    cases = [case for case in load("container_names.json")["cases"] if "expected" in case]
    code, out, _ = _run("container-name", "--json", "--", *(case["job_id"] for case in cases))
    assert code == 0
    assert json.loads(out) == [
        {"job_id": case["job_id"], "container": case["expected"]} for case in cases
    ]


def test_container_name_of_one_id_prints_just_the_name() -> None:
    assert _run("container-name", "MyTerrificJob") == (0, "job-myterrificjob\n", "")


def test_blob_name_for_a_task_and_for_the_job() -> None:
    assert _run("blob-name", "--task", "t1", "--kind", "TaskLog", "..\\stdout.txt")[1] == (
        "t1/$TaskLog/stdout.txt\n"
    )
    code, out, _ = _run("blob-name", "--kind", "JobOutput", "--json", "a/b.txt")
    assert (code, json.loads(out)) == (0, {"blob_name": "$JobOutput/a/b.txt"})


def test_parse_prints_task_kind_and_path() -> None:
    code, out, _ = _run("parse", "--json", "t1/$TaskOutput/résumé +1.txt")
    assert (code, json.loads(out)) == (
        0,
        {"task_id": "t1", "kind": "TaskOutput", "path": "résumé +1.txt"},
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["container-name", "my job"], "job id 'my job' must be"),
        (["blob-name", "--task", "t 1", "--kind", "TaskLog", "x"], "task id 't 1' must be"),
        (["blob-name", "--task", "t1", "--kind", "custom:Task.Log", "x"], "kind text 'Task.Log'"),
        (["blob-name", "--task", "t1", "--kind", "TaskLog", "a/../../x"], "must not climb"),
        (["parse", "t/$TaskOutput/../../x"], "rule PB-1"),
    ],
)
def test_bad_input_is_one_usage_error_line_and_exit_2(args: list[str], message: str) -> None:
    code, out, err = _run(*args)
    assert code == 2
    assert err.startswith("error: ")
    assert out == ""
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_python_dash_m_conventions_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "conventions", "container-name", "J"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == container_name("J") + "\n"
