"""conventions.fs on Azurite: the filesystem itself (ls, info, find, glob, cat, open, get),
its credentials, pickling and read-only refusals, and pandas reading a task output by URL.

Dask over a thousand task outputs is in tests/test_fs_dask.py.
"""

from __future__ import annotations

import datetime
import io
import pickle
import re
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd  # type: ignore[import-untyped]
import pytest
from azure.core.credentials import AzureNamedKeyCredential, TokenCredential
from azure.storage.blob import BlobServiceClient

from conventions import (
    BlobChangedError,
    ContainerMismatchError,
    InvalidArgumentError,
    InvalidIdError,
    InvalidPathError,
    MissingEnvironmentVariableError,
    container_name,
)
from conventions.fs import ConventionsFileSystem, ReadOnlyError
from conventions.sas import output_container_url, prepare_output_storage
from scripts.azurite import ACCOUNT_KEY, ACCOUNT_NAME, StorageEndpoint
from tests.leakcheck import LeakCheck
from tests.tokenendpoint import TokenEndpoint

TASKS = 200


def _csv(task: int) -> bytes:
    return f"task,value\n{task},{task * 3}\n{task},1\n".encode()


def seed(service: BlobServiceClient, job_id: str, blobs: dict[str, bytes]) -> None:
    """The job's container holding *blobs* (name: content), uploaded 16 at a time."""
    container = service.get_container_client(container_name(job_id))
    container.create_container()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda item: container.upload_blob(*item), blobs.items()))


def _options(azurite: StorageEndpoint) -> dict[str, Any]:
    return {"connection_string": azurite.connection_string, "client_kwargs": azurite.client_kwargs}


def _unpickled_elsewhere(fs: ConventionsFileSystem) -> ConventionsFileSystem:
    """*fs* pickled and loaded as on a Dask worker: a new instance from its options (not
    fsspec's cached one)."""
    data = pickle.dumps(fs)
    ConventionsFileSystem.clear_instance_cache()
    clone = pickle.loads(data)
    assert isinstance(clone, ConventionsFileSystem)
    assert clone is not fs
    return clone


@pytest.fixture(scope="module")
def big_job(blob_service_client: BlobServiceClient) -> str:
    """A job of 200 tasks, each with a CSV output and a log, a job output, and blobs that
    break the conventions (skipped when listing) or that .NET writes (listed)."""
    job_id = f"fs-{uuid.uuid4().hex[:8]}"
    blobs = {f"t{i:03}/$TaskOutput/data.csv": _csv(i) for i in range(TASKS)}
    blobs.update({f"t{i:03}/$TaskLog/stdout.txt": b"ok\n" for i in range(TASKS)})
    blobs["$JobOutput/summary.txt"] = b"summary"
    blobs["t000/$TaskOutput/deep/er/x.bin"] = bytes(range(256)) * 40
    blobs["t001/$Task.Logs/run.log"] = b"dotnet kind"  # rule RB-1: read leniently
    blobs["loose.txt"] = b"no task, no kind"  # breaks the layout: skipped
    blobs["t002/nokind.txt"] = b"no kind folder"  # skipped
    seed(blob_service_client, job_id, blobs)
    return job_id


@pytest.fixture
def fs(azurite: StorageEndpoint) -> ConventionsFileSystem:
    return ConventionsFileSystem(**_options(azurite))


def test_the_protocol_is_registered_by_the_entry_point() -> None:
    # A fresh interpreter would find it the same way: fsspec reads the fsspec.specs group.
    assert fsspec.get_filesystem_class("batchconv") is ConventionsFileSystem


def test_ls_across_200_tasks(fs: ConventionsFileSystem, big_job: str) -> None:
    top = fs.ls(f"batchconv://{big_job}", detail=False)
    tasks = [f"{big_job}/t{i:03}" for i in range(TASKS)]
    assert top == sorted([f"{big_job}/$JobOutput", *tasks])  # no loose.txt
    assert fs.ls(f"{big_job}/t001", detail=False) == [
        f"{big_job}/t001/$Task.Logs",
        f"{big_job}/t001/$TaskLog",
        f"{big_job}/t001/$TaskOutput",
    ]
    assert fs.ls(f"{big_job}/t002", detail=False) == [
        f"{big_job}/t002/$TaskLog",
        f"{big_job}/t002/$TaskOutput",
    ]
    [entry] = fs.ls(f"{big_job}/t007/$TaskOutput")
    assert entry["name"] == f"{big_job}/t007/$TaskOutput/data.csv"
    assert (entry["type"], entry["size"]) == ("file", len(_csv(7)))
    assert fs.ls(f"{big_job}/t000/$TaskOutput", detail=False) == [
        f"{big_job}/t000/$TaskOutput/data.csv",
        f"{big_job}/t000/$TaskOutput/deep",
    ]


