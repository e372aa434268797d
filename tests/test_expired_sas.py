"""Issue 21 item 4: a storage call refused for an expired SAS says so, naming the expiry,
instead of guessing at a permission (the OutputFile builder already did)."""

from __future__ import annotations

import datetime
import re

import pytest
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas
from hypothesis import given
from hypothesis import strategies as st

from conventions import AccessDeniedError, InvalidOutputFileError, TaskOutputKind, container_name
from conventions.output_files import std_logs
from conventions.sas import prepare_output_storage
from conventions.urls import expired_sas, sas_expiry
from scripts.azurite import ACCOUNT_KEY

from .face_fixtures import Face

UTC = datetime.timezone.utc


def _container_url(
    service: BlobServiceClient, job_id: str, expiry: datetime.datetime, permission: str
) -> str:
    name = container_name(job_id)
    sas = generate_container_sas(
        service.account_name,  # type: ignore[arg-type]
        name,
        account_key=ACCOUNT_KEY,
        permission=ContainerSasPermissions.from_string(permission),
        expiry=expiry,
        start=expiry - datetime.timedelta(hours=2),
    )
    return f"{service.url.rstrip('/')}/{name}?{sas}"


@pytest.fixture
def expired(blob_service_client: BlobServiceClient, job_id: str) -> str:
    prepare_output_storage(blob_service_client, job_id)
    expiry = (datetime.datetime.now(UTC) - datetime.timedelta(minutes=5)).replace(microsecond=0)
    return _container_url(blob_service_client, job_id, expiry, "racwdl")


def _expiry_text(url: str) -> str:
    expiry = sas_expiry(url)
    assert expiry is not None
    return expiry.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_saving_with_an_expired_sas_names_the_expiry(face: Face, expired: str) -> None:
    with (
        face.TaskOutputStorage.from_container_url(expired, "t1") as task,
        pytest.raises(AccessDeniedError) as info,
    ):
        task.save_text(TaskOutputKind.TASK_OUTPUT, "hello", "a.txt")
    message = str(info.value)
    assert f"the SAS expired at {_expiry_text(expired)}" in message
    assert "needs permission" not in message  # no guess once the cause is known
    assert "sig=" not in message or "sig=REDACTED" in message


def test_listing_with_an_expired_sas_names_the_expiry(face: Face, expired: str) -> None:
    with (
        face.JobOutputStorage.from_container_url(expired) as job,
        pytest.raises(AccessDeniedError, match=re.escape(_expiry_text(expired))),
    ):
        list(job.list_task_outputs(TaskOutputKind.TASK_OUTPUT))


def test_storage_and_the_builder_agree_on_the_expiry(expired: str) -> None:
    with pytest.raises(
        InvalidOutputFileError, match=re.escape(f"expired at {_expiry_text(expired)}")
    ):
        std_logs(expired, "t1")


def test_a_refusal_with_a_valid_sas_still_names_the_permission(
    face: Face, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    url = _container_url(
        blob_service_client, job_id, datetime.datetime.now(UTC) + datetime.timedelta(hours=1), "r"
    )
    with (
        face.TaskOutputStorage.from_container_url(url, "t1") as task,
        pytest.raises(AccessDeniedError) as info,
    ):
        task.save_text(TaskOutputKind.TASK_OUTPUT, "hello", "a.txt")
    assert "expired at" not in str(info.value)
    assert "permission" in str(info.value)


@given(
    st.datetimes(
        min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2100, 1, 1)
    ).map(lambda moment: moment.replace(microsecond=0)),
    st.sampled_from(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H%%3A%M%%3A%SZ", "%Y-%m-%dT%H:%M:%S"]),
)
def test_sas_expiry_reads_what_sas_tokens_hold(moment: datetime.datetime, form: str) -> None:
    url = f"https://a.blob.core.windows.net/c?sv=2025-01-05&se={moment.strftime(form)}&sig=x"
    assert sas_expiry(url) == moment.replace(tzinfo=UTC)
    now = datetime.datetime(2050, 1, 1, tzinfo=UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert expired_sas(url, now) == (text if moment.replace(tzinfo=UTC) <= now else None)


def test_sas_expiry_without_or_with_a_bad_se() -> None:
    assert sas_expiry("https://a/c?sp=r&sig=x") is None
    with pytest.raises(ValueError, match="tomorrow"):
        sas_expiry("https://a/c?se=tomorrow&sig=x")
    assert expired_sas("https://a/c?se=tomorrow&sig=x") is None
