"""The storage vectors (spec/vectors/storage.json) hold on Azurite."""

from __future__ import annotations

import datetime
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import TokenCredential
from azure.storage.blob import BlobServiceClient

import conventions
from conventions import JobOutputKind, TaskOutputKind
from conventions.sas import SasError, output_container_url, prepare_output_storage
from scripts.azurite import StorageEndpoint

from .face_fixtures import Face
from .storage_support import put_raw, tree
from .vectors import load

CASES = load("storage.json")["cases"]


def _by(operation: str) -> list[Any]:
    return [pytest.param(c, id=c["id"]) for c in CASES if c["operation"] == operation]


@pytest.mark.parametrize("case", _by("get_output"))
def test_get_output_vector(
    face: Face,
    face_service: Any,
    case: dict[str, Any],
    blob_service_client: BlobServiceClient,
    job_id: str,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    with face.JobOutputStorage.from_service_client(face_service, job_id) as job:
        error = getattr(conventions, case["raises"])
        if case["task_id"] is None:
            with pytest.raises(error):
                job.get_output(JobOutputKind(case["kind"]), case["path"])
        else:
            task = job.task(case["task_id"])
            with pytest.raises(error):
                task.get_output(TaskOutputKind(case["kind"]), case["path"])


# Sync only: output_container_url (conventions.sas) has no async twin.
@pytest.mark.parametrize("case", _by("output_container_url"))
def test_output_container_url_vector(
    case: dict[str, Any],
    request: pytest.FixtureRequest,
    job_id: str,
) -> None:
    if case["credential"] == "token":
        endpoint: StorageEndpoint = request.getfixturevalue("azurite_oauth")
        credential: TokenCredential = request.getfixturevalue("oauth_credential")
        service = BlobServiceClient(
            endpoint.blob_endpoint, credential=credential, **endpoint.client_kwargs
        )
        request.addfinalizer(service.close)
    else:
        service = request.getfixturevalue("blob_service_client")
    kwargs: dict[str, Any] = {}
    if case.get("permissions"):
        kwargs["permissions"] = case["permissions"]
    if "expiry_days" in case:
        kwargs["expiry"] = datetime.timedelta(days=case["expiry_days"])
    if "raises" in case:
        assert case["raises"] == "SasError"
        with pytest.raises(SasError):
            output_container_url(service, job_id, **kwargs)
        return
    url = output_container_url(service, job_id, **kwargs)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query["sp"] == case["expected_sp"]
    assert query["sr"] == "c"
    assert set(case["expected_fields"]) <= query.keys()


@pytest.mark.parametrize("case", _by("download"))
def test_download_vector(
    face: Face,
    face_service: Any,
    case: dict[str, Any],
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    url = output_container_url(blob_service_client, job_id, permissions="cw")
    put_raw(url, case["blob_name"], b"content")
    kind = case["kind"]
    dest = tmp_path / "deep" / "dest"
    with face.JobOutputStorage.from_service_client(face_service, job_id) as job:
        assert [b.name for b in job.container_client.list_blobs()] == [case["blob_name"]]
        if kind.startswith("Job"):
            summary = job.download(JobOutputKind(kind), dest)
        else:
            summary = job.download(TaskOutputKind(kind), dest)
    expected = case["downloaded_as"]
    assert tree(tmp_path) == ({f"deep/dest/{expected}": b"content"} if expected else {})
    assert summary.files == (1 if expected else 0)
