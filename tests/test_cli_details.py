"""Issue 21 item 6: CLI details, one test each."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient
from click.testing import CliRunner
from rich.console import Console

from conventions import ContainerMismatchError, JobOutputKind, TaskOutputKind, container_name
from conventions.cli import main
from conventions.cli._app import emit
from conventions.cli._examples import EXAMPLES
from conventions.output_files import std_logs
from conventions.sas import output_container_url, prepare_output_storage
from conventions.storage import JobOutputStorage
from scripts.azurite import StorageEndpoint

from .faultproxy import Fault, FaultProxy

URL = "https://acct.blob.core.windows.net/job-abc?sv=2025-01-05&sp=cw&sig=SECRET"


def test_one_file_is_one_file_not_one_files(tmp_path: Path) -> None:
    (tmp_path / "wd").mkdir()
    (tmp_path / "stdout.txt").write_text("out")
    spec = tmp_path / "files.json"
    spec.write_text(json.dumps([f.to_dict() for f in std_logs(URL, "t1")]))
    result = CliRunner().invoke(
        main,
        ["plan", str(spec), "--working-dir", str(tmp_path / "wd"), "--exit-code", "0"],
        terminal_width=100,
    )
    assert result.exit_code == 0, result.output
    assert "1 file would be uploaded" in result.stdout
    assert "1 files" not in result.stdout


def test_a_total_of_one_is_singular(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"path": "a.txt", "size": 3}]
    emit(False, rows, columns=["path", "size"], sizes=["size"], total_of="outputs")
    out = capsys.readouterr().out
    assert re.search(r"total: 1 output(?!s)", out), out


def _first_sentence(text: str) -> str:
    paragraph = " ".join(text.split("\n\n")[0].split())
    end = paragraph.find(". ")
    return paragraph if end == -1 else paragraph[: end + 1]


def test_help_uses_a_wide_terminal_and_keeps_every_summary_whole() -> None:
    # A real process: click's test runner forces 80 columns; COLUMNS is what a
    # 100-column terminal tells shutil.get_terminal_size.
    result = subprocess.run(
        [sys.executable, "-m", "conventions", "--help"],
        env={**os.environ, "COLUMNS": "100"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) > 80  # was wrapped at 80 columns
    assert all(len(line) <= 100 for line in lines)
    commands = result.stdout.split("Commands:")[1]
    assert "..." not in commands  # no summary cut
    said = " ".join(result.stdout.split())
    assert len(main.commands) >= 13
    for name, command in main.commands.items():
        assert f"{name} {_first_sentence(command.help or '')}" in said, name


def test_every_command_has_an_example_that_parses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "files.json").write_text("[]")
    (tmp_path / "wd").mkdir()
    for name in main.commands:
        result = CliRunner().invoke(main, [name, "--help"], terminal_width=200)
        assert result.exit_code == 0, result.output
        assert "Example" in result.stdout, name
        for line in EXAMPLES.get(name, ()):
            if line.startswith("#"):
                continue
            assert line in result.stdout, line  # shown whole, not wrapped
            args = shlex.split(line.split(" > ")[0])
            assert args[0] == "batch-conventions", line
            with main.make_context("batch-conventions", args[1:]) as ctx:
                sub = main.get_command(ctx, args[1])
                assert sub is not None
                sub.make_context(args[1], args[2:], parent=ctx)  # a usage error raises here


@pytest.mark.parametrize(
    "args",
    [
        ["save", "--kind", "output", "a.txt"],
        ["output-files", "--task", "t1", "--container-url", URL, "--output", "output:*.txt"],
    ],
)
def test_a_task_command_suggests_task_kinds_only(args: list[str], tmp_path: Path) -> None:
    env = {"AZ_BATCH_JOB_ID": "j", "AZ_BATCH_TASK_ID": "t"}
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 2, result.output
    assert "did you mean 'TaskOutput'?" in result.stderr
    assert "JobOutput" not in result.stderr


def test_a_command_for_both_suggests_both_when_both_are_as_close() -> None:
    result = CliRunner().invoke(
        main, ["list", "j", "--kind", "output", "--connection-string", "UseDevelopmentStorage=true"]
    )
    assert result.exit_code == 2, result.output
    assert "did you mean 'JobOutput' or 'TaskOutput'?" in result.stderr


def test_a_missing_job_id_variable_exits_2_like_a_missing_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("a")
    clean = {name: None for name in os.environ if name.startswith(("AZ_BATCH_", "CONVENTIONS_"))}
    clean["AZURE_STORAGE_CONNECTION_STRING"] = None
    no_connection = CliRunner().invoke(main, ["save", "a.txt"], env=clean)
    assert no_connection.exit_code == 2, no_connection.output
    no_job = CliRunner().invoke(
        main,
        ["save", "a.txt", "--connection-string", "UseDevelopmentStorage=true"],
        env={**clean, "AZ_BATCH_TASK_ID": "t1"},
    )
    assert no_job.exit_code == 2, no_job.output
    assert no_job.stderr.startswith("error: environment variable AZ_BATCH_JOB_ID is not set")


def test_job_storage_from_a_container_url_takes_the_job_id_as_the_others_do(
    blob_service_client: BlobServiceClient, job_id: str
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    url = output_container_url(blob_service_client, job_id, permissions="rl")
    with JobOutputStorage.from_container_url(url, job_id) as job:  # was a TypeError
        assert job.container_name == container_name(job_id)
        assert list(job.list_all()) == []
    with pytest.raises(ContainerMismatchError):
        JobOutputStorage.from_container_url(url, f"{job_id}-other")


def test_ctrl_c_during_download_ends_with_the_summary_after_the_bar_and_exit_130(
    blob_service_client: BlobServiceClient,
    job_id: str,
    fault_proxy: FaultProxy,
    proxied_endpoint: StorageEndpoint,
    tmp_path: Path,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    job = JobOutputStorage.from_service_client(blob_service_client, job_id)
    job.task("t1").save_text(TaskOutputKind.TASK_OUTPUT, "small", "small.txt")
    job.task("t2").save_bytes(TaskOutputKind.TASK_OUTPUT, b"x" * 4096, "big.txt")
    # t2's body arrives 512 bytes every 0.25 s: still running when Ctrl-C comes.
    fault_proxy.inject(
        Fault.trickle(512, 0.25), times=None, when=lambda r: r.method == "GET" and "big" in r.path
    )
    env = {**os.environ, "AZURE_STORAGE_CONNECTION_STRING": proxied_endpoint.connection_string}
    dest = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "conventions", "download", job_id, "--kind", "TaskOutput",
         str(dest)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not (dest / "t1" / "small.txt").exists():
            assert time.monotonic() < deadline, "t1 was never downloaded"
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err
    said = " ".join(err.split())
    assert "error: interrupted" not in said
    bar = said.rfind("TaskOutput: ")
    summary = said.find("interrupted: ")
    assert 0 <= bar < summary, err  # the summary comes after the bar
    assert "run the same command again to fetch the rest" in said
    assert not list(dest.rglob("*.part"))


def test_delete_without_a_terminal_says_so_in_the_clis_style(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    job = JobOutputStorage.from_service_client(blob_service_client, job_id)
    job.task("t1").save_text(TaskOutputKind.TASK_OUTPUT, "x", "a.txt")
    result = CliRunner().invoke(
        main, ["delete", job_id, "--connection-string", azurite.connection_string]
    )
    assert result.exit_code == 2, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: not deleting "), last  # (its counts are worded elsewhere)
    assert "Error:" not in result.stderr
    assert last.endswith("pass --yes")
    assert [ref.path for ref in job.list_all()] == ["a.txt"]  # nothing deleted


def test_download_without_kind_fetches_every_kind_each_in_its_folder(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str, tmp_path: Path
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    job = JobOutputStorage.from_service_client(blob_service_client, job_id)
    job.task("t1").save_text(TaskOutputKind.TASK_OUTPUT, "result", "a.txt")
    job.task("t1").save_text(TaskOutputKind.TASK_LOG, "log", "a.txt")  # same path, other kind
    job.task("t2").save_text(TaskOutputKind.TASK_OUTPUT, "result 2", "a.txt")
    job.save_text(JobOutputKind.JOB_OUTPUT, "merged", "t1/a.txt")  # a job path like a task's
    conn = ["--connection-string", azurite.connection_string]
    dest = tmp_path / "out"
    first = CliRunner().invoke(main, ["download", job_id, str(dest), "--json", *conn])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["files"] == 4
    files = {
        path.relative_to(dest).as_posix(): path.read_text()
        for path in dest.rglob("*")
        if path.is_file()
    }
    assert files == {
        "TaskOutput/t1/a.txt": "result",
        "TaskOutput/t2/a.txt": "result 2",
        "TaskLog/t1/a.txt": "log",
        "JobOutput/t1/a.txt": "merged",
    }
    again = CliRunner().invoke(main, ["download", job_id, str(dest), "--json", *conn])
    assert (json.loads(again.stdout)["files"], json.loads(again.stdout)["skipped"]) == (0, 4)
    only_t2 = CliRunner().invoke(
        main, ["download", job_id, str(tmp_path / "t2"), "--task", "t2", "--json", *conn]
    )
    assert json.loads(only_t2.stdout)["files"] == 1
    assert (tmp_path / "t2" / "TaskOutput" / "t2" / "a.txt").read_text() == "result 2"
    watch = CliRunner().invoke(main, ["download", job_id, str(dest), "--watch", *conn])
    assert watch.exit_code == 2
    assert "--watch follows one kind: give --kind" in watch.stderr


def test_download_of_every_kind_refuses_a_job_and_a_task_kind_sharing_a_folder(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str, tmp_path: Path
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    job = JobOutputStorage.from_service_client(blob_service_client, job_id)
    job.task("t1").save_text(TaskOutputKind.TASK_OUTPUT, "task", "a.txt")
    job.save_text(JobOutputKind.custom("TaskOutput"), "job", "t1/a.txt")  # legal (KD-2)
    result = CliRunner().invoke(
        main,
        [
            "download",
            job_id,
            str(tmp_path / "out"),
            "--connection-string",
            azurite.connection_string,
        ],
    )
    assert result.exit_code == 1, result.output
    assert "share that text" in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*"))


def test_a_long_table_prints_as_fast_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {"task": f"t{i % 50}", "kind": "TaskOutput", "path": f"frames/f-{i:05}.png",
         "size": 1000 + i, "modified": "2026-12-06T01:02:03+00:00"}
        for i in range(10_000)
    ]  # fmt: skip
    columns = ["task", "kind", "path", "size", "modified"]

    def timed(as_json: bool) -> float:
        started = time.perf_counter()
        emit(as_json, rows, columns=columns, sizes=["size"], total_of="outputs")
        return time.perf_counter() - started

    as_json = min(timed(True) for _ in range(3))
    table = min(timed(False) for _ in range(3))
    out = capsys.readouterr().out
    assert "total: 10000 outputs" in out
    assert "frames/f-09999.png" in out
    # A rich table of 10,000 rows took 70 times as long as the JSON (3 s).
    assert table < max(10 * as_json, 0.5), (table, as_json)


def test_list_shows_how_many_it_found_while_listing(
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    for index in range(30):
        (tmp_path / f"f{index:02}.txt").write_text(str(index))
    task = JobOutputStorage.from_service_client(blob_service_client, job_id).task("t1")
    task.save_many(TaskOutputKind.TASK_OUTPUT, "*.txt", base_dir=tmp_path)
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    monkeypatch.setattr("conventions.cli._client.stderr", terminal)
    result = CliRunner().invoke(
        main, ["list", job_id, "--json", "--connection-string", azurite.connection_string]
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 30
    assert f"listing outputs of job {job_id}: 30 found" in screen.getvalue()
