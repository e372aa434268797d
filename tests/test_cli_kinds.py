"""Issue 11: one kind parser for the CLI (rule KD-4), and one default upload condition."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from click.testing import CliRunner, Result

from conventions import JobOutputKind, TaskOutputKind
from conventions.cli import main
from conventions.sas import prepare_output_storage
from conventions.storage import JobOutputStorage
from scripts.azurite import StorageEndpoint

URL = "https://acct.blob.core.windows.net/job-abc?sv=2023-11-03&sp=cw&sig=FAKEsig"


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _output_files(*outputs: str) -> list[dict[str, Any]]:
    args = ["output-files", "--task", "t1", "--container-url", URL]
    for output in outputs:
        args += ["--output", output]
    result = _invoke(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _paths_and_conditions(files: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (f["destination"]["container"]["path"], f["uploadOptions"]["uploadCondition"])
        for f in files
    ]


def test_output_kinds_parse_like_kind_options_with_one_default_condition() -> None:
    files = _output_files(
        "taskoutput:*.png",  # on main: 't1/$taskoutput', where the portal never looks
        "custom:Frames:frames/*.exr",
        "TaskLog:../app.log",
        "TASKPREVIEW:thumb.png:taskcompletion",
    )
    assert _paths_and_conditions(files) == [
        ("t1/$TaskOutput", "tasksuccess"),
        ("t1/$Frames", "tasksuccess"),
        ("t1/$TaskLog/app.log", "taskcompletion"),  # logs: on completion (decision D-42)
        ("t1/$TaskPreview/thumb.png", "taskcompletion"),
    ]


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("TaskOuptut:*.png", "did you mean 'TaskOutput'"),
        ("frames:*.png", "custom:frames"),
        ("custom:taskoutput:x.txt", "only in case"),
        ("JobOutput:x.txt", "job kind"),
        ("TaskLog:stdout.txt", "../stdout.txt"),  # the std logs are one level up
    ],
)
def test_bad_output_kinds_are_usage_errors(output: str, message: str) -> None:
    result = _invoke("output-files", "--task", "t1", "--container-url", URL, "--output", output)
    assert result.exit_code == 2, result.output
    assert message in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--task", "t1", "--kind", "taskoutput", "a.txt"], "t1/$TaskOutput/a.txt"),
        (["--kind", "jobpreview", "a.txt"], "$JobPreview/a.txt"),
        (["--kind", "job:custom:Summary", "a.txt"], "$Summary/a.txt"),
        (["--task", "t1", "--kind", "custom:Frames", "a.txt"], "t1/$Frames/a.txt"),
    ],
)
def test_blob_name_parses_kinds(args: list[str], expected: str) -> None:
    result = _invoke("blob-name", *args)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == expected


def test_kind_help_lists_the_valid_kinds() -> None:
    result = _invoke("list", "--help")
    for name in ["TaskOutput", "TaskLog", "TaskIntermediate", "JobPreview", "custom:<text>"]:
        assert name in result.output


@pytest.fixture
def seeded(blob_service_client: BlobServiceClient, job_id: str) -> str:
    prepare_output_storage(blob_service_client, job_id)
    with JobOutputStorage.from_service_client(blob_service_client, job_id) as job:
        job.task("t1").save_text(TaskOutputKind.TASK_OUTPUT, "one", "a.txt")
        job.save_text(JobOutputKind.JOB_OUTPUT, "all", "summary.txt")
        job.container_client.upload_blob("t1/$Task.Logs/run.log", b".NET log")
    return job_id


def test_list_with_a_misspelt_kind_is_a_usage_error(
    azurite: StorageEndpoint, seeded: str
) -> None:
    result = _invoke(
        "list", seeded, "--kind", "TaskOuptut", "--connection-string", azurite.connection_string
    )
    # On main: "no outputs of job ... match", exit 0.
    assert result.exit_code == 2, result.output
    assert "did you mean 'TaskOutput'" in result.output


def test_download_takes_kinds_in_any_case_and_dotnet_custom_kinds(
    azurite: StorageEndpoint, seeded: str, tmp_path: Path
) -> None:
    conn = ["--connection-string", azurite.connection_string]
    # On main: "downloaded 0 files", exit 0.
    first = _invoke("download", seeded, "--kind", "taskoutput", str(tmp_path / "a"), *conn)
    assert first.exit_code == 0, first.output
    assert (tmp_path / "a" / "t1" / "a.txt").read_text() == "one"
    second = _invoke("download", seeded, "--kind", "joboutput", str(tmp_path / "b"), *conn)
    assert second.exit_code == 0, second.output
    assert (tmp_path / "b" / "summary.txt").read_text() == "all"
    third = _invoke("download", seeded, "--kind", "custom:Task.Logs", str(tmp_path / "c"), *conn)
    assert third.exit_code == 0, third.output
    assert (tmp_path / "c" / "t1" / "run.log").read_bytes() == b".NET log"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("job:Summary", "job:custom:Summary"),  # the old spelling of a custom job kind
        ("TaskOuptut", "did you mean 'TaskOutput'"),
        ("custom:tasklog", "only in case"),
    ],
)
def test_blob_name_refuses_unknown_kinds_with_a_hint(kind: str, message: str) -> None:
    result = _invoke("blob-name", "--kind", kind, "a.txt")
    assert result.exit_code == 2, result.output
    assert message in result.output
