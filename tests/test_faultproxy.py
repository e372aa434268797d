"""The fault proxy itself does what each fault says, against the real Azurite.

Every SDK client here has ``retry_total=0``, so each fault shows as exactly one failed call.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from azure.core.exceptions import AzureError, HttpResponseError
from azure.storage.blob import BlobServiceClient, ContainerClient

from scripts.azurite import StorageEndpoint

from .faultproxy import Fault, FaultProxy, ProxiedRequest

DATA = bytes(range(256)) * 64  # 16 KiB


def _is_put(request: ProxiedRequest) -> bool:
    return request.method == "PUT" and request.query.get("restype") != "container"


def _is_get(request: ProxiedRequest) -> bool:
    return request.method == "GET"


@pytest.fixture
def direct(azurite: StorageEndpoint) -> Iterator[ContainerClient]:
    """A container reached without the proxy, to see what really landed."""
    with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
        container = service.create_container(f"proxy-{uuid.uuid4().hex[:10]}")
        yield container
        container.delete_container()


@pytest.fixture
def proxied(
    proxied_endpoint: StorageEndpoint, direct: ContainerClient
) -> Iterator[ContainerClient]:
    with ContainerClient.from_connection_string(
        proxied_endpoint.connection_string,
        direct.container_name,
        retry_total=0,
        read_timeout=2,
        connection_timeout=2,
    ) as client:
        yield client


def _exists(container: ContainerClient, name: str) -> bool:
    return bool(container.get_blob_client(name).exists())


def test_clean_requests_pass_unchanged(proxied: ContainerClient, direct: ContainerClient) -> None:
    proxied.upload_blob("a", DATA)
    assert direct.download_blob("a").readall() == DATA
    assert proxied.download_blob("a").readall() == DATA


def test_refuse_answers_without_forwarding(
    fault_proxy: FaultProxy, proxied: ContainerClient, direct: ContainerClient
) -> None:
    fault_proxy.inject(Fault.refuse(503), when=_is_put)
    with pytest.raises(HttpResponseError) as caught:
        proxied.upload_blob("a", DATA)
    assert caught.value.status_code == 503
    assert not _exists(direct, "a")
    proxied.upload_blob("a", DATA)  # the fault was for one request only
    assert _exists(direct, "a")
    assert fault_proxy.faults_applied("refuse") == 1


def test_landed_then_status_lands_but_answers_an_error(
    fault_proxy: FaultProxy, proxied: ContainerClient, direct: ContainerClient
) -> None:
    fault_proxy.inject(Fault.landed_then_status(500), when=_is_put)
    with pytest.raises(HttpResponseError) as caught:
        proxied.upload_blob("a", DATA)
    assert caught.value.status_code == 500
    assert direct.download_blob("a").readall() == DATA


def test_lost_response_lands_but_the_client_sees_a_reset(
    fault_proxy: FaultProxy, proxied: ContainerClient, direct: ContainerClient
) -> None:
    fault_proxy.inject(Fault.lost_response(), when=_is_put)
    with pytest.raises(AzureError):
        proxied.upload_blob("a", DATA)
    assert direct.download_blob("a").readall() == DATA


def test_reset_mid_request_never_lands(
    fault_proxy: FaultProxy, proxied: ContainerClient, direct: ContainerClient
) -> None:
    fault_proxy.inject(Fault.reset_mid_request(), when=_is_put)
    with pytest.raises(AzureError):
        proxied.upload_blob("a", DATA)
    assert not _exists(direct, "a")


def test_reset_mid_response_cuts_a_download(
    fault_proxy: FaultProxy, proxied: ContainerClient, direct: ContainerClient
) -> None:
    direct.upload_blob("a", DATA)
    # For ever: the SDK retries a cut download body by itself, whatever retry_total says.
    fault_proxy.inject(Fault.reset_mid_response(), times=None, when=_is_get)
    with pytest.raises(AzureError):
        proxied.download_blob("a").readall()
    assert fault_proxy.faults_applied("reset_mid_response") >= 1


def test_stall_is_cut_by_the_read_timeout(
    fault_proxy: FaultProxy, proxied: ContainerClient, direct: ContainerClient
) -> None:
    direct.upload_blob("a", DATA)
    fault_proxy.inject(Fault.stall(30), times=None, when=_is_get)
    started = time.monotonic()
    with pytest.raises(AzureError):
        proxied.download_blob("a").readall()
    assert time.monotonic() - started < 20
    assert fault_proxy.faults_applied("stall") >= 1


def test_trickle_delivers_every_byte_slowly(
    fault_proxy: FaultProxy, proxied: ContainerClient, direct: ContainerClient
) -> None:
    direct.upload_blob("small", DATA[:40])
    fault_proxy.inject(Fault.trickle(nbytes=8, every=0.05), when=_is_get)
    started = time.monotonic()
    assert proxied.download_blob("small").readall() == DATA[:40]
    assert time.monotonic() - started >= 0.2


def test_latency_delays_each_request(
    fault_proxy: FaultProxy, proxied: ContainerClient, direct: ContainerClient
) -> None:
    direct.upload_blob("a", DATA)
    fault_proxy.latency = 0.2
    started = time.monotonic()
    for _ in range(3):
        proxied.get_blob_client("a").get_blob_properties()
    assert time.monotonic() - started >= 0.6


def test_the_log_keeps_no_query_string(
    fault_proxy: FaultProxy, proxied: ContainerClient
) -> None:
    proxied.upload_blob("a", DATA)
    assert fault_proxy.log
    assert all("?" not in path for _, path, _ in fault_proxy.log)
