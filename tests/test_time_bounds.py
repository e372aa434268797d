"""Time bounds that hold (issue 19 item 5): a stalled or trickled answer, its head
included, cannot outlast an operation's bound; neither can a token endpoint.

The library's own clients hand each connection's socket to the operation's deadline
(``conventions.network.TransferDeadline``) before the head is read; a trickle of one byte
every 0.2 s defeats every read timeout, so only that deadline can end these waits.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from conventions import CredentialError, StorageError, TaskOutputKind
from conventions.containers import container_name
from conventions.network import TransferLimits, set_transfer_limits
from scripts.azurite import StorageEndpoint

from .face_fixtures import Face
from .faultproxy import Fault, FaultProxy, ProxiedRequest
from .storage_support import tree
from .tokenendpoint import POD_IDENTITY_HOST_ENV, TokenEndpoint

KIND = TaskOutputKind.TASK_OUTPUT
#: Read timeouts far above the bound: only the deadline can end the trickle in time.
SLOW_READS = {"connection_timeout": 20, "read_timeout": 20, "retry_total": 1}
GRACE = 2.0
TRICKLE = Fault.trickle_all(nbytes=1, every=0.2)


@contextlib.contextmanager
def _grace(seconds: float) -> Iterator[None]:
    previous = set_transfer_limits(TransferLimits(grace=seconds, minimum_rate=64 * 1024.0))
    try:
        yield
    finally:
        set_transfer_limits(previous)


@pytest.fixture
def seeded(blob_service_client: BlobServiceClient, job_id: str) -> Iterator[str]:
    container = blob_service_client.create_container(container_name(job_id))
    container.upload_blob("t1/$TaskOutput/a.txt", b"alpha\n" * 100)
    yield job_id
    container.delete_container()


def _is_blob_get(request: ProxiedRequest) -> bool:
    return request.method == "GET" and request.query.get("comp") != "list"


def _is_list(request: ProxiedRequest) -> bool:
    return request.query.get("comp") == "list"


def _is_head(request: ProxiedRequest) -> bool:
    return request.method == "HEAD"


def _bounded(operation: str, storage: Any, dest: Path) -> None:
    if operation == "download_to_file":
        storage.reference(KIND, "a.txt").download_to_file(dest / "a.txt")
    elif operation == "download_bytes":
        storage.reference(KIND, "a.txt").download_bytes()
    elif operation == "list_outputs":
        list(storage.list_outputs(KIND))
    else:
        storage.get_output(KIND, "a.txt")


WHEN = {
    "download_to_file": _is_blob_get,
    "download_bytes": _is_blob_get,
    "list_outputs": _is_list,
    "get_output": _is_head,
}


@pytest.mark.parametrize("operation", sorted(WHEN))
def test_a_trickled_head_cannot_outlast_the_bound(
    face: Face,
    operation: str,
    seeded: str,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
    tmp_path: Path,
) -> None:
    fault_proxy.inject(TRICKLE, times=None, when=WHEN[operation])
    with face.TaskOutputStorage.from_connection_string(
        proxied_endpoint.connection_string, seeded, "t1", **SLOW_READS
    ) as storage:
        started = time.monotonic()
        with _grace(GRACE), pytest.raises(StorageError, match="did not finish within") as caught:
            _bounded(operation, storage, tmp_path)
        elapsed = time.monotonic() - started
    # The bound (2 s, the answers are tiny) plus one request's slack; the trickled head
    # alone would take minutes, and the read timeout never fires.
    assert elapsed < GRACE + 3, elapsed
    assert caught.value.container == container_name(seeded)
    assert tree(tmp_path) == {}


def test_the_clis_timeout_bounds_a_trickled_listing(
    seeded: str, proxied_endpoint: StorageEndpoint, fault_proxy: FaultProxy
) -> None:
    fault_proxy.inject(TRICKLE, times=None, when=_is_list)
    env = {**os.environ, "AZURE_STORAGE_CONNECTION_STRING": proxied_endpoint.connection_string}
    env.pop("CONVENTIONS_CONTAINER_URL", None)
    command = [sys.executable, "-m", "conventions", "list", seeded, "--timeout", "2"]
    started = time.monotonic()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert "did not finish within" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert elapsed < 12, elapsed  # 2 s bound, a retry, and Python's start-up


@pytest.mark.parametrize("fault", [Fault.stall(60), Fault.trickle_all(nbytes=1, every=0.2)])
def test_a_stalled_or_trickled_token_endpoint_cannot_hang_a_storage_call(
    face: Face,
    fault: Fault,
    azurite_oauth: StorageEndpoint,
    token_endpoint: TokenEndpoint,
    monkeypatch: pytest.MonkeyPatch,
    job_id: str,
) -> None:
    parts = urllib.parse.urlsplit(token_endpoint.url)
    with FaultProxy(parts.hostname or "127.0.0.1", parts.port or 80) as proxy:
        proxy.inject(fault, times=None)
        monkeypatch.setenv(POD_IDENTITY_HOST_ENV, f"http://{proxy.address}")
        env = {
            "AZ_BATCH_JOB_ID": job_id,
            "AZ_BATCH_TASK_ID": "t1",
            "CONVENTIONS_ACCOUNT_URL": azurite_oauth.blob_endpoint,
            "AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000001",
        }
        started = time.monotonic()
        with (
            _grace(GRACE),
            face.TaskOutputStorage.from_environment(env, **azurite_oauth.client_kwargs) as task,
            pytest.raises((StorageError, CredentialError)) as caught,
        ):
            task.save_text(KIND, "x", "x.txt")
        elapsed = time.monotonic() - started
        assert proxy.faults_applied() >= 1  # the token endpoint was really asked
    assert "token" in str(caught.value)
    assert elapsed < 15, elapsed
