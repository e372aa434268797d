"""Helpers for the storage tests (not fixtures: conftest.py stays the harness's)."""

from __future__ import annotations

import http.client
import urllib.parse
from pathlib import Path
from typing import Any

from azure.core.pipeline.transport import HttpRequest, HttpResponse, RequestsTransport

__all__ = ["CountingTransport", "put_raw", "task_env", "tree"]


class CountingTransport(RequestsTransport):  # type: ignore[misc]
    """A real requests transport that records each request it is asked to send, retries
    included (azure-storage-blob takes no ``per_retry_policies``; it takes a ``transport``).
    Build it with the endpoint's ``client_kwargs`` so that it trusts the same certificate."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requests: list[str] = []

    def send(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        self.requests.append(f"{request.method} {request.url}")
        return super().send(request, **kwargs)  # type: ignore[no-any-return]


def put_raw(container_url: str, name: str, data: bytes) -> None:
    """PUT a block blob with http.client, so that the name's ``..`` segments reach the
    service as they are. *container_url* must carry a SAS with ``c`` or ``w``.

    The SDK cannot send such a name: urllib3 (under requests) removes dot segments from
    the URL, after which a shared-key signature no longer matches (and a SAS request
    lands on another name).
    """
    parts = urllib.parse.urlsplit(container_url)
    quoted = urllib.parse.quote(name, safe="/\\")
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port)
    try:
        connection.request(
            "PUT",
            f"{parts.path}/{quoted}?{parts.query}",
            body=data,
            headers={"x-ms-blob-type": "BlockBlob", "x-ms-version": "2021-08-06"},
        )
        response = connection.getresponse()
        response.read()
        assert response.status == 201, response.status
    finally:
        connection.close()


def tree(root: Path) -> dict[str, bytes]:
    """Every file under *root*, by POSIX relative path, with its bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


def task_env(endpoint: Any, job_id: str, task_id: str) -> dict[str, str]:
    """The environment of a Batch task whose storage is *endpoint*'s connection string
    (a ``StorageEndpoint``), for the task-side CLI commands."""
    return {
        "AZ_BATCH_JOB_ID": job_id,
        "AZ_BATCH_TASK_ID": task_id,
        "AZURE_STORAGE_CONNECTION_STRING": endpoint.connection_string,
        "CONVENTIONS_CONTAINER_URL": "",
    }
