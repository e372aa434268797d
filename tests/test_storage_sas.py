"""SAS-only clients, user-delegation SAS and ``from_environment`` on Azurite, with their errors."""

from __future__ import annotations

import datetime
import pickle
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.credentials import TokenCredential
from azure.storage.blob import BlobServiceClient

from conventions import (
    AccessDeniedError,
    ContainerMismatchError,
    InvalidIdError,
    JobOutputKind,
    StorageError,
    TaskOutputKind,
    container_name,
)
from conventions.sas import SasError, output_container_url, prepare_output_storage
from conventions.storage import JobOutputStorage, MissingEnvironmentVariableError
from scripts.azurite import StorageEndpoint

from .face_fixtures import Face
from .face_support import sas_module


def _query(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def _service(face: Face, account_url: str, **kwargs: Any) -> Any:
    """A ``BlobServiceClient`` of the face's kind (an aio one through the portal); use it in
    a ``with`` block."""
    if face.portal is None:
        return BlobServiceClient(account_url, **kwargs)
    from azure.storage.blob.aio import BlobServiceClient as AsyncBlobServiceClient

    return face.portal.wrap(AsyncBlobServiceClient(account_url, **kwargs))


class _AsyncCredential:
    """A sync test credential as the aio clients take one (``get_token_info`` awaited)."""

    def __init__(self, credential: Any) -> None:
        self._credential = credential

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return self._credential.get_token(*scopes, **kwargs)

    async def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        return self._credential.get_token_info(*scopes, options=options)

    async def close(self) -> None:
        self._credential.close()

    async def __aenter__(self) -> _AsyncCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def test_sas_built_storage_saves_and_the_account_lists(
    face: Face, face_service: Any, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    # .NET CloudJobExtensionsTests: a GetOutputStorageContainerUrl URL saves; the account lists.
    sas = sas_module(face)
    sas.prepare_output_storage(face_service, job_id)
    url = sas.output_container_url(face_service, job_id, expiry=datetime.timedelta(minutes=5))
    assert url.split("?")[0].endswith("/" + container_name(job_id))
    assert _query(url)["sp"] == "racwl"
    assert _query(url)["sr"] == "c"
    with face.JobOutputStorage.from_container_url(url) as storage:
        storage.save_text(JobOutputKind.JOB_PREVIEW, "via SAS", "SavedViaSas.txt")
        assert "sig=REDACTED" in repr(storage)
        assert re.search(r"sig=(?!REDACTED)", repr(storage)) is None
    container = blob_service_client.get_container_client(container_name(job_id))
    names = [b.name for b in container.list_blobs()]
    assert names == ["$JobPreview/SavedViaSas.txt"]


def test_permissions_are_normalised(face: Face, face_service: Any, job_id: str) -> None:
    url = sas_module(face).output_container_url(face_service, job_id, permissions="lr")
    assert _query(url)["sp"] == "rl"


def test_expiry_and_start_take_aware_datetimes_and_timedeltas(
    face: Face, face_service: Any, job_id: str
) -> None:
    tokyo = datetime.timezone(datetime.timedelta(hours=9))
    expiry = datetime.datetime(2031, 1, 2, 9, 0, tzinfo=tokyo)
    url = sas_module(face).output_container_url(
        face_service, job_id, expiry=expiry, start=-datetime.timedelta(hours=1)
    )
    query = _query(url)
    assert query["se"] == "2031-01-02T00:00:00Z"  # converted to UTC, not read as local
    signed_start = datetime.datetime.fromisoformat(query["st"].replace("Z", "+00:00"))
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - signed_start) - datetime.timedelta(hours=1)) < datetime.timedelta(minutes=5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"expiry": datetime.timedelta(0)}, "in the future"),
        ({"expiry": datetime.timedelta(seconds=-1)}, "in the future"),
        # Issue 11: each of these was signed without complaint.
        ({"start": "yesterday"}, "timedelta or a timezone-aware datetime"),
        ({"start": datetime.datetime(2030, 1, 1)}, "naive datetime"),
        ({"expiry": datetime.datetime(2030, 1, 1)}, "naive datetime"),
        ({"expiry": 3600}, "timedelta or a timezone-aware datetime"),
        (
            {"start": datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=8)},
            "before the expiry",
        ),
        (
            {"start": datetime.timedelta(hours=2), "expiry": datetime.timedelta(hours=1)},
            "before the expiry",
        ),
        (
            {"expiry": datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)},
            "in the future",
        ),
        ({"permissions": ""}, "SAS letters"),
        ({"permissions": "rq"}, "SAS letters"),
    ],
)
def test_bad_sas_requests_raise(
    face: Face, face_service: Any, job_id: str, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(SasError, match=match):
        sas_module(face).output_container_url(face_service, job_id, **kwargs)
    assert issubclass(SasError, ValueError)


def test_client_without_key_or_token_cannot_sign(
    face: Face, azurite: StorageEndpoint, job_id: str
) -> None:
    # .NET: "Blob service client must be authorized with shared key credentials..."
    anonymous = _service(face, azurite.blob_endpoint, **azurite.client_kwargs)
    with anonymous, pytest.raises(SasError, match="account key"):
        sas_module(face).output_container_url(anonymous, job_id)


def _denied(call: Callable[[], object], permission: str) -> AccessDeniedError:
    with pytest.raises(AccessDeniedError) as caught:
        call()
    error = caught.value
    assert error.permission == permission
    assert f"permission {permission!r}" in str(error)
    assert re.search(r"sig=(?!REDACTED)", str(error)) is None
    assert error.container is not None
    assert error.container in str(error)
    assert error.__cause__ is not None
    return error


def test_task_side_sas_acw_saves_but_cannot_list_read_or_delete(
    face: Face, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    url = output_container_url(blob_service_client, job_id, permissions="acw")
    with face.TaskOutputStorage.from_container_url(url, "t1") as task:
        ref = task.save_bytes(TaskOutputKind.TASK_OUTPUT, b"data", "out.txt")
        assert ref.blob_name == "t1/$TaskOutput/out.txt"
        _denied(lambda: list(task.list_outputs(TaskOutputKind.TASK_OUTPUT)), "l")
        error = _denied(lambda: task.get_output(TaskOutputKind.TASK_OUTPUT, "out.txt"), "r")
        assert error.blob == "t1/$TaskOutput/out.txt"
        _denied(ref.download_bytes, "r")
        _denied(ref.delete, "d")
    with face.JobOutputStorage.from_container_url(url) as job:
        _denied(lambda: list(job.task_ids()), "l")


def test_client_side_sas_rl_lists_and_reads_but_cannot_write_or_delete(
    face: Face, blob_service_client: BlobServiceClient, job_id: str, tmp_path: object
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    with JobOutputStorage.from_service_client(blob_service_client, job_id) as writer:  # set-up
        writer.task("t1").save_bytes(TaskOutputKind.TASK_OUTPUT, b"data", "out.txt")
    url = output_container_url(blob_service_client, job_id, permissions="rl")
    with face.JobOutputStorage.from_container_url(url) as job:
        assert list(job.task_ids()) == ["t1"]
        [ref] = job.list_task_outputs(TaskOutputKind.TASK_OUTPUT)
        assert ref.download_bytes() == b"data"
        assert job.task("t1").get_output(TaskOutputKind.TASK_OUTPUT, "out.txt").size == 4
        assert "sig=" in ref.url
        assert "sig=REDACTED" in repr(ref)
        assert re.search(r"sig=(?!REDACTED)", repr(ref)) is None
        _denied(lambda: job.task("t1").save_bytes(TaskOutputKind.TASK_OUTPUT, b"x", "x"), "w")
        _denied(lambda: job.save_text(JobOutputKind.JOB_OUTPUT, "x", "x.txt"), "w")
        _denied(ref.delete, "d")


def test_delete_works_when_the_sas_allows_it(
    face: Face, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    # The default SAS has no 'd', like .NET's (hazard 7); permissions= adds it (decision D-21).
    prepare_output_storage(blob_service_client, job_id)
    url = output_container_url(blob_service_client, job_id, permissions="racwdl")
    with face.TaskOutputStorage.from_container_url(url, "t1") as task:
        task.save_bytes(TaskOutputKind.TASK_OUTPUT, b"x", "x.txt").delete()
        assert list(task.list_outputs(TaskOutputKind.TASK_OUTPUT)) == []


def test_user_delegation_sas_through_oauth(
    face: Face, azurite_oauth: StorageEndpoint, oauth_credential: TokenCredential, job_id: str
) -> None:
    sas = sas_module(face)
    credential = _AsyncCredential(oauth_credential) if face.is_async else oauth_credential
    with _service(
        face, azurite_oauth.blob_endpoint, credential=credential, **azurite_oauth.client_kwargs
    ) as service:
        sas.prepare_output_storage(service, job_id)
        sas.prepare_output_storage(service, job_id)
        url = sas.output_container_url(service, job_id)
        with pytest.raises(SasError, match="at most 7 days"):
            sas.output_container_url(service, job_id, expiry=datetime.timedelta(days=8))
    query = _query(url)
    assert {"skoid", "sktid", "ske"} <= query.keys()
    assert query["sp"] == "racwl"
    with face.TaskOutputStorage.from_container_url(
        url, "t1", **azurite_oauth.client_kwargs
    ) as task:
        task.save_bytes(TaskOutputKind.TASK_LOG, b"delegated", "stdout.txt")
        [ref] = task.list_outputs(TaskOutputKind.TASK_LOG)
        assert ref.download_bytes() == b"delegated"


def test_from_environment_with_container_url(
    face: Face, blob_service_client: BlobServiceClient, job_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    url = output_container_url(blob_service_client, job_id)
    monkeypatch.setenv("AZ_BATCH_JOB_ID", job_id)
    monkeypatch.setenv("AZ_BATCH_TASK_ID", "task-7")
    monkeypatch.setenv("CONVENTIONS_CONTAINER_URL", url)
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    with face.TaskOutputStorage.from_environment() as task:
        assert task.task_id == "task-7"
        task.save_text(TaskOutputKind.TASK_OUTPUT, "hi", "hi.txt")
    with face.JobOutputStorage.from_environment() as job:
        [ref] = job.list_task_outputs(TaskOutputKind.TASK_OUTPUT)
        assert (ref.task_id, ref.path) == ("task-7", "hi.txt")


def test_from_environment_with_connection_string(
    face: Face, blob_service_client: BlobServiceClient, azurite: StorageEndpoint, job_id: str
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    env = {
        "AZ_BATCH_JOB_ID": job_id,
        "AZ_BATCH_TASK_ID": "task-7",
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
    }
    with face.TaskOutputStorage.from_environment(env, **azurite.client_kwargs) as task:
        assert task.container_name == container_name(job_id)
        task.save_bytes(TaskOutputKind.TASK_OUTPUT, b"x", "x.bin")
        assert [r.path for r in task.list_outputs(TaskOutputKind.TASK_OUTPUT)] == ["x.bin"]


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "AZ_BATCH_JOB_ID"),
        ({"AZ_BATCH_JOB_ID": "j"}, "AZ_BATCH_TASK_ID"),
        ({"AZ_BATCH_JOB_ID": "j", "AZ_BATCH_TASK_ID": "t"}, "CONVENTIONS_CONTAINER_URL"),
    ],
)
def test_from_environment_names_the_missing_variable(
    face: Face, env: dict[str, str], missing: str
) -> None:
    with pytest.raises(MissingEnvironmentVariableError, match=missing) as caught:
        face.TaskOutputStorage.from_environment(env)
    assert caught.value.name == missing
    if missing.startswith("CONVENTIONS"):  # the container: all three options are named
        for other in ("AZURE_STORAGE_CONNECTION_STRING", "CONVENTIONS_ACCOUNT_URL"):
            assert other in str(caught.value)
    assert isinstance(caught.value, LookupError)


def test_from_environment_checks_the_ids(face: Face) -> None:
    with pytest.raises(InvalidIdError):
        face.TaskOutputStorage.from_environment({"AZ_BATCH_JOB_ID": "j", "AZ_BATCH_TASK_ID": "a b"})


def test_connection_failure_is_a_storage_error(face: Face, job_id: str) -> None:
    # Nothing listens on port 9 of 127.0.0.1; one quick try (no retries).
    url = f"http://127.0.0.1:9/devstoreaccount1/{container_name(job_id)}?sv=2020-02-10&sig=SECRET"
    job = face.JobOutputStorage.from_container_url(url, retry_total=0)
    with job, pytest.raises(StorageError) as caught:
        job.save_bytes(JobOutputKind.JOB_OUTPUT, b"x", "x")
    assert "SECRET" not in str(caught.value)
    assert caught.value.blob == "$JobOutput/x"


def test_a_rejected_sas_says_so(
    face: Face, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    url = output_container_url(blob_service_client, job_id)
    forged = url.replace("sig=", "sig=AAAA")
    job = face.JobOutputStorage.from_container_url(forged)
    with job, pytest.raises(AccessDeniedError) as caught:
        list(job.list_outputs(JobOutputKind.JOB_OUTPUT))
    assert "rejected" in str(caught.value)
    assert "AAAA" not in str(caught.value)


def test_max_concurrency_must_be_positive(face: Face, face_service: Any, job_id: str) -> None:
    task = face.TaskOutputStorage.from_service_client(face_service, job_id, "t1")
    with task, pytest.raises(ValueError, match="max_concurrency"):
        task.save_many(TaskOutputKind.TASK_OUTPUT, [], max_concurrency=0)


def test_environment_error_pickles() -> None:
    error = MissingEnvironmentVariableError("AZ_BATCH_JOB_ID", "run inside a task")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.name, str(copy)) == (error.name, str(error))
    assert pickle.loads(pickle.dumps(SasError("x"))).args == ("x",)


def test_from_environment_refuses_a_url_for_another_job(
    face: Face, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    # One job, one container: this used to be only a warning (see test_storage_identity.py).
    url = output_container_url(blob_service_client, job_id)
    env = {"AZ_BATCH_JOB_ID": "other-job", "CONVENTIONS_CONTAINER_URL": url}
    with pytest.raises(ContainerMismatchError, match="job-other-job") as caught:
        face.JobOutputStorage.from_environment(env)
    assert "sig=" not in str(caught.value)
