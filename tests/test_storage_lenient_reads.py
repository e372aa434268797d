"""Issue 11 on Azurite: outputs .NET wrote are listed and downloaded; a task storage from
``job.task`` borrows the job's client; a str is not a list of task IDs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from conventions import InvalidIdError, JobOutputKind, TaskOutputKind
from conventions.sas import prepare_output_storage
from scripts.azurite import StorageEndpoint

from .face_fixtures import Face
from .storage_support import tree

# Names the .NET library writes (any non-empty custom kind text), beside our own.
NET_NAMES = {
    "t1/$Task.Logs/run.log": b"dotted kind",
    "t1/$my kind/a.txt": b"spaced kind",
    "t2/$Task.Logs/run.log": b"second task",
    "$Ünïcode/a.txt": b"non-ASCII job kind",
    "t1/$TaskOutput/a:b.txt": b"a Linux name with a colon",
}


@pytest.fixture
def net_job(
    face: Face, face_service: Any, blob_service_client: BlobServiceClient, job_id: str
) -> Any:
    """The face's ``JobOutputStorage`` over what .NET writes (its tests run on both faces)."""
    prepare_output_storage(blob_service_client, job_id)
    job = face.JobOutputStorage.from_service_client(face_service, job_id)
    for name, data in NET_NAMES.items():
        job.container_client.upload_blob(name, data)
    return job


def test_listing_reads_every_name_dotnet_writes(
    net_job: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with net_job, caplog.at_level(logging.WARNING, logger="conventions"):
        listed = {ref.blob_name: (ref.task_id, ref.kind, ref.path) for ref in net_job.list_all()}
        dotted = [ref.path for ref in net_job.list_task_outputs(TaskOutputKind("Task.Logs"))]
        unicode_job = [ref.path for ref in net_job.list_outputs(JobOutputKind("Ünïcode"))]
    assert listed == {
        "t1/$Task.Logs/run.log": ("t1", TaskOutputKind("Task.Logs"), "run.log"),
        "t1/$my kind/a.txt": ("t1", TaskOutputKind("my kind"), "a.txt"),
        "t2/$Task.Logs/run.log": ("t2", TaskOutputKind("Task.Logs"), "run.log"),
        "$Ünïcode/a.txt": (None, JobOutputKind("Ünïcode"), "a.txt"),
        "t1/$TaskOutput/a:b.txt": ("t1", TaskOutputKind.TASK_OUTPUT, "a:b.txt"),
    }
    assert dotted == ["run.log", "run.log"]
    assert unicode_job == ["a.txt"]
    assert not caplog.records  # nothing skipped


def test_download_of_a_dotnet_custom_kind(net_job: Any, tmp_path: Path) -> None:
    with net_job:
        summary = net_job.download(TaskOutputKind.parse("custom:Task.Logs"), tmp_path)
    assert summary.files == 2
    assert tree(tmp_path) == {"t1/run.log": b"dotted kind", "t2/run.log": b"second task"}


def test_a_task_storage_from_the_job_leaves_the_shared_client_open(
    face: Face, blob_service_client: BlobServiceClient, job_id: str, azurite: StorageEndpoint
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    # A job storage that owns its transport (a client from a service client does not).
    with face.JobOutputStorage.from_connection_string(
        azurite.connection_string, job_id, **azurite.client_kwargs
    ) as job:
        with job.task("t1") as task:
            task.save_text(TaskOutputKind.TASK_OUTPUT, "one", "a.txt")
        job.task("t2").close()
        # On main the next call failed: "HTTP transport has already been closed".
        job.task("t2").save_text(TaskOutputKind.TASK_OUTPUT, "two", "b.txt")
        assert sorted(ref.blob_name for ref in job.list_all()) == [
            "t1/$TaskOutput/a.txt",
            "t2/$TaskOutput/b.txt",
        ]


def test_a_string_is_not_a_list_of_task_ids(net_job: Any, tmp_path: Path) -> None:
    with net_job:
        # On main "t1" listed tasks "t" and "1" and downloaded nothing.
        with pytest.raises(InvalidIdError, match=r"write \['t1'\]"):
            net_job.download(TaskOutputKind.TASK_OUTPUT, tmp_path, task_ids="t1")
        with pytest.raises(InvalidIdError, match="not one string"):
            net_job.list_task_outputs(TaskOutputKind.TASK_OUTPUT, "t1")
        with pytest.raises(InvalidIdError):
            net_job.list_task_outputs(TaskOutputKind.TASK_OUTPUT, b"t1")
        listed = net_job.list_task_outputs(TaskOutputKind.TASK_OUTPUT, ["t1"])
        assert [ref.path for ref in listed] == ["a:b.txt"]
    assert tree(tmp_path) == {}
