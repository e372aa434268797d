"""The output-files and plan commands (pure: no storage)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from conventions import TaskOutputKind
from conventions.cli import main
from conventions.output_files import OutputFile, std_logs, task_output_file

URL = "https://acct.blob.core.windows.net/job-abc?sv=2025-01-05&sp=cw&sig=SECRET"


def test_output_files_prints_what_the_builders_give() -> None:
    result = CliRunner().invoke(
        main,
        [
            "output-files", "--task", "t1", "--container-url", URL, "--std-logs",
            "--output", "TaskOutput:results/**/*.csv",
            "--output", "TaskPreview:../preview.png:taskcompletion",
            "--output", "TaskIntermediate:notes:b.txt",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    expected = [
        *std_logs(URL, "t1"),
        task_output_file(URL, "t1", TaskOutputKind.TASK_OUTPUT, "results/**/*.csv",
                         condition="tasksuccess"),
        task_output_file(URL, "t1", TaskOutputKind.TASK_PREVIEW, "../preview.png",
                         condition="taskcompletion"),
        task_output_file(URL, "t1", TaskOutputKind.TASK_INTERMEDIATE, "notes:b.txt",
                         condition="tasksuccess"),
    ]  # fmt: skip
    printed = json.loads(result.stdout)
    assert printed == [output_file.to_dict() for output_file in expected]
    assert [OutputFile.from_dict(item) for item in printed] == expected


def test_output_files_without_a_sas_or_identity_is_one_clear_line() -> None:
    plain = "https://acct.blob.core.windows.net/job-abc"
    result = CliRunner().invoke(
        main, ["output-files", "--task", "t1", "--container-url", plain, "--std-logs"]
    )
    assert result.exit_code == 2  # an invalid option value is a usage error
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "rule OF-" in result.stderr


def test_plan_shows_the_files_and_their_blobs(tmp_path: Path) -> None:
    task_dir = tmp_path / "task"
    working_dir = task_dir / "wd"
    (working_dir / "results" / "deep").mkdir(parents=True)
    (task_dir / "stdout.txt").write_text("out")
    (working_dir / "results" / "deep" / "a.csv").write_text("1")
    (working_dir / "results" / ".hidden.csv").write_text("2")
    files = std_logs(URL, "t1", "results/**/*.csv")
    spec = tmp_path / "task.json"
    spec.write_text(json.dumps({"id": "t1", "outputFiles": [f.to_dict() for f in files]}))

    def plan(exit_code: int) -> list[tuple[str, str]]:
        result = CliRunner().invoke(
            main,
            ["plan", str(spec), "--working-dir", str(working_dir), "--exit-code", str(exit_code),
             "--json"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        return [
            (Path(row["local_path"]).name, row["blob_name"]) for row in json.loads(result.stdout)
        ]

    assert plan(0) == [
        ("stdout.txt", "t1/$TaskLog/stdout.txt"),
        ("a.csv", "t1/$TaskOutput/deep/a.csv"),
    ]
    assert plan(1) == [("stdout.txt", "t1/$TaskLog/stdout.txt")]  # outputs only on success
    table = CliRunner().invoke(
        main, ["plan", str(spec), "--working-dir", str(working_dir), "--exit-code", "0"]
    )
    assert "SECRET" not in table.stdout
    assert "2 files would be uploaded" in table.stdout
