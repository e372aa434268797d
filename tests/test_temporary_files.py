"""Rule LP-6: temporary files that killed downloads leave behind are removed by the next
download into the same directory, and only those (pure rule, then a real SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from hypothesis import given
from hypothesis import strategies as st

from conventions import TaskOutputKind
from conventions.containers import container_name
from conventions.storage import JobOutputStorage
from conventions.temporary_files import (
    STALE_AFTER,
    is_stale,
    is_temporary,
    temporary_name,
    writer_of,
)
from scripts.azurite import StorageEndpoint

from .faultproxy import Fault, FaultProxy, ProxiedRequest
from .storage_support import tree
from .vectors import cases

names = st.text(
    st.characters(codec="utf-8", exclude_characters="/\0"), min_size=1, max_size=80
)
hosts = st.text("0123456789abcdef", min_size=8, max_size=8)
pids = st.integers(1, 4_194_304)
tokens = st.text("0123456789abcdef", min_size=4, max_size=32)


@given(names, pids, hosts, tokens)
def test_a_temporary_name_says_who_wrote_it(name: str, pid: int, host: str, token: str) -> None:
    temp = temporary_name(name, pid=pid, host=host, token=token)
    assert is_temporary(temp)
    assert writer_of(temp) == (pid, host)
    assert len(temp.encode()) <= 255 or len(name[:40].encode()) > 200


@given(names, pids, hosts, tokens, st.floats(0, STALE_AFTER * 0.999), st.booleans())
def test_a_recent_file_is_stale_only_if_its_writer_here_is_gone(
    name: str, pid: int, host: str, token: str, age: float, alive: bool
) -> None:
    temp = temporary_name(name, pid=pid, host=host, token=token)
    assert is_stale(temp, age=age, host=host, alive=lambda _: alive) is (not alive)
    # Another host's download is never judged by this host's processes.
    other = "x" + host[1:] if host[0] != "x" else "y" + host[1:]
    assert not is_stale(temp, age=age, host=other, alive=lambda _: False)


@given(names, st.floats(STALE_AFTER, 1e9))
def test_any_temporary_file_untouched_for_an_hour_is_stale(name: str, age: float) -> None:
    older = f".{name[:40]}.0123abcd.part"
    assert is_stale(older, age=age, host="00000000", alive=lambda _: True)
    assert not is_stale(older, age=STALE_AFTER - 1, host="00000000", alive=lambda _: False)


@given(names)
def test_other_files_are_never_stale(name: str) -> None:
    if is_temporary(name):
        return
    assert not is_stale(name, age=1e9, host="00000000", alive=lambda _: False)


@pytest.mark.parametrize("case", cases("temporary_files.json"))
def test_temporary_file_vectors(case: dict[str, Any]) -> None:
    alive = case["alive"]
    stale = is_stale(case["name"], age=case["age"], host=case["host"], alive=lambda _: alive)
    assert stale is case["stale"]


_KILLED_DOWNLOAD = """
import sys
from conventions import TaskOutputKind
from conventions.storage import JobOutputStorage
with JobOutputStorage.from_connection_string(sys.argv[1], sys.argv[2]) as job:
    ref = job.task("t1").get_output(TaskOutputKind.TASK_OUTPUT, "big.bin")
    ref.download_to_file(sys.argv[3], max_concurrency=1)
"""


def test_the_next_download_removes_what_a_killed_one_left(
    blob_service_client: BlobServiceClient,
    job_id: str,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    tmp_path: Path,
) -> None:
    data = os.urandom(6 * 1024 * 1024)
    container = blob_service_client.create_container(container_name(job_id))
    container.upload_blob("t1/$TaskOutput/big.bin", data)

    def second_get(request: ProxiedRequest) -> bool:
        return request.method == "GET" and "x-ms-range" in request.headers and not request.headers[
            "x-ms-range"
        ].startswith("bytes=0-")

    # The second request trickles: the download sits with its temporary file half written.
    fault_proxy.inject(Fault.stall(60), times=None, when=second_get)
    dest = tmp_path / "dest" / "t1"
    dest.mkdir(parents=True)
    process = subprocess.Popen(
        [sys.executable, "-c", _KILLED_DOWNLOAD, proxied_endpoint.connection_string, job_id,
         str(dest / "big.bin")],
    )
    try:
        deadline = time.monotonic() + 30
        while not [p for p in dest.iterdir() if p.name.endswith(".part")]:
            assert time.monotonic() < deadline, "the download never started writing"
            assert process.poll() is None
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    left = [p.name for p in dest.iterdir()]
    assert len(left) == 1, left
    assert left[0].endswith(".part"), left
    writer = writer_of(left[0])
    assert writer is not None
    assert writer[0] == process.pid
    # A live download's temporary file (this process) is not touched.
    mine = dest / temporary_name("other.bin", pid=os.getpid(), host=writer[1], token="abcd")
    mine.write_bytes(b"in progress")
    fault_proxy.clear()
    with JobOutputStorage.from_connection_string(proxied_endpoint.connection_string, job_id) as job:
        job.download(TaskOutputKind.TASK_OUTPUT, tmp_path / "dest")
    assert sorted(tree(tmp_path / "dest")) == ["t1/" + mine.name, "t1/big.bin"]
    assert (dest / "big.bin").read_bytes() == data
