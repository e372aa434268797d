"""The naming rules against a real Blob service: the names they give are accepted as-is."""

from __future__ import annotations

from azure.storage.blob import BlobServiceClient

from conventions import TaskOutputKind, container_name, parse_blob_name, task_blob_name


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
