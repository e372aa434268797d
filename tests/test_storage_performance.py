"""Issue 14's optimisations as behaviour (never timings: those are in bench/): lazy
clients, chunked transfers that keep their MD5, directories made once, a pool sized for
the concurrency. Storage on Azurite."""

from __future__ import annotations

import hashlib
import logging
import os
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, cast

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings
from hypothesis import given, settings
from hypothesis import strategies as st

from conventions import ContainerNotFoundError, IntegrityError, StorageError, TaskOutputKind
from conventions._integrity import BackgroundVerifyingWriter, VerifyingWriter
from conventions._local_files import Destination
from conventions._transport import chunks_per_file
from conventions.containers import container_name
from conventions.sas import prepare_output_storage
from conventions.storage import JobOutputStorage
from scripts.azurite import StorageEndpoint

KIND = TaskOutputKind.TASK_OUTPUT
SMALL = 256 * 1024  # the single-request and chunk sizes of the chunked tests


@pytest.fixture
def job(blob_service_client: BlobServiceClient, job_id: str) -> Iterator[JobOutputStorage]:
    prepare_output_storage(blob_service_client, job_id)
    with JobOutputStorage.from_service_client(blob_service_client, job_id) as storage:
        yield storage


def _spy_on_clients(storage: JobOutputStorage, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every BlobClient the container client builds (the real method still runs)."""
    built: list[str] = []
    real = storage.container_client.get_blob_client

    def get_blob_client(blob: str, *args: Any, **kwargs: Any) -> Any:
        built.append(blob)
        return real(blob, *args, **kwargs)

    monkeypatch.setattr(storage.container_client, "get_blob_client", get_blob_client)
    return built


# -- lazy references ------------------------------------------------------------------------


def test_listing_builds_no_blob_client_until_one_is_used(
    job: JobOutputStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    for task_id in ("t1", "t2"):
        job.task(task_id).save_bytes(KIND, task_id.encode(), "a.txt")
        job.task(task_id).save_bytes(TaskOutputKind.TASK_LOG, b"log", "log.txt")
    built = _spy_on_clients(job, monkeypatch)

    outputs = list(job.list_task_outputs(KIND))  # other kinds filtered out, none built
    everything = list(job.list_all())
    assert [ref.task_id for ref in outputs] == ["t1", "t2"]
    assert len(everything) == 4
    assert built == []

    first = outputs[0]
    assert first.container_name == job.container_name
    assert built == []  # the name needs no client
    assert first.download_bytes() == b"t1"
    assert first.blob_client.blob_name == first.blob_name == "t1/$TaskOutput/a.txt"
    assert first.url.endswith("/t1/%24TaskOutput/a.txt")
    assert built == [first.blob_name] * 3  # download, .blob_client, .url: one each


def test_saved_references_hold_no_client(job: JobOutputStorage, tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"f{i}.txt").write_text(str(i))
    refs = job.task("t1").save_many(KIND, "*.txt", base_dir=tmp_path)
    # Built when used, not kept: two uses, two clients, both on the right blob.
    assert refs[0].blob_client is not refs[0].blob_client
    assert [ref.download_text() for ref in refs] == [str(i) for i in range(5)]


# -- chunked transfers with their MD5 ---------------------------------------------------------


@pytest.fixture
def chunky(azurite: StorageEndpoint, job: JobOutputStorage) -> Iterator[JobOutputStorage]:
    """The same container through a client that moves anything above 256 KiB in 256 KiB
    blocks and chunks, so that a small file takes the parallel path."""
    client = ContainerClient.from_connection_string(
        azurite.connection_string,
        job.container_name,
        max_single_put_size=SMALL,
        max_block_size=SMALL,
        max_single_get_size=SMALL,
        max_chunk_get_size=SMALL,
        **azurite.client_kwargs,
    )
    with JobOutputStorage(client) as storage:
        yield storage


def _stored_md5(storage: JobOutputStorage, blob: str) -> bytes:
    properties = storage.container_client.get_blob_client(blob).get_blob_properties()
    md5 = properties.content_settings.content_md5
    assert md5 is not None
    return bytes(md5)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_chunked_save_and_download_round_trip_with_md5(
    chunky: JobOutputStorage, tmp_path: Path, concurrency: int
) -> None:
    data = os.urandom(12 * SMALL + 1234)  # 13 blocks
    (tmp_path / "big.bin").write_bytes(data)
    task = chunky.task("t1")
    ref = task.save(KIND, "big.bin", base_dir=tmp_path, max_concurrency=concurrency)
    md5 = hashlib.md5(data).digest()
    assert ref.content_md5 == md5 == _stored_md5(chunky, ref.blob_name)

    target = task.get_output(KIND, "big.bin").download_to_file(
        tmp_path / "out" / "big.bin", max_concurrency=concurrency
    )
    assert target.read_bytes() == data
    summary = chunky.download(KIND, tmp_path / "all", chunk_concurrency=concurrency)
    assert summary.files == 1
    assert (tmp_path / "all" / "t1" / "big.bin").read_bytes() == data


def test_save_many_moves_large_files_in_chunks_with_md5(
    chunky: JobOutputStorage, tmp_path: Path
) -> None:
    files = {f"f{i}.bin": os.urandom(3 * SMALL + i) for i in range(4)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    refs = chunky.task("t1").save_many(
        KIND, "*.bin", base_dir=tmp_path, max_concurrency=2, chunk_concurrency=3
    )
    for ref in refs:
        assert ref.content_md5 == hashlib.md5(files[ref.path]).digest()
        assert _stored_md5(chunky, ref.blob_name) == ref.content_md5


def test_parallel_download_of_a_damaged_blob_raises_and_writes_nothing(
    chunky: JobOutputStorage, tmp_path: Path
) -> None:
    data = os.urandom(6 * SMALL)
    task = chunky.task("t1")
    task.save_bytes(KIND, data, "big.bin")
    wrong = hashlib.md5(b"something else").digest()
    chunky.container_client.get_blob_client(task.blob_name(KIND, "big.bin")).set_http_headers(
        content_settings=ContentSettings(content_md5=bytearray(wrong))
    )
    with pytest.raises(IntegrityError):
        task.get_output(KIND, "big.bin").download_to_file(tmp_path / "big.bin", max_concurrency=4)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("writer_class", [VerifyingWriter, BackgroundVerifyingWriter])
@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=12),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_the_md5_is_of_the_file_whatever_order_the_chunks_arrive(
    writer_class: type[VerifyingWriter], sizes: list[int], seed: int
) -> None:
    data = os.urandom(sum(sizes))
    offsets = [sum(sizes[:i]) for i in range(len(sizes))]
    order = list(range(len(sizes)))
    random.Random(seed).shuffle(order)
    with open(os.memfd_create("chunks"), "w+b") as file:
        writer = writer_class(file)
        assert writer.seekable()
        for index in order:
            writer.seek(offsets[index])
            writer.write(data[offsets[index] : offsets[index] + sizes[index]])
        writer.verify(hashlib.md5(data).digest(), container="c", blob="b")
        assert writer.complete
        with pytest.raises(IntegrityError):
            writer.verify(hashlib.md5(data + b"x").digest(), container="c", blob="b")


def test_files_times_chunks_stay_within_the_budget() -> None:
    for files in range(1, 70):
        assert files * chunks_per_file(files, None) <= max(32, files)
    assert chunks_per_file(8, 5) == 5
    with pytest.raises(ValueError, match="chunk_concurrency"):
        chunks_per_file(8, 0)


# -- directories made once ---------------------------------------------------------------------


def test_each_directory_is_made_once_however_many_files_race_for_it(tmp_path: Path) -> None:
    def fill(file: IO[bytes]) -> int:
        return file.write(b"x")

    targets = [(f"d{i % 4}", "sub", f"f{i}.txt") for i in range(200)]
    with Destination(tmp_path / "dest") as root, ThreadPoolExecutor(16) as pool:
        written = list(pool.map(lambda parts: root.write(parts, fill, blob="b"), targets))
        assert root.directories_made == 8  # d0..d3 and each one's sub
    assert sum(written) == 200
    assert len(list((tmp_path / "dest").rglob("*.txt"))) == 200


# -- the connection pool -----------------------------------------------------------------------


def test_the_library_client_keeps_a_connection_per_download_thread(
    azurite: StorageEndpoint, job: JobOutputStorage, job_id: str, tmp_path: Path, caplog: Any
) -> None:
    task = job.task("t1")
    for i in range(96):
        task.save_bytes(KIND, b"x" * 100, f"f{i}.txt")
    caplog.set_level(logging.WARNING, logger="urllib3.connectionpool")
    with JobOutputStorage.from_connection_string(
        azurite.connection_string, job_id, **azurite.client_kwargs
    ) as library_job:
        assert library_job.container_name == container_name(job_id)
        summary = library_job.download(KIND, tmp_path, max_concurrency=32)
    assert summary.files == 96
    full = [r for r in caplog.records if "Connection pool is full" in r.getMessage()]
    assert full == []  # azure-core's pool of 10 would discard connections at 32 threads


# -- the library's client: read size and first request -------------------------------------------


def test_the_library_client_reads_256_kib_and_asks_4_mib_first(azurite: StorageEndpoint) -> None:
    # azure-core's RequestsTransport reads 4 KiB at a time unless told (the SDK tells it
    # 256 KiB only when it builds the transport itself); a 32 MiB first request would
    # hold 32 MiB and fetch it on one connection before any chunk goes parallel.
    with JobOutputStorage.from_connection_string(
        azurite.connection_string, "j-read-size", **azurite.client_kwargs
    ) as job:
        client = job.container_client
        assert client._config.max_single_get_size == 4 * 1024 * 1024
        assert cast(Any, client._config).transport.connection_config.data_block_size == 256 * 1024
    with JobOutputStorage.from_connection_string(
        azurite.connection_string,
        "j-read-size",
        max_single_get_size=1024 * 1024,
        connection_data_block_size=65536,
        **azurite.client_kwargs,
    ) as job:
        client = job.container_client
        assert client._config.max_single_get_size == 1024 * 1024
        assert cast(Any, client._config).transport.connection_config.data_block_size == 65536


def test_a_download_of_a_blob_without_md5_hashes_nothing(
    azurite: StorageEndpoint,
    job: JobOutputStorage,
    job_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Rule IG-3: nothing to compare with, so no CPU spent hashing (chunked or not).
    import conventions._integrity as integrity

    data = os.urandom(5 * 1024 * 1024 + 17)  # past the 4 MiB first request: chunks
    with ContainerClient.from_connection_string(
        azurite.connection_string,
        container_name(job_id),
        max_single_put_size=1024 * 1024,
        max_block_size=1024 * 1024,
        **azurite.client_kwargs,
    ) as container:
        blob = container.get_blob_client("t1/$TaskOutput/plain.bin")
        blob.upload_blob(data, overwrite=True)  # committed from blocks: no MD5
        assert blob.get_blob_properties().content_settings.content_md5 is None
    hashed: list[int] = []
    real = integrity.VerifyingWriter.__init__

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        hashed.append(1)
        real(self, *args, **kwargs)

    monkeypatch.setattr(integrity.VerifyingWriter, "__init__", spy)
    reference = job.task("t1").get_output(KIND, "plain.bin")
    reference.download_to_file(tmp_path / "a.bin", max_concurrency=4)
    assert (tmp_path / "a.bin").read_bytes() == data
    assert hashed == []
    job.task("t1").save_bytes(KIND, data, "md5.bin")  # with an MD5: verified
    job.task("t1").get_output(KIND, "md5.bin").download_to_file(tmp_path / "b.bin")
    assert (tmp_path / "b.bin").read_bytes() == data
    assert hashed == [1]


_PROXY_ENV = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)


@settings(max_examples=60, deadline=None)
@given(
    env=st.fixed_dictionaries(
        {},
        optional={
            "HTTP_PROXY": st.sampled_from(["http://127.0.0.1:3128", "http://proxy.example:8080"]),
            "HTTPS_PROXY": st.sampled_from(["http://127.0.0.1:3129"]),
            "NO_PROXY": st.sampled_from(
                ["127.0.0.1", "localhost,.example", "*", "blob.core.windows.net"]
            ),
            "REQUESTS_CA_BUNDLE": st.sampled_from(["/etc/ca.pem"]),
            "CURL_CA_BUNDLE": st.sampled_from(["/etc/curl.pem"]),
        },
    ),
    url=st.sampled_from(
        [
            "http://127.0.0.1:10000/devstoreaccount1/job-x/t1/%24TaskOutput/a",
            "https://acct.blob.core.windows.net/job-x/b?sv=1",
            "https://other.example/c",
        ]
    ),
    proxies=st.sampled_from([{}, {"no_proxy": "127.0.0.1"}, {"http": "http://explicit:1"}]),
    verify=st.sampled_from([True, None, False, "/my/ca.pem"]),
    trust_env=st.booleans(),
)
def test_the_library_session_merges_environment_settings_as_requests_does(
    env: dict[str, str],
    url: str,
    proxies: dict[str, str],
    verify: Any,
    trust_env: bool,
) -> None:
    # The library's session reads the proxy environment once per host (a few % of a small
    # transfer's CPU); what it returns must equal requests' own answer, twice in a row.
    import requests

    from conventions._transport import _environment_once_session_class

    saved = {name: os.environ.pop(name, None) for name in _PROXY_ENV}
    saved.update({name.lower(): os.environ.pop(name.lower(), None) for name in _PROXY_ENV})
    try:
        os.environ.update(env)
        plain_session, ours = requests.Session(), _environment_once_session_class()()
        plain_session.trust_env = ours.trust_env = trust_env
        expected = plain_session.merge_environment_settings(url, dict(proxies), None, verify, None)
        for _ in range(2):  # the second answer comes from the memo
            got = ours.merge_environment_settings(url, dict(proxies), None, verify, None)
            assert got == expected
    finally:
        for name in env:
            os.environ.pop(name, None)
        os.environ.update({name: value for name, value in saved.items() if value is not None})


def test_the_library_client_still_goes_through_a_proxy_from_the_environment(
    azurite: StorageEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on: the "proxy" refuses
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    for name in _PROXY_ENV:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead}")
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{dead}")
    with (
        JobOutputStorage.from_connection_string(
            azurite.connection_string, "j-proxy", retry_total=0, **azurite.client_kwargs
        ) as job,
        pytest.raises(StorageError),
    ):
        list(job.task_ids())  # went to the dead proxy, not to Azurite
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with (
        JobOutputStorage.from_connection_string(
            azurite.connection_string, "j-proxy", retry_total=0, **azurite.client_kwargs
        ) as job,
        pytest.raises(ContainerNotFoundError),
    ):
        list(job.task_ids())  # reached Azurite: the job has no container


@settings(max_examples=40, deadline=None)
@given(
    data=st.binary(max_size=2000),
    reads=st.lists(st.integers(min_value=-1, max_value=700), min_size=1, max_size=12),
    depth=st.integers(min_value=1, max_value=3),
)
def test_the_background_hashing_reader_hashes_exactly_what_was_read(
    data: bytes, reads: list[int], depth: int
) -> None:
    # Hashing moves to a thread for large uploads; the MD5 must still be of the bytes
    # read, in order, however the SDK sizes its reads.
    import io

    from conventions._integrity import BackgroundHashingReader

    reader = BackgroundHashingReader(io.BytesIO(data), depth=depth)
    taken = b"".join(reader.read(size) for size in reads)
    assert reader.read_bytes == len(taken)
    assert reader.digest() == hashlib.md5(taken).digest()
    with pytest.raises(ValueError, match="after the hash"):
        reader.read(1)
    reader.stop()  # idempotent


def test_a_large_save_is_hashed_on_its_own_thread_and_keeps_its_md5(
    job: JobOutputStorage, tmp_path: Path
) -> None:
    from conventions._integrity import BACKGROUND_HASH_SIZE

    data = os.urandom(BACKGROUND_HASH_SIZE + 12345)
    (tmp_path / "big.bin").write_bytes(data)
    reference = job.task("t1").save(KIND, "big.bin", base_dir=tmp_path, max_concurrency=4)
    assert reference.content_md5 == hashlib.md5(data).digest()
    stored = reference.blob_client.get_blob_properties().content_settings.content_md5
    assert stored is not None
    assert bytes(stored) == hashlib.md5(data).digest()
    assert reference.download_bytes() == data


def test_download_bytes_comes_in_parallel_chunks_checked_against_the_md5(
    azurite: StorageEndpoint, job: JobOutputStorage, job_id: str
) -> None:
    # Past the library client's 4 MiB first request, download_bytes goes in chunks too.
    data = os.urandom(9 * 1024 * 1024 + 5)
    job.task("t1").save_bytes(KIND, data, "nine.bin")
    with JobOutputStorage.from_connection_string(
        azurite.connection_string, job_id, **azurite.client_kwargs
    ) as library_job:
        reference = library_job.task("t1").get_output(KIND, "nine.bin")
        assert reference.download_bytes(max_concurrency=4) == data
        assert reference.download_bytes(max_concurrency=1) == data
