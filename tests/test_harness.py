"""The test harness itself: the session's Blob service answers, and OAuth mode works."""

from __future__ import annotations

import datetime

from azure.core.credentials import TokenCredential
from azure.storage.blob import BlobServiceClient, ContainerClient, ContainerSasPermissions
from azure.storage.blob import generate_container_sas as make_container_sas

from scripts.azurite import StorageEndpoint


def test_blob_service_answers(blob_service_client: BlobServiceClient, job_id: str) -> None:
    blob_service_client.get_service_properties()
    container = blob_service_client.create_container(job_id)
    try:
        container.upload_blob("hello.txt", b"hello")
        assert [b.name for b in container.list_blobs()] == ["hello.txt"]
        assert container.download_blob("hello.txt").readall() == b"hello"
    finally:
        container.delete_container()


def test_job_ids_are_fresh(job_id: str) -> None:
    assert job_id.startswith("test-")
    assert len(job_id) == len("test-") + 8


def test_user_delegation_sas(
    azurite_oauth: StorageEndpoint, oauth_credential: TokenCredential, job_id: str
) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    expiry = now + datetime.timedelta(hours=1)
    with BlobServiceClient(
        azurite_oauth.blob_endpoint, credential=oauth_credential, **azurite_oauth.client_kwargs
    ) as service:
        service.create_container(job_id)
        key = service.get_user_delegation_key(now - datetime.timedelta(minutes=5), expiry)

    sas = make_container_sas(
        azurite_oauth.account_name,
        job_id,
        user_delegation_key=key,
        permission=ContainerSasPermissions(read=True, write=True, create=True, list=True),
        expiry=expiry,
    )
    url = f"{azurite_oauth.blob_endpoint}/{job_id}?{sas}"
    with ContainerClient.from_container_url(url, **azurite_oauth.client_kwargs) as container:
        container.upload_blob("stdout.txt", b"delegated")
        assert [b.name for b in container.list_blobs()] == ["stdout.txt"]
