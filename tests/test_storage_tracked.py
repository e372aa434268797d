"""TaskOutputStorage.save_tracked: the tracked save wired to the task's layout, on Azurite,
on both faces (``face``: the async one is ``conventions.aio``, driven through the portal)."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from conventions import InvalidPathError, TaskOutputKind, task_blob_name
from conventions.sas import prepare_output_storage
from conventions.tracked import TrackedBlobExistsError
from scripts.azurite import StorageEndpoint

from .face_fixtures import Face


def test_save_tracked_streams_to_the_task_log(
    face: Face,
    azurite: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "stdout.txt"
    with face.TaskOutputStorage.from_connection_string(
        azurite.connection_string, job_id, "t1", **azurite.client_kwargs
    ) as storage:
        with storage.save_tracked("stdout.txt", flush_interval=30) as tracked:
            monkeypatch.chdir("/")  # the source was resolved when tracking began
            log.write_bytes(b"line 1\n")
            assert tracked.flush() == 7
            with log.open("ab") as handle:
                handle.write(b"line 2\n")
        assert tracked.closed
        assert type(tracked.errors) is tuple
        assert tracked.errors == ()
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
        stored = storage.get_output(TaskOutputKind.TASK_OUTPUT, "logs/run.txt")
        assert stored.download_bytes() == log.read_bytes()


def test_save_tracked_returns_the_faces_tracked_file(
    face: Face, azurite: StorageEndpoint, job_id: str, tmp_path: Path
) -> None:
    with face.TaskOutputStorage.from_connection_string(
        azurite.connection_string, job_id, "t1", **azurite.client_kwargs
    ) as storage:
        tracked = storage.save_tracked(tmp_path / "x.txt", destination="x.txt")
        target = tracked if face.portal is None else object.__getattribute__(tracked, "_target")
        expected = "conventions.aio.tracked" if face.is_async else "conventions.tracked"
        assert type(target).__module__ == expected
        assert not tracked.closed  # built, not started: nothing to close


def test_save_tracked_of_an_absolute_source_needs_a_destination(
    face: Face, azurite: StorageEndpoint, job_id: str, tmp_path: Path
) -> None:
    with face.TaskOutputStorage.from_connection_string(
        azurite.connection_string, job_id, "t1", **azurite.client_kwargs
    ) as storage, pytest.raises(InvalidPathError, match="relative"):
        storage.save_tracked(tmp_path / "stdout.txt")
