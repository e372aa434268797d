"""Issue 11: one default upload condition everywhere (decision D-42), and arguments of the
wrong type raise instead of giving a silently empty result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given

from conventions import (
    InvalidArgumentError,
    JobOutputKind,
    OutputFile,
    TaskOutputKind,
    UploadCondition,
    default_condition,
    job_output_file,
    plan_uploads,
    std_logs,
    task_output_file,
)
from conventions.cli import main

from .strategies import task_kinds

URL = "https://acct.blob.core.windows.net/job-abc?sv=2023-11-03&sp=cw&sig=FAKEsig"


@given(kind=task_kinds())
def test_builders_cli_and_std_logs_share_one_default(kind: TaskOutputKind) -> None:
    built = task_output_file(URL, "t1", kind, "../out/x.bin").upload_condition
    assert built is default_condition(kind)
    result = CliRunner().invoke(
        main,
        ["output-files", "--task", "t1", "--container-url", URL, "--output",
         f"{'custom:' if kind not in TaskOutputKind.standard() else ''}{kind.text}:../out/x.bin"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["uploadOptions"]["uploadCondition"] == built.value
    # The raw OutputFile follows the same rule through its path.
    assert OutputFile("../out/x.bin", URL, f"t1/${kind.text}").upload_condition is built


def test_the_default_is_success_for_outputs_and_completion_for_logs() -> None:
    # On main task_output_file defaulted to taskcompletion while std_logs and the CLI
    # used tasksuccess for outputs.
    assert default_condition(TaskOutputKind.TASK_OUTPUT) is UploadCondition.TASK_SUCCESS
    assert default_condition(JobOutputKind.JOB_OUTPUT) is UploadCondition.TASK_SUCCESS
    assert default_condition(TaskOutputKind.TASK_LOG) is UploadCondition.TASK_COMPLETION
    logs, outputs = std_logs(URL, "t1", "res/*.csv")
    assert logs.upload_condition is default_condition(TaskOutputKind.TASK_LOG)
    assert outputs.upload_condition is default_condition(TaskOutputKind.TASK_OUTPUT)
    job_file = job_output_file(URL, JobOutputKind.JOB_OUTPUT, "merged.csv")
    assert job_file.upload_condition is UploadCondition.TASK_SUCCESS


@pytest.mark.parametrize("exit_code", ["0", 0.0, True, None])
def test_exit_code_must_be_an_int(exit_code: object, tmp_path: Path) -> None:
    (tmp_path / "out.txt").write_text("x")
    files = [task_output_file(URL, "t1", TaskOutputKind.TASK_OUTPUT, "out.txt")]
    # On main exit_code="0" planned nothing for tasksuccess entries.
    with pytest.raises(InvalidArgumentError, match="must be an int"):
        plan_uploads(files, tmp_path, exit_code=exit_code)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        UploadCondition.TASK_SUCCESS.applies(exit_code=exit_code)  # type: ignore[arg-type]
    assert [u.blob_name for u in plan_uploads(files, tmp_path, exit_code=0)] == [
        "t1/$TaskOutput/out.txt"
    ]
    assert issubclass(InvalidArgumentError, TypeError)