def test_glob_and_find_across_200_tasks(fs: ConventionsFileSystem, big_job: str) -> None:
    csvs = fs.glob(f"batchconv://{big_job}/*/$TaskOutput/*.csv")
    assert csvs == [f"{big_job}/t{i:03}/$TaskOutput/data.csv" for i in range(TASKS)]
    assert len(fs.glob(f"{big_job}/*/$TaskLog/*")) == TASKS
    assert fs.glob(f"{big_job}/t00[0-1]/**/*.bin") == [f"{big_job}/t000/$TaskOutput/deep/er/x.bin"]
    found = fs.find(big_job)
    # 200 CSVs, 200 logs, the deep file, the .NET kind and the job output; not the 2 strays.
    assert len(found) == 2 * TASKS + 3
    assert f"{big_job}/loose.txt" not in found
    assert f"{big_job}/t002/nokind.txt" not in found
    assert fs.find(f"{big_job}/t000", maxdepth=2) == [
        f"{big_job}/t000/$TaskLog/stdout.txt",
        f"{big_job}/t000/$TaskOutput/data.csv",
    ]
    with_dirs = fs.find(f"{big_job}/t000", withdirs=True, detail=True)
    assert with_dirs[f"{big_job}/t000/$TaskOutput/deep/er"]["type"] == "directory"
    assert fs.find(f"{big_job}/t000/$TaskOutput/data.csv") == [
        f"{big_job}/t000/$TaskOutput/data.csv"
    ]


def test_info_cat_and_ranged_reads(fs: ConventionsFileSystem, big_job: str) -> None:
    path = f"batchconv://{big_job}/t000/$TaskOutput/deep/er/x.bin"
    data = bytes(range(256)) * 40
    info = fs.info(path)
    assert (info["type"], info["size"], info["name"]) == ("file", len(data), path[12:])
    assert fs.info(f"{big_job}/t000/$TaskOutput")["type"] == "directory"
    assert fs.info(big_job)["type"] == "directory"
    assert fs.cat(path) == data
    assert fs.cat_file(path, start=1000, end=1010) == data[1000:1010]
    with fs.open(path, "rb", block_size=1024) as file:
        file.seek(9000)
        assert file.read(100) == data[9000:9100]
        file.seek(-5, io.SEEK_END)
        assert file.read() == data[-5:]
    with fs.open(f"{big_job}/t003/$TaskOutput/data.csv", "rt") as text:
        assert text.read() == _csv(3).decode()
    assert fs.cat(f"{big_job}/$JobOutput/summary.txt") == b"summary"


