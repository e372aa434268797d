"""The CLI as a terminal user meets it (issue 15): one error line, exit codes 0/1/2, tables
with human sizes, totals and no truncation when piped, help texts; `save`'s arguments
(--destination, --allow-empty). In-process (click's runner) and without storage, except
where a test takes the ``azurite`` fixture."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from azure.storage.blob import BlobServiceClient
from click.testing import CliRunner, Result

from conventions import TaskOutputKind
from conventions.cli import main
from conventions.cli._errors import render, tidy
from conventions.errors import ContainerNotFoundError, StorageError
from conventions.sas import prepare_output_storage
from conventions.storage import JobOutputStorage, TaskOutputStorage
from scripts.azurite import StorageEndpoint

from .storage_support import task_env

_ERROR_LINE = re.compile(r"error: [^\n]+\n\Z")
_CLASS_NAME = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)*Error\b")


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def _assert_one_error_line(result: Result, code: int) -> str:
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert result.stdout == ""
    assert _ERROR_LINE.fullmatch(result.stderr), result.stderr
    assert not _CLASS_NAME.search(result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["list", "my job"],  # job ID
        ["list", "job1", "--task", "t 1"],  # task ID, with or without --kind
        ["list", "job1", "--kind", "Task/Log"],  # kind
        ["sas", "job1", "--expiry", "7x"],
        ["download", "job1", "--kind", "TaskLog", "--max-concurrency", "0", "d"],
        ["output-files", "--task", "t1", "--container-url", "https://a.b/c?sig=x&sv=1",
         "--output", "TaskOutput:out/*.txt:taskfailur"],  # a misspelt upload condition
        ["container-name", "--no-such-option", "x"],
        ["save", "/etc/hostname"],  # absolute, without --destination
        ["save", "--destination", "x", "a", "b"],  # --destination is for one file
    ],
)
def test_every_invalid_value_is_a_usage_error_on_one_line(args: list[str]) -> None:
    line = _assert_one_error_line(_run(*args), 2)
    assert "See 'batch-conventions" in line or "rule" in line


def test_bad_permissions_exit_2_like_a_bad_expiry(azurite: StorageEndpoint) -> None:
    conn = ["--connection-string", azurite.connection_string]
    line = _assert_one_error_line(_run("sas", "job1", "--permissions", "rz", *conn), 2)
    assert "'rz'" in line


def test_a_malformed_connection_string_names_no_python(tmp_path: Path) -> None:
    result = _run("list", "job1", "--connection-string", "nonsense")
    line = _assert_one_error_line(result, 2)  # a bad option value: a usage error
    assert "ValueError" not in line
    assert "connection string" in line
    assert "AccountName" in line  # what it needs


def test_a_missing_container_says_prepare_and_typo_once(azurite: StorageEndpoint) -> None:
    result = _run("list", "no-such-job-15", "--connection-string", azurite.connection_string)
    line = _assert_one_error_line(result, 1)
    assert "batch-conventions prepare no-such-job-15" in line
    assert "typo in the job ID" in line
    assert "prepare_output_storage" not in line
    assert line.count("does not exist") <= 1
    assert "(HTTP None)" not in line


def test_the_python_api_message_still_names_the_python_call() -> None:
    # The CLI renders its own words from the error's fields; the library's stay as they are.
    error = ContainerNotFoundError(
        "could not list outputs in container 'job-x': container 'job-x' does not exist; "
        "create it with prepare_output_storage(service_client, job_id) (HTTP 404)",
        container="job-x",
    )
    assert "prepare_output_storage" in str(error)
    line = render(error, job_id="x")
    assert line.startswith("could not list outputs in container 'job-x': job 'x' has no")
    assert "prepare_output_storage" not in line


def test_tidy_drops_http_none_doubled_words_and_error_prefixes() -> None:
    error = StorageError("Error: could not create append blob blob 'x' (HTTP None): reset")
    assert render(error) == "could not create append blob 'x': reset"
    assert tidy("a\nb") == "a b"


def test_exit_codes_are_in_the_help() -> None:
    result = _run("--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "Exit codes: 0 success; 1 a failure while running" in text
    assert "2 a usage error" in text


def _commands() -> list[click.Command]:
    assert isinstance(main, click.Group)
    return list(main.commands.values())


@pytest.mark.parametrize("command", _commands(), ids=lambda command: command.name)
def test_every_option_has_help_and_no_rest_markup(command: click.Command) -> None:
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{command.name} {param.opts} has no help"
    result = _run(command.name or "", "--help")
    assert result.exit_code == 0
    assert "``" not in result.stdout
    assert ":class:" not in result.stdout
    assert ":func:" not in result.stdout


def _seed(blob_service_client: BlobServiceClient, job_id: str) -> None:
    prepare_output_storage(blob_service_client, job_id)
    job = JobOutputStorage.from_service_client(blob_service_client, job_id)
    job.task("t1").save_bytes(TaskOutputKind.TASK_OUTPUT, b"x" * 400_000, "a/" + "long" * 30)
    job.task("t1").save_bytes(TaskOutputKind.TASK_OUTPUT, b"y" * 1_500, "b.txt")


def test_list_table_has_human_sizes_right_aligned_a_total_and_is_not_cut_when_piped(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    _seed(blob_service_client, job_id)
    conn = ["--connection-string", azurite.connection_string]
    table = _run("list", job_id, *conn)
    assert table.exit_code == 0, table.stderr
    out = table.stdout
    assert "long" * 30 in out  # the full path, though wider than 80 columns
    assert "400.0 kB" in out
    assert "1.5 kB" in out
    assert "total: 2 outputs" in out
    assert "401.5 kB" in out
    lines = out.splitlines()
    sizes = [line for line in lines if "1.5 kB" in line or "400.0 kB" in line]
    # Right-aligned: both sizes end in the same column.
    assert len({line.index("kB") for line in sizes}) == 1
    assert not any("…" in line for line in lines)
    raw = json.loads(_run("list", job_id, "--json", *conn).stdout)
    assert sorted(row["size"] for row in raw) == [1_500, 400_000]


def test_download_of_nothing_says_so_and_exits_0(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str, tmp_path: Path
) -> None:
    _seed(blob_service_client, job_id)
    conn = ["--connection-string", azurite.connection_string]
    result = _run("download", job_id, "--kind", "TaskLog", str(tmp_path / "d"), *conn)
    assert result.exit_code == 0
    assert "nothing to download" in result.stderr
    assert "MB/s" not in result.stderr


def test_save_that_matches_nothing_exits_1_unless_allow_empty(
    azurite: StorageEndpoint, job_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = task_env(azurite, job_id, "t7")
    line = _assert_one_error_line(_run("save", "nomatch/*.x", env=env), 1)
    assert "'nomatch/*.x'" in line
    assert "--allow-empty" in line
    allowed = _run("save", "--allow-empty", "--json", "nomatch/*.x", env=env)
    assert (allowed.exit_code, json.loads(allowed.stdout)) == (0, [])


def test_save_destination_stores_one_absolute_file_under_a_name(
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    source = tmp_path / "deep" / "result.csv"
    source.parent.mkdir()
    source.write_text("1,2\n")
    env = task_env(azurite, job_id, "t7")
    result = _run("save", "--destination", "final/r.csv", "--json", str(source), env=env)
    assert result.exit_code == 0, result.stderr
    assert [row["blob_name"] for row in json.loads(result.stdout)] == ["t7/$TaskOutput/final/r.csv"]
    task = TaskOutputStorage.from_service_client(blob_service_client, job_id, "t7")
    assert task.get_output(TaskOutputKind.TASK_OUTPUT, "final/r.csv").download_bytes() == b"1,2\n"


def test_save_many_files_shows_progress_and_a_total(
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    monkeypatch.chdir(tmp_path)
    for index in range(12):
        (tmp_path / f"f{index:02}.dat").write_bytes(b"z" * 1000)
    result = _run("save", "*.dat", env=task_env(azurite, job_id, "t7"))
    assert result.exit_code == 0, result.stderr
    assert "12/12 files" in result.stderr  # the progress bar's last state
    assert "total: 12 files" in result.stdout
    assert "12.0 kB" in result.stdout


def test_a_missing_container_on_the_task_side_says_prepare(
    azurite: StorageEndpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a.txt").write_text("a")
    result = _run("save", "a.txt", env=task_env(azurite, "nojob-15", "t7"))
    assert result.exit_code == 1
    # The progress bar's last state (0/1 files) comes first, then the one error line.
    line = result.stderr.splitlines()[-1]
    assert line.startswith("error: could not save output blob 't7/$TaskOutput/a.txt'")
    assert "batch-conventions prepare" in line
    assert "prepare_output_storage" not in line


def test_broken_pipe_is_quiet() -> None:
    # `batch-conventions container-name ... | head -1`: no traceback when head closes the pipe.
    ids = [f"job-{index}" for index in range(4_000)]
    process = subprocess.run(
        f"{sys.executable} -m conventions container-name {' '.join(ids)} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in process.stderr
    assert "BrokenPipe" not in process.stderr


def test_a_download_refused_for_lack_of_r_leaves_no_empty_folders(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str, tmp_path: Path
) -> None:
    _seed(blob_service_client, job_id)
    conn = ["--connection-string", azurite.connection_string]
    sas = _run("sas", job_id, "--permissions", "l", "--json", *conn)
    url = json.loads(sas.stdout)["container_url"]
    (tmp_path / "kept").mkdir()  # a folder that was there before stays
    dest = tmp_path / "dest"
    result = _run("download", job_id, "--kind", "TaskOutput", str(dest), "--container-url", url)
    assert result.exit_code == 1
    assert "'r'" in result.stderr.splitlines()[-1]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kept"]


def test_save_kind_is_parsed_like_every_other_kind(tmp_path: Path) -> None:
    """`save --kind taskoutput` means TaskOutput; a typo or a job kind is a usage error."""
    runner = CliRunner()
    (tmp_path / "a.txt").write_text("a")
    env = {"AZ_BATCH_JOB_ID": "j", "AZ_BATCH_TASK_ID": "t"}
    for text, hint in (("TaskOuptut", "did you mean"), ("JobOutput", "job kind")):
        result = runner.invoke(main, ["save", "--kind", text, str(tmp_path / "a.txt")], env=env)
        assert result.exit_code == 2, result.output
        assert hint in result.output
