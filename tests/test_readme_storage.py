"""The README's storage quickstarts run as written, on Azurite."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from conventions import container_name
from conventions.sas import output_container_url, prepare_output_storage
from scripts.azurite import StorageEndpoint

README = Path(__file__).resolve().parents[1] / "README.md"


def _storage_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Saving and reading outputs", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_readme_storage_quickstarts_run(
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client_side, task_side, reader = _storage_blocks()
    work = tmp_path / "task" / "wd"
    (work / "results").mkdir(parents=True)
    (work / "results" / "summary.csv").write_text("a,b\n1,2\n")
    (work / "frames" / "0").mkdir(parents=True)
    (work / "frames" / "0" / "f1.png").write_bytes(b"\x89PNG")
    (tmp_path / "task" / "stdout.txt").write_text("hello from the task\n")
    monkeypatch.chdir(work)
    namespace: dict[str, object] = {"connection_string": azurite.connection_string}
    try:
        exec(client_side, namespace)  # our own README, run as written
        monkeypatch.setenv("CONVENTIONS_CONTAINER_URL", str(namespace["url"]))
        monkeypatch.setenv("AZ_BATCH_JOB_ID", "my-job")
        monkeypatch.setenv("AZ_BATCH_TASK_ID", "task-7")
        exec(task_side, namespace)
        monkeypatch.chdir(tmp_path)
        exec(reader, namespace)
        assert namespace["text"] == "hello from the task\n"
        out = tmp_path / "out" / "task-7"
        assert (out / "results" / "summary.csv").read_text() == "a,b\n1,2\n"
        assert (out / "frames" / "0" / "f1.png").read_bytes() == b"\x89PNG"
        assert (tmp_path / "out" / "job").is_dir()
    finally:
        blob_service_client.delete_container(container_name("my-job"))


def _block(heading: str, starts: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    blocks: list[str] = re.findall(r"```python\n(.*?)```", section, re.S)
    (block,) = [b for b in blocks if starts in b]
    return block


def test_readme_plan_example_runs(
    blob_service_client: BlobServiceClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    block = _block("## OutputFile lists for the Batch service", "plan_uploads(")
    (tmp_path / "task-1" / "wd" / "results").mkdir(parents=True)
    (tmp_path / "task-1" / "wd" / "results" / "a.csv").write_text("1\n")
    (tmp_path / "task-1" / "stdout.txt").write_text("out\n")
    monkeypatch.chdir(tmp_path)
    prepare_output_storage(blob_service_client, "my-plan-job")
    url = output_container_url(blob_service_client, "my-plan-job", permissions="racwl")
    try:
        exec(block, {"container_url": url})  # our own README, run as written
        names = {b.name for b in blob_service_client.get_container_client(
            container_name("my-plan-job")).list_blobs()}  # fmt: skip
        assert names == {"task-1/$TaskOutput/a.csv", "task-1/$TaskLog/stdout.txt"}
    finally:
        blob_service_client.delete_container(container_name("my-plan-job"))


def test_readme_tracked_example_runs_again_on_a_retried_task(
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    block = _block("## Streaming a growing log", "save_tracked(")
    block = block.replace("flush_interval=15.0", "flush_interval=0.2")  # a quick test
    prepare_output_storage(blob_service_client, "my-tracked-job")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    monkeypatch.delenv("CONVENTIONS_CONTAINER_URL", raising=False)
    monkeypatch.setenv("AZ_BATCH_JOB_ID", "my-tracked-job")
    monkeypatch.setenv("AZ_BATCH_TASK_ID", "task-1")
    try:
        for attempt in ("first attempt\n", "second attempt\n"):  # the task is retried

            def run_analysis(text: str = attempt) -> None:
                Path("progress.log").write_text(text)

            exec(block, {"run_analysis": run_analysis})
            blob = blob_service_client.get_blob_client(
                container_name("my-tracked-job"), "task-1/$TaskLog/progress.log"
            )
            assert blob.download_blob().readall() == attempt.encode()
    finally:
        blob_service_client.delete_container(container_name("my-tracked-job"))
