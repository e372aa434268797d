"""TaskOutputStorage.save_tracked: the tracked save wired to the task's layout, on Azurite."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from conventions import InvalidPathError, TaskOutputKind, task_blob_name
from conventions.sas import prepare_output_storage
from conventions.storage import TaskOutputStorage
from conventions.tracked import TrackedBlobExistsError


def test_save_tracked_streams_to_the_task_log(
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "stdout.txt"
    storage = TaskOutputStorage.from_service_client(blob_service_client, job_id, "t1")
    with storage.save_tracked("stdout.txt", flush_interval=30) as tracked:
        monkeypatch.chdir("/")  # the source was resolved when tracking began
        log.write_bytes(b"line 1\n")
        assert tracked.flush() == 7
        with log.open("ab") as handle:
            handle.write(b"line 2\n")
    reference = storage.get_output(TaskOutputKind.TASK_LOG, "stdout.txt")
    assert reference.blob_name == task_blob_name("t1", TaskOutputKind.TASK_LOG, "stdout.txt")
    assert reference.download_bytes() == b"line 1\nline 2\n"

    # A second tracking of the same blob refuses to append after the old content...
    with pytest.raises(TrackedBlobExistsError):
        storage.save_tracked(log, destination="stdout.txt").start()
    # ...unless asked to replace it, under another kind and name here too.
    with storage.save_tracked(
        log, kind=TaskOutputKind.TASK_OUTPUT, destination="logs/run.txt", overwrite=True
    ):
        pass
    assert storage.get_output(TaskOutputKind.TASK_OUTPUT, "logs/run.txt").download_bytes() == (
        log.read_bytes()
    )


def test_save_tracked_of_an_absolute_source_needs_a_destination(
    blob_service_client: BlobServiceClient, job_id: str, tmp_path: Path
) -> None:
    storage = TaskOutputStorage.from_service_client(blob_service_client, job_id, "t1")
    with pytest.raises(InvalidPathError, match="relative"):
        storage.save_tracked(tmp_path / "stdout.txt")
