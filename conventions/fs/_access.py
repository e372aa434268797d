"""The filesystem's storage access: which credential option was given, checked, and one
container client per job made from it with the library's constructors
(``conventions._opening``: checked inputs, default timeouts)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from azure.storage.blob import ContainerClient

from conventions import _opening
from conventions._clients import container_client_from_account_url
from conventions.containers import container_name
from conventions.environment import (
    ACCOUNT_URL_ENV,
    CLIENT_ID_ENV,
    CONNECTION_STRING_ENV,
    CONTAINER_URL_ENV,
    container_source,
)
from conventions.errors import InvalidArgumentError
from conventions.identity import storage_credential
from conventions.urls import redact_sas

__all__ = ["ENVIRONMENT", "SOURCES", "StorageAccess"]

#: The variables of ``from_environment``'s table (``conventions.environment``).
ENVIRONMENT = (CONTAINER_URL_ENV, CONNECTION_STRING_ENV, ACCOUNT_URL_ENV, CLIENT_ID_ENV)
#: The options that say where storage is; at most one is given.
SOURCES = ("container_url", "connection_string", "account_url")


class StorageAccess:
    """One of *container_url*, *connection_string*, *account_url* (with *credential* or
    the managed identity *client_id*), or the environment table's variables *environ*;
    :meth:`client` gives the job's container client, made once per job."""

    def __init__(
        self,
        *,
        container_url: str | None,
        connection_string: str | None,
        account_url: str | None,
        credential: Any,
        client_id: str | None,
        environ: Mapping[str, str] | None,
        client_kwargs: Mapping[str, Any] | None,
    ) -> None:
        values = (container_url, connection_string, account_url)
        given = [name for name, value in zip(SOURCES, values, strict=True) if value is not None]
        if len(given) > 1:
            raise InvalidArgumentError(
                given,
                "are exclusive: pass one of container_url, connection_string, account_url",
                subject="options",
            )
        if (credential is not None or client_id is not None) and account_url is None:
            raise InvalidArgumentError(
                "credential" if credential is not None else "client_id",
                "goes with account_url only",
                subject="option",
            )
        self._container_url = container_url
        self._connection_string = connection_string
        self._account_url = account_url
        self._credential = credential
        self._client_id = client_id
        self._environ = dict(environ or {}) if not given else None
        if self._environ is not None:
            container_source(self._environ, "job")  # raises, naming all three, if none is set
        self._client_kwargs = dict(client_kwargs or {})
        self._clients: dict[str, ContainerClient] = {}
        self._lock = threading.Lock()

    def describe(self) -> str:
        """Which option, for ``repr``: a URL with its signature redacted, never a
        connection string or a key."""
        if self._container_url is not None:
            return f"container_url={redact_sas(self._container_url)!r}"
        if self._connection_string is not None:
            return "connection_string=<connection string>"
        if self._account_url is not None:
            return f"account_url={redact_sas(self._account_url)!r}"
        assert self._environ is not None
        return f"environment={container_source(self._environ, 'job').variable}"

    def client(self, job_id: str) -> ContainerClient:
        """The client on ``container_name(job_id)``, made on first use.

        Raises:
            ContainerMismatchError: a container URL of another job.
        """
        with self._lock:
            client = self._clients.get(job_id)
            if client is None:
                client = self._clients[job_id] = self._make(job_id)
            return client

    def _make(self, job_id: str) -> ContainerClient:
        kwargs = self._client_kwargs
        if self._container_url is not None:
            return _opening.from_container_url(self._container_url, job_id, kwargs)
        if self._connection_string is not None:
            return _opening.from_connection_string(self._connection_string, job_id, kwargs)
        if self._account_url is not None:
            if self._credential is None:  # one for all jobs, made where it is used
                self._credential = storage_credential(self._client_id)
            return container_client_from_account_url(
                self._account_url, container_name(job_id), self._credential, kwargs
            )
        assert self._environ is not None
        source = container_source(self._environ, job_id)
        return _opening._client_for(source, job_id, dict(kwargs))
