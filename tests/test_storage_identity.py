"""Managed identity and Entra ID: from_environment with CONVENTIONS_ACCOUNT_URL, from_account_url,
and one job, one container. Against Azurite in its OAuth mode, with a real token endpoint
(tests/tokenendpoint.py) that azure-identity's own credential classes fetch from."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import TokenCredential
from azure.storage.blob import BlobServiceClient

from conventions import (
    ContainerMismatchError,
    CredentialError,
    JobOutputKind,
    MissingDependencyError,
    MissingEnvironmentVariableError,
    TaskOutputKind,
    container_name,
)
from conventions.sas import output_container_url, prepare_output_storage
from scripts.azurite import StorageEndpoint
from tests.storage_support import tree
from tests.tokenendpoint import TokenEndpoint

from .face_fixtures import Face


@pytest.fixture
def oauth_job(
    azurite_oauth: StorageEndpoint, oauth_credential: TokenCredential, job_id: str
) -> str:
    """*job_id* with its container created on the OAuth Azurite."""
    with BlobServiceClient(
        azurite_oauth.blob_endpoint, credential=oauth_credential, **azurite_oauth.client_kwargs
    ) as service:
        prepare_output_storage(service, job_id)
    return job_id


def _credential(face: Face, kind: str, client_id: str) -> Any:
    """azure-identity's own credential of *kind* for the face: the async face signs in with
    ``azure.identity.aio``'s (its clients await ``get_token``)."""
    import azure.identity
    import azure.identity.aio

    identity: Any = azure.identity.aio if face.is_async else azure.identity
    if kind == "managed identity":
        return identity.ManagedIdentityCredential(client_id=client_id)
    return identity.DefaultAzureCredential(managed_identity_client_id=client_id)


def _close(face: Face, credential: Any) -> None:
    """Close a credential the test made (an async one on the portal's loop)."""
    if face.portal is not None:
        face.portal.run(credential.close())
    else:
        credential.close()


def _task_env(endpoint: StorageEndpoint, job_id: str, **extra: str) -> dict[str, str]:
    return {
        "AZ_BATCH_JOB_ID": job_id,
        "AZ_BATCH_TASK_ID": "t1",
        "CONVENTIONS_ACCOUNT_URL": endpoint.blob_endpoint,
        **extra,
    }


def test_from_environment_signs_in_with_the_pools_managed_identity(
    face: Face,
    azurite_oauth: StorageEndpoint,
    token_endpoint: TokenEndpoint,
    oauth_job: str,
    tmp_path: Path,
) -> None:
    client_id = str(uuid.uuid4())
    env = _task_env(azurite_oauth, oauth_job, AZURE_CLIENT_ID=client_id)
    (tmp_path / "result.csv").write_text("a,b\n1,2\n")
    log = tmp_path / "stdout.txt"
    log.write_text("step 1\n")
    with face.TaskOutputStorage.from_environment(env, **azurite_oauth.client_kwargs) as task:
        saved = task.save(TaskOutputKind.TASK_OUTPUT, "result.csv", base_dir=tmp_path)
        tracked = task.save_tracked(log, destination="stdout.txt", flush_interval=0.05)
        with tracked, log.open("a") as file:
            file.write("step 2\n")
    assert saved.blob_name == "t1/$TaskOutput/result.csv"
    with face.JobOutputStorage.from_environment(env, **azurite_oauth.client_kwargs) as job:
        assert job.container_name == container_name(oauth_job)
        listed = {(ref.task_id, ref.kind.text, ref.path) for ref in job.list_all()}
        summary = job.download(TaskOutputKind.TASK_OUTPUT, tmp_path / "out")
        stored_log = job.task("t1").get_output(TaskOutputKind.TASK_LOG, "stdout.txt")
        assert stored_log.download_bytes() == b"step 1\nstep 2\n"
    assert listed == {("t1", "TaskOutput", "result.csv"), ("t1", "TaskLog", "stdout.txt")}
    assert summary.files == 1
    assert tree(tmp_path / "out") == {"t1/result.csv": b"a,b\n1,2\n"}
    # The real ManagedIdentityCredential asked the (IMDS) endpoint for the pool's identity.
    assert token_endpoint.client_ids
    assert set(token_endpoint.client_ids) == {client_id}
    assert {r.query["resource"] for r in token_endpoint.requests} == {"https://storage.azure.com"}


