"""The README's storage quickstarts run as written, on Azurite."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from conventions import container_name
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
