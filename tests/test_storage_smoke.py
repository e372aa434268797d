"""The naming rules against a real Blob service: the names they give are accepted as-is, and
both faces' storages write and read them."""

from __future__ import annotations

from typing import Any

from azure.storage.blob import BlobServiceClient

from conventions import TaskOutputKind, container_name, parse_blob_name, task_blob_name
from conventions.sas import prepare_output_storage

from .face_fixtures import Face


def test_container_and_blob_names_round_trip_on_azurite(
    blob_service_client: BlobServiceClient, job_id: str
) -> None:
    schedule_job_id = f"Schedule_{job_id}:job-1"  # hashed name: ':' and '_' are not legal
    container = blob_service_client.create_container(container_name(schedule_job_id))
    blob_name = task_blob_name("task-1", TaskOutputKind.TASK_LOG, r"..\logs/résumé +#%.txt")
    container.upload_blob(blob_name, b"hello")

    assert [blob.name for blob in container.list_blobs()] == [blob_name]
    assert container.download_blob(blob_name).readall() == b"hello"
    location = parse_blob_name(blob_name)
    assert (location.task_id, location.kind, location.path) == (
        "task-1",
        TaskOutputKind.TASK_LOG,
        "logs/résumé +#%.txt",
    )


def test_the_storage_writes_and_reads_those_names_on_azurite(
    face: Face, face_service: Any, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    schedule_job_id = f"Schedule_{job_id}:job-1"
    prepare_output_storage(blob_service_client, schedule_job_id)
    path = r"..\logs/résumé +#%.txt"
    with face.TaskOutputStorage.from_service_client(
        face_service, schedule_job_id, "task-1"
    ) as task:
        assert task.container_name == container_name(schedule_job_id)
        ref = task.save_bytes(TaskOutputKind.TASK_LOG, b"hello", path)
        assert ref.blob_name == task_blob_name("task-1", TaskOutputKind.TASK_LOG, path)
        [listed] = task.list_outputs(TaskOutputKind.TASK_LOG)
        assert (listed.task_id, listed.kind, listed.path) == (
            "task-1",
            TaskOutputKind.TASK_LOG,
            "logs/résumé +#%.txt",
        )
        assert listed.download_bytes() == b"hello"