def test_from_environment_without_a_client_id_uses_the_default_chain(
    face: Face, azurite_oauth: StorageEndpoint, token_endpoint: TokenEndpoint, oauth_job: str
) -> None:
    env = _task_env(azurite_oauth, oauth_job)
    with face.JobOutputStorage.from_environment(env, **azurite_oauth.client_kwargs) as job:
        job.save_text(JobOutputKind.JOB_OUTPUT, "done", "summary.txt")
        assert [ref.path for ref in job.list_outputs(JobOutputKind.JOB_OUTPUT)] == ["summary.txt"]
    # DefaultAzureCredential reached the managed identity (system-assigned: no client id).
    assert token_endpoint.client_ids
    assert set(token_endpoint.client_ids) == {None}


@pytest.mark.parametrize("kind", ["managed identity", "default chain"])
def test_from_account_url_with_an_explicit_credential(
    face: Face,
    azurite_oauth: StorageEndpoint,
    token_endpoint: TokenEndpoint,
    oauth_job: str,
    kind: str,
) -> None:
    client_id = str(uuid.uuid4())
    credential = _credential(face, kind, client_id)
    url = azurite_oauth.blob_endpoint
    kwargs = azurite_oauth.client_kwargs
    with face.TaskOutputStorage.from_account_url(
        url, oauth_job, "t7", credential=credential, **kwargs
    ) as task:
        task.save_bytes(TaskOutputKind.TASK_PREVIEW, b"\x89PNG", "thumb.png")
    with face.JobOutputStorage.from_account_url(
        url, oauth_job, credential=credential, **kwargs
    ) as job:
        assert job.container_name == container_name(oauth_job)
        refs = list(job.list_task_outputs(TaskOutputKind.TASK_PREVIEW))
        assert [(ref.task_id, ref.path, ref.download_bytes()) for ref in refs] == [
            ("t7", "thumb.png", b"\x89PNG")
        ]
    _close(face, credential)  # a credential passed in is the caller's to close
    assert set(token_endpoint.client_ids) == {client_id}


def test_from_account_url_defaults_to_the_default_chain(
    face: Face, azurite_oauth: StorageEndpoint, token_endpoint: TokenEndpoint, oauth_job: str
) -> None:
    with face.JobOutputStorage.from_account_url(
        azurite_oauth.blob_endpoint, oauth_job, **azurite_oauth.client_kwargs
    ) as job:
        job.save_text(JobOutputKind.JOB_PREVIEW, "hi", "p.txt")
        assert job.get_output(JobOutputKind.JOB_PREVIEW, "p.txt").download_text() == "hi"
    assert token_endpoint.requests


def test_a_refused_identity_is_one_clear_error_in_bounded_time(
    face: Face, azurite_oauth: StorageEndpoint, token_endpoint: TokenEndpoint, oauth_job: str
) -> None:
    token_endpoint.refuse = True
    client_id = str(uuid.uuid4())
    env = _task_env(azurite_oauth, oauth_job, AZURE_CLIENT_ID=client_id)
    started = time.monotonic()
    with (
        face.TaskOutputStorage.from_environment(env, **azurite_oauth.client_kwargs) as task,
        pytest.raises(CredentialError) as caught,
    ):
        task.save_text(TaskOutputKind.TASK_OUTPUT, "x", "x.txt")
    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert "\n" not in message
    assert client_id in message
    assert "AZURE_CLIENT_ID" in message
    assert elapsed < 15, elapsed
    # Asked once: the storage client's retry policy did not repeat the failed sign-in.
    assert len(token_endpoint.requests) == 1


def test_a_missing_configuration_names_all_three_options(face: Face) -> None:
    env = {"AZ_BATCH_JOB_ID": "j", "AZ_BATCH_TASK_ID": "t"}
    with pytest.raises(MissingEnvironmentVariableError) as caught:
        face.TaskOutputStorage.from_environment(env)
    for name in (
        "CONVENTIONS_CONTAINER_URL",
        "AZURE_STORAGE_CONNECTION_STRING",
        "CONVENTIONS_ACCOUNT_URL",
        "AZURE_CLIENT_ID",
    ):
        assert name in str(caught.value)