def test_a_replaced_output_is_never_read_as_a_mix(
    fs: ConventionsFileSystem, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    seed(blob_service_client, job_id, {"t1/$TaskOutput/a.bin": b"a" * 4096})
    with fs.open(f"{job_id}/t1/$TaskOutput/a.bin", block_size=1024, cache_type="none") as file:
        assert file.read(1024) == b"a" * 1024
        container = blob_service_client.get_container_client(container_name(job_id))
        container.upload_blob("t1/$TaskOutput/a.bin", b"b" * 4096, overwrite=True)
        with pytest.raises(BlobChangedError):
            file.read(1024)


def test_an_output_replaced_after_a_glob_is_never_read_stale(
    fs: ConventionsFileSystem, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    # info answers from the glob's listing for a while (Dask asks it for every path): the
    # read is pinned to the listed version, so a replaced output raises, never reads old.
    seed(blob_service_client, job_id, {"t1/$TaskOutput/a.csv": b"old\n"})
    [path] = fs.glob(f"{job_id}/*/$TaskOutput/*.csv")
    container = blob_service_client.get_container_client(container_name(job_id))
    container.upload_blob("t1/$TaskOutput/a.csv", b"newer\n", overwrite=True)
    assert fs.info(path)["size"] == len(b"old\n")  # from the listing
    with pytest.raises(BlobChangedError):
        fs.cat(path)
    fs.glob(f"{job_id}/*/$TaskOutput/*.csv")  # a new listing sees the new version
    assert fs.cat(path) == b"newer\n"


def test_missing_outputs_jobs_and_bad_paths(fs: ConventionsFileSystem, big_job: str) -> None:
    missing = f"{big_job}/t000/$TaskOutput/nope.csv"
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        fs.info(missing)
    with pytest.raises(FileNotFoundError):
        fs.open(missing)
    assert not fs.exists(missing)
    assert fs.exists(f"{big_job}/t000/$TaskOutput/data.csv")
    no_job = f"no-such-job-{uuid.uuid4().hex[:8]}"
    with pytest.raises(FileNotFoundError, match=container_name(no_job)):
        fs.ls(no_job)
    assert fs.glob(f"{no_job}/*/$TaskOutput/*.csv") == []
    with pytest.raises(InvalidPathError, match=r"FS-2"):
        fs.glob(f"{big_job}/*/TaskOutput/*.csv")  # the '$' left out: refused, not empty
    with pytest.raises(InvalidPathError, match=r"FS-2"):
        fs.open(f"{big_job}/t000/TaskOutput/data.csv")
    with pytest.raises(InvalidPathError, match=r"FS-1"):
        fs.ls("batchconv://")
    with pytest.raises(InvalidIdError):
        fs.ls("not a job/t1")
    with pytest.raises(IsADirectoryError):
        fs.open(f"{big_job}/t000/$TaskOutput")


def test_writes_are_refused_and_change_nothing(
    fs: ConventionsFileSystem, big_job: str, blob_service_client: BlobServiceClient, tmp_path: Path
) -> None:
    target = f"{big_job}/t000/$TaskOutput/new.csv"
    local = tmp_path / "x.csv"
    local.write_text("a\n1\n")
    attempts: list[Callable[[], object]] = [
        lambda: fs.open(target, "wb"),
        lambda: fs.pipe(target, b"x"),
        lambda: fs.put(str(local), target),
        lambda: fs.rm(f"{big_job}/t000/$TaskOutput/data.csv"),
        lambda: fs.mkdir(f"{big_job}/t999"),
        lambda: fs.makedirs(f"{big_job}/t999", exist_ok=True),
        lambda: fs.touch(target),
        lambda: fs.copy(f"{big_job}/t000/$TaskOutput/data.csv", target),
        lambda: fs.mv(f"{big_job}/t000/$TaskOutput/data.csv", target),
    ]
    for attempt in attempts:
        with pytest.raises(ReadOnlyError, match="read-only"):
            attempt()
    container = blob_service_client.get_container_client(container_name(big_job))
    names = {blob.name for blob in container.list_blobs(name_starts_with="t000/")}
    assert "t000/$TaskOutput/new.csv" not in names
    assert "t000/$TaskOutput/data.csv" in names


def test_get_to_a_local_folder(fs: ConventionsFileSystem, big_job: str, tmp_path: Path) -> None:
    fs.get(f"batchconv://{big_job}/t000/$TaskOutput/", str(tmp_path / "out") + "/", recursive=True)
    files = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in tmp_path.rglob("*") if p.is_file()
    )
    assert files == ["data.csv", "deep/er/x.bin"]
    assert (tmp_path / "out" / "deep/er/x.bin").read_bytes() == bytes(range(256)) * 40
    progress = fsspec.callbacks.Callback()
    fs.get_file(
        f"{big_job}/t001/$TaskOutput/data.csv", str(tmp_path / "one.csv"), callback=progress
    )
    assert (tmp_path / "one.csv").read_bytes() == _csv(1)
    assert (progress.size, progress.value) == (len(_csv(1)), len(_csv(1)))
    with pytest.raises(FileNotFoundError):
        fs.get_file(f"{big_job}/t000/$TaskOutput/nope.csv", str(tmp_path / "nope.csv"))
    assert not (tmp_path / "nope.csv").exists()


def test_a_failed_download_leaves_no_half_written_file(
    fs: ConventionsFileSystem, blob_service_client: BlobServiceClient, job_id: str, tmp_path: Path
) -> None:
    seed(blob_service_client, job_id, {"t1/$TaskOutput/a.bin": b"a" * 10_000})
    container = blob_service_client.get_container_client(container_name(job_id))
    real_read = ConventionsFileSystem.open

    def replacing_open(
        self: ConventionsFileSystem, path: str, mode: str = "rb", **kwargs: Any
    ) -> Any:
        file = real_read(self, path, mode, block_size=1000, cache_type="none", **kwargs)
        file.read(1000)  # the first block is read, then the blob changes under the download
        container.upload_blob("t1/$TaskOutput/a.bin", b"b" * 10_000, overwrite=True)
        file.seek(0)
        return file

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ConventionsFileSystem, "open", replacing_open)
        with pytest.raises(BlobChangedError):
            fs.get_file(f"{job_id}/t1/$TaskOutput/a.bin", str(tmp_path / "a.bin"))
    assert list(tmp_path.iterdir()) == []


