"""The planner on a real file tree, and its plan carried out on a real Blob service (Azurite)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from azure.storage.blob import (
    BlobServiceClient,
    ContainerClient,
    ContainerSasPermissions,
    generate_container_sas,
)

from conventions import (
    AccessDeniedError,
    ContainerNotFoundError,
    PlannedUpload,
    TaskOutputKind,
    container_name,
    parse_blob_name,
    plan_uploads,
    std_logs,
    task_output_file,
    task_prefix,
    upload_planned,
)
from scripts.azurite import StorageEndpoint

FILES = {
    "stdout.txt": "hello\n",
    "stderr.txt": "",
    "wd/run.py": "print('hello')\n",
    "wd/.env": "SECRET=1\n",
    "wd/results/summary.csv": "a,b\n1,2\n",
    "wd/results/.partial.csv": "a,b\n",
    "wd/results/by-day/2024/01.csv": "a,b\n3,4\n",
    "wd/results/by-day/2024/notes.txt": "n\n",
    "wd/results/.cache/x.csv": "x\n",
    "wd/report.html": "<p>hi</p>\n",
}


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def _sas_url(azurite: StorageEndpoint, container: str, permission: ContainerSasPermissions) -> str:
    assert azurite.account_key is not None
    sas = generate_container_sas(
        azurite.account_name,
        container,
        account_key=azurite.account_key,
        permission=permission,
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    return f"{azurite.blob_endpoint.rstrip('/')}/{container}?{sas}"


URL = "https://acct.blob.core.windows.net/job-abc?sp=cw&sig=x"


def _relative(plan: list[PlannedUpload], root: Path) -> list[tuple[str, str]]:
    return [(u.local_path.relative_to(root).as_posix(), u.blob_name) for u in plan]


def test_plan_on_a_real_tree(task_dir: Path) -> None:
    output_files = [
        *std_logs(URL, "task-1", "results/**/*.csv", "report.html"),
        task_output_file(URL, "task-1", TaskOutputKind.TASK_LOG, "../stdout.txt"),
    ]
    plan = plan_uploads(output_files, task_dir / "wd", exit_code=0)
    assert _relative(plan, task_dir) == [
        ("stderr.txt", "task-1/$TaskLog/stderr.txt"),
        ("stdout.txt", "task-1/$TaskLog/stdout.txt"),
        ("wd/results/by-day/2024/01.csv", "task-1/$TaskOutput/by-day/2024/01.csv"),
        ("wd/results/summary.csv", "task-1/$TaskOutput/summary.csv"),
        ("wd/report.html", "task-1/$TaskOutput/report.html"),
        ("stdout.txt", "task-1/$TaskLog/stdout.txt"),
    ]
    failed = plan_uploads(output_files, str(task_dir / "wd"), exit_code=1)
    assert _relative(failed, task_dir) == [
        ("stderr.txt", "task-1/$TaskLog/stderr.txt"),
        ("stdout.txt", "task-1/$TaskLog/stdout.txt"),
        ("stdout.txt", "task-1/$TaskLog/stdout.txt"),
    ]


def test_absolute_wildcard_pattern(task_dir: Path) -> None:
    pattern = f"{task_dir.as_posix()}/wd/results/*.csv"
    output_file = task_output_file(URL, "task-1", TaskOutputKind.TASK_OUTPUT, pattern)
    elsewhere = task_dir / "elsewhere"  # the working directory must exist, even if unused
    elsewhere.mkdir()
    plan = plan_uploads([output_file], elsewhere, exit_code=0)
    assert _relative(plan, task_dir) == [
        ("wd/results/summary.csv", "task-1/$TaskOutput/summary.csv")
    ]


def test_plan_uploaded_to_azurite_and_listed_by_kind(
    task_dir: Path, blob_service_client: BlobServiceClient, azurite: StorageEndpoint, job_id: str
) -> None:
    container = container_name(job_id)
    blob_service_client.create_container(container)
    write_only = ContainerSasPermissions(create=True, write=True)
    output_files = std_logs(_sas_url(azurite, container, write_only), "task-1", "results/**/*.csv")
    plan = plan_uploads(output_files, task_dir / "wd", exit_code=0)

    # The container URL in the OutputFile (SAS, write only) is the one the service would use.
    with ContainerClient.from_container_url(output_files[0].container_url) as sas_client:
        written = upload_planned(plan, sas_client)
    assert written == [upload.blob_name for upload in plan]

    account = blob_service_client.get_container_client(container)
    for kind in (TaskOutputKind.TASK_LOG, TaskOutputKind.TASK_OUTPUT):
        listed = sorted(
            blob.name
            for blob in account.list_blobs(name_starts_with=task_prefix("task-1", kind) + "/")
        )
        expected = sorted(
            u.blob_name for u in plan if u.output_file.path == task_prefix("task-1", kind)
        )
        assert listed == expected
        assert listed
        for name in listed:
            assert parse_blob_name(name).kind == kind
    for upload in plan:
        blob = account.get_blob_client(upload.blob_name)
        assert blob.download_blob().readall() == upload.local_path.read_bytes()
    properties = account.get_blob_client("task-1/$TaskOutput/summary.csv").get_blob_properties()
    assert properties.content_settings.content_type == "text/csv"


def test_upload_without_write_permission_is_access_denied(
    task_dir: Path, blob_service_client: BlobServiceClient, azurite: StorageEndpoint, job_id: str
) -> None:
    container = container_name(job_id)
    blob_service_client.create_container(container)
    read_only = _sas_url(azurite, container, ContainerSasPermissions(read=True, list=True))
    plan = plan_uploads(std_logs(URL, "task-1"), task_dir / "wd", exit_code=0)
    with (
        ContainerClient.from_container_url(read_only) as client,
        pytest.raises(AccessDeniedError) as info,
    ):
        upload_planned(plan, client)
    assert info.value.permission == "w"
    assert info.value.container == container
    assert "sig=" not in str(info.value)


def test_upload_to_a_missing_container(
    task_dir: Path, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    plan = plan_uploads(std_logs(URL, "task-1"), task_dir / "wd", exit_code=0)
    client = blob_service_client.get_container_client(container_name(job_id))
    with pytest.raises(ContainerNotFoundError) as info:
        upload_planned(plan, client)
    assert info.value.blob == "task-1/$TaskLog/stderr.txt"