def test_without_azure_identity_the_error_names_the_extra(
    face: Face, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a missing package looks like to `import`: its entry in sys.modules is None
    # (its subpackage's too: the async face imports azure.identity.aio, maybe loaded already).
    monkeypatch.setitem(sys.modules, "azure.identity", None)
    monkeypatch.setitem(sys.modules, "azure.identity.aio", None)
    with pytest.raises(MissingDependencyError, match=r"batch-file-conventions\[identity\]"):
        face.JobOutputStorage.from_account_url("https://acct.blob.core.windows.net", "j")
    env = {"AZ_BATCH_JOB_ID": "j", "CONVENTIONS_ACCOUNT_URL": "https://a.blob.core.windows.net"}
    with pytest.raises(MissingDependencyError, match="identity"):
        face.JobOutputStorage.from_environment(env)


# -- one job, one container ---------------------------------------------------------------------


def test_from_environment_refuses_another_jobs_container(
    face: Face, blob_service_client: BlobServiceClient, azurite: StorageEndpoint, job_id: str
) -> None:
    other = f"{job_id}-other"
    prepare_output_storage(blob_service_client, other)
    url = output_container_url(blob_service_client, other)
    env = {"AZ_BATCH_JOB_ID": job_id, "AZ_BATCH_TASK_ID": "t1", "CONVENTIONS_CONTAINER_URL": url}
    for make in (face.TaskOutputStorage.from_environment, face.JobOutputStorage.from_environment):
        with pytest.raises(ContainerMismatchError) as caught:
            make(env)
        message = str(caught.value)
        assert container_name(other) in message
        assert container_name(job_id) in message
        assert "allow_other_container=True" in message
        assert "sig=" not in message
        assert (caught.value.container, caught.value.expected) == (
            container_name(other),
            container_name(job_id),
        )
    # Opting out explicitly uses the URL's container as it is.
    with face.TaskOutputStorage.from_environment(env, allow_other_container=True) as task:
        assert task.container_name == container_name(other)
        task.save_text(TaskOutputKind.TASK_OUTPUT, "x", "x.txt")
    # The job's own container passes.
    prepare_output_storage(blob_service_client, job_id)
    own = {**env, "CONVENTIONS_CONTAINER_URL": output_container_url(blob_service_client, job_id)}
    with face.JobOutputStorage.from_environment(own) as job:
        assert job.container_name == container_name(job_id)


def test_from_container_url_checks_the_job_when_told_it(
    face: Face, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    url = output_container_url(blob_service_client, job_id)
    with pytest.raises(ContainerMismatchError):
        face.JobOutputStorage.from_container_url(url, job_id="another-job")
    with pytest.raises(ContainerMismatchError):
        face.TaskOutputStorage.from_container_url(url, "t1", job_id="another-job")
    with face.JobOutputStorage.from_container_url(url, job_id=job_id) as job:
        assert job.container_name == container_name(job_id)


def test_a_credential_the_storage_built_is_closed_with_it(
    face: Face, azurite_oauth: StorageEndpoint, token_endpoint: TokenEndpoint, oauth_job: str
) -> None:
    # What the library creates, it closes (issue 22); a credential passed in stays open.
    env = _task_env(azurite_oauth, oauth_job, AZURE_CLIENT_ID=str(uuid.uuid4()))
    with face.TaskOutputStorage.from_environment(env, **azurite_oauth.client_kwargs) as task:
        built = task.container_client.credential
        task.save_text(TaskOutputKind.TASK_OUTPUT, "x", "x.txt")
        assert not built.closed
    assert built.closed
    mine = _credential(face, "managed identity", str(uuid.uuid4()))
    closed: list[bool] = []
    original = mine.close

    def close() -> Any:
        closed.append(True)
        return original()  # the async face's: a coroutine, awaited by whoever closes

    mine.close = close
    with face.JobOutputStorage.from_account_url(
        azurite_oauth.blob_endpoint, oauth_job, credential=mine, **azurite_oauth.client_kwargs
    ):
        pass
    assert closed == []
    _close(face, mine)