def test_pandas_reads_a_task_output_by_url(azurite: StorageEndpoint, big_job: str) -> None:
    frame = pd.read_csv(
        f"batchconv://{big_job}/t042/$TaskOutput/data.csv", storage_options=_options(azurite)
    )
    assert frame["value"].sum() == 42 * 3 + 1
    assert list(frame["task"]) == [42, 42]


def test_container_url_with_sas_reads_its_job_only_and_never_shows_the_signature(
    blob_service_client: BlobServiceClient,
    big_job: str,
    azurite: StorageEndpoint,
    leak_check: LeakCheck,
) -> None:
    prepare_output_storage(blob_service_client, big_job)
    url = output_container_url(
        blob_service_client, big_job, permissions="rl", expiry=datetime.timedelta(minutes=5)
    )
    assert re.search(r"sig=(?!REDACTED)", url)
    fs = ConventionsFileSystem(container_url=url, client_kwargs=azurite.client_kwargs)
    assert fs.cat(f"{big_job}/t005/$TaskOutput/data.csv") == _csv(5)
    assert "sig=REDACTED" in repr(fs)
    assert re.search(r"sig=(?!REDACTED)", repr(fs)) is None
    with pytest.raises(ContainerMismatchError):
        fs.ls("another-job")
    # Pickled (Dask ships it so to its workers), it reads with its credentials.
    clone = _unpickled_elsewhere(fs)
    assert clone.cat(f"{big_job}/t006/$TaskOutput/data.csv") == _csv(6)


def test_account_url_with_a_credential(azurite: StorageEndpoint, big_job: str) -> None:
    fs = ConventionsFileSystem(
        account_url=azurite.blob_endpoint,
        credential=AzureNamedKeyCredential(ACCOUNT_NAME, ACCOUNT_KEY),
        client_kwargs=azurite.client_kwargs,
    )
    assert fs.cat(f"{big_job}/t007/$TaskOutput/data.csv") == _csv(7)
    assert ACCOUNT_KEY not in repr(fs)


def test_the_environment_table_with_no_options(
    azurite: StorageEndpoint, big_job: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "CONVENTIONS_CONTAINER_URL",
        "CONVENTIONS_ACCOUNT_URL",
        "AZURE_STORAGE_CONNECTION_STRING",
    ):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(MissingEnvironmentVariableError, match="CONVENTIONS_CONTAINER_URL"):
        fsspec.filesystem("batchconv")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    with fsspec.open(f"batchconv://{big_job}/t008/$TaskOutput/data.csv", "rb") as file:
        assert file.read() == _csv(8)
    fs = fsspec.filesystem("batchconv")
    assert repr(fs) == "ConventionsFileSystem(environment=AZURE_STORAGE_CONNECTION_STRING)"
    assert ACCOUNT_KEY not in repr(fs)
    # The environment read when it was made travels with it: a worker needs no variables.
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    assert _unpickled_elsewhere(fs).cat(f"{big_job}/t008/$TaskOutput/data.csv") == _csv(8)


def test_options_are_checked(azurite: StorageEndpoint) -> None:
    with pytest.raises(InvalidArgumentError, match="exclusive"):
        ConventionsFileSystem(
            connection_string=azurite.connection_string, account_url=azurite.blob_endpoint
        )
    with pytest.raises(InvalidArgumentError, match="account_url"):
        ConventionsFileSystem(connection_string=azurite.connection_string, credential=object())


def test_account_url_without_a_credential_signs_in_with_the_managed_identity(
    azurite_oauth: StorageEndpoint,
    oauth_credential: TokenCredential,
    token_endpoint: TokenEndpoint,
    job_id: str,
) -> None:
    with BlobServiceClient(
        azurite_oauth.blob_endpoint, credential=oauth_credential, **azurite_oauth.client_kwargs
    ) as service:
        seed(service, job_id, {"t1/$TaskOutput/a.csv": _csv(1)})
    fs = ConventionsFileSystem(
        account_url=azurite_oauth.blob_endpoint,
        client_id="pool-identity",
        client_kwargs=azurite_oauth.client_kwargs,
    )
    assert fs.glob(f"{job_id}/*/$TaskOutput/*.csv") == [f"{job_id}/t1/$TaskOutput/a.csv"]
    # A Dask worker gets the options, no credential object: it signs in on its own.
    clone = _unpickled_elsewhere(fs)
    assert clone.cat(f"{job_id}/t1/$TaskOutput/a.csv") == _csv(1)
    assert set(token_endpoint.client_ids) == {"pool-identity"}
