"""Content-MD5 end to end on Azurite: every save records one, every download checks it."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient, ContentSettings

from conventions import DownloadError, IntegrityError, TaskOutputKind
from conventions.sas import prepare_output_storage
from scripts.azurite import StorageEndpoint

from .face_fixtures import Face
from .face_support import counting_transport
from .faultproxy import Fault, FaultProxy
from .storage_support import tree

KIND = TaskOutputKind.TASK_OUTPUT


@pytest.fixture
def job(
    face: Face, face_service: Any, blob_service_client: BlobServiceClient, job_id: str
) -> Iterator[Any]:
    """The face's ``JobOutputStorage`` (every test that takes it runs on both faces)."""
    prepare_output_storage(blob_service_client, job_id)
    with face.JobOutputStorage.from_service_client(face_service, job_id) as storage:
        yield storage


def _stored_md5(storage: Any, path: str) -> bytes | None:
    client = storage.container_client.get_blob_client(storage.blob_name(KIND, path))
    md5 = client.get_blob_properties().content_settings.content_md5
    return None if md5 is None else bytes(md5)


@pytest.mark.parametrize("size", [0, 1, 5 * 1024 * 1024 + 3])
def test_every_save_records_the_md5_of_what_it_sent(
    job: Any, tmp_path: Path, size: int
) -> None:
    data = os.urandom(size)
    (tmp_path / "f.bin").write_bytes(data)
    task = job.task("t1")
    expected = hashlib.md5(data).digest()
    ref = task.save(KIND, "f.bin", base_dir=tmp_path)
    assert ref.content_md5 == expected
    assert _stored_md5(task, "f.bin") == expected
    task.save_bytes(KIND, data, "b.bin")
    assert _stored_md5(task, "b.bin") == expected
    task.save_text(KIND, "héllo", "t.txt")
    assert _stored_md5(task, "t.txt") == hashlib.md5("héllo".encode()).digest()
    listed = {ref.path: ref.content_md5 for ref in task.list_outputs(KIND)}
    assert listed["f.bin"] == listed["b.bin"] == expected


def test_large_file_saved_in_blocks_gets_its_md5_and_type(
    face: Face, azurite: StorageEndpoint, job_id: str, tmp_path: Path
) -> None:
    # Small single-put and block sizes force a block upload (Put Block + Put Block List).
    transport = counting_transport(face, **azurite.client_kwargs)
    with face.TaskOutputStorage.from_connection_string(
        azurite.connection_string,
        job_id,
        "t1",
        transport=transport,
        max_single_put_size=64 * 1024,
        max_block_size=64 * 1024,
    ) as task:
        task.container_client.create_container()
        data = os.urandom(300_000)
        (tmp_path / "big.csv").write_bytes(data)
        ref = task.save(KIND, "big.csv", base_dir=tmp_path)
        assert sum("comp=block&" in r or r.endswith("comp=block") for r in transport.requests) == 5
        # The MD5 goes with the block list itself (issue 19): no Set Blob Properties after
        # the commit, so no committed blob ever lacks it.
        assert not [r for r in transport.requests if "comp=properties" in r]
        assert sum("comp=blocklist" in r for r in transport.requests) == 1
        properties = task.container_client.get_blob_client(ref.blob_name).get_blob_properties()
        settings = properties.content_settings
        assert settings.content_md5 is not None
        assert bytes(settings.content_md5) == hashlib.md5(data).digest()
        assert str(settings.content_type).startswith("text/csv")
        assert ref.content_md5 == hashlib.md5(data).digest()
        assert ref.download_bytes() == data


def _corrupt(task: Any, path: str, data: bytes) -> None:
    """Rewrite the blob with *data* but keep the stored MD5 of what was there before: the
    content changed behind the MD5 (set_http_headers restores the stale one)."""
    client = task.container_client.get_blob_client(task.blob_name(KIND, path))
    stale = client.get_blob_properties().content_settings
    client.upload_blob(data, overwrite=True)
    client.set_http_headers(
        content_settings=ContentSettings(
            content_type=stale.content_type, content_md5=stale.content_md5
        )
    )


def test_a_blob_changed_behind_its_md5_raises_and_leaves_nothing(
    job: Any, tmp_path: Path
) -> None:
    task = job.task("t1")
    task.save_bytes(KIND, b"good data", "a.bin")
    task.save_bytes(KIND, b"other", "b.bin")
    _corrupt(task, "a.bin", b"evil data")
    ref = task.get_output(KIND, "a.bin")
    with pytest.raises(IntegrityError) as raised:
        ref.download_to_file(tmp_path / "single" / "a.bin")
    assert raised.value.blob == ref.blob_name
    assert raised.value.expected == hashlib.md5(b"good data").hexdigest()
    assert raised.value.actual == hashlib.md5(b"evil data").hexdigest()
    assert tree(tmp_path) == {}
    with pytest.raises(IntegrityError):
        ref.download_bytes()
    with pytest.raises(DownloadError) as whole:
        job.download(KIND, tmp_path / "all")
    [failure] = whole.value.failures
    assert isinstance(failure.error, IntegrityError)
    assert tree(tmp_path) == {"all/t1/b.bin": b"other"}  # nothing of a.bin, not even a .part


def test_a_blob_without_md5_downloads_unchecked(job: Any, tmp_path: Path) -> None:
    task = job.task("t1")
    client = task.container_client.get_blob_client(task.blob_name(KIND, "a.bin"))
    client.upload_blob(b"data", overwrite=True)
    client.set_http_headers(content_settings=ContentSettings(content_type="x/y"))
    assert client.get_blob_properties().content_settings.content_md5 is None
    job.download(KIND, tmp_path)
    assert tree(tmp_path) == {"t1/a.bin": b"data"}


def test_a_large_save_whose_commit_answer_is_lost_still_carries_its_md5(
    face: Face,
    azurite: StorageEndpoint,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    job_id: str,
    tmp_path: Path,
) -> None:
    fault_proxy.inject(
        Fault.lost_response(), times=1, when=lambda r: r.query.get("comp") == "blocklist"
    )
    with face.TaskOutputStorage.from_connection_string(
        proxied_endpoint.connection_string,
        job_id,
        "t1",
        max_single_put_size=64 * 1024,
        max_block_size=64 * 1024,
        retry_total=3,
        initial_backoff=0,
        increment_base=0,
    ) as task:
        task.container_client.create_container()
        data = os.urandom(200_000)
        (tmp_path / "big.bin").write_bytes(data)
        ref = task.save(KIND, "big.bin", base_dir=tmp_path, max_concurrency=4)
        assert fault_proxy.faults_applied("lost_response") == 1
        assert _stored_md5(task, "big.bin") == hashlib.md5(data).digest() == ref.content_md5
        assert ref.download_bytes() == data
