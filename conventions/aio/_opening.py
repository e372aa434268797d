"""The storages' named constructors, written once for both: the job's container client
from a container URL, an account URL, a service client, a connection string or the
environment.

``TaskOutputStorage.from_*`` and ``JobOutputStorage.from_*`` check their own IDs and
call these; which environment variable wins is the pure table in
``conventions.environment``, and building each client (checked input, default timeouts)
is ``conventions._clients``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure.storage.blob.aio import BlobServiceClient, ContainerClient

from ..containers import container_name
from ..environment import (
    ACCOUNT_URL_ENV,
    CONNECTION_STRING_ENV,
    CONTAINER_URL_ENV,
    ContainerSource,
    StorageEnvironment,
    read_environment,
)
from ..errors import ContainerMismatchError, InvalidArgumentError
from ._backend import discard_client
from ._clients import (
    container_client_from_account_url,
    container_client_from_connection_string,
    container_client_from_url,
)
from .identity import storage_credential

__all__ = [
    "from_account_url",
    "from_connection_string",
    "from_container_url",
    "from_environment",
    "from_service_client",
]


def check_container(client: ContainerClient, job_id: str | None, *, source: str) -> ContainerClient:
    """One job, one container: *client* must be on ``container_name(job_id)``."""
    if job_id is not None:
        expected = container_name(job_id)
        if client.container_name != expected:
            discard_client(client)
            raise ContainerMismatchError(
                str(client.container_name), job_id, expected, source=source
            )
    return client


def from_container_url(
    container_url: str,
    job_id: str | None,
    client_kwargs: Mapping[str, Any],
    *,
    source: str = "the container URL",
) -> ContainerClient:
    """A client on *container_url*; with *job_id*, checked to be that job's container."""
    client = container_client_from_url(container_url, client_kwargs)
    return check_container(client, job_id, source=source)


def from_account_url(
    account_url: str,
    job_id: str,
    credential: Any,
    client_kwargs: dict[str, Any],
    *,
    client_id: str | None = None,
) -> ContainerClient:
    """The job's container on *account_url*; without *credential*, the managed identity
    *client_id*, else ``DefaultAzureCredential`` (``conventions.identity``)."""
    if credential is None:
        credential = storage_credential(client_id)
        # Made here, so closed with the storage (a credential you pass stays yours).
        credential.owned_by_storage = True
    return container_client_from_account_url(
        account_url, container_name(job_id), credential, client_kwargs
    )


def from_service_client(service_client: object, job_id: str) -> ContainerClient:
    """The job's container of *service_client* (sharing its pipeline)."""
    if not isinstance(service_client, BlobServiceClient):
        raise InvalidArgumentError(
            service_client,
            "is not an azure.storage.blob.BlobServiceClient",
            subject="service_client",
        )
    return service_client.get_container_client(container_name(job_id))


def from_connection_string(
    connection_string: str, job_id: str, client_kwargs: Mapping[str, Any]
) -> ContainerClient:
    """The job's container of the account in *connection_string*."""
    return container_client_from_connection_string(
        connection_string, container_name(job_id), client_kwargs
    )


def from_environment(
    environ: Mapping[str, str],
    client_kwargs: dict[str, Any],
    *,
    task: bool,
    allow_other_container: bool,
) -> tuple[StorageEnvironment, ContainerClient]:
    """Read the environment (the pure table), then build the client of the source that
    won."""
    env = read_environment(environ, task=task, allow_other_container=allow_other_container)
    return env, _client_for(env.source, env.job_id, client_kwargs)


def _client_for(
    source: ContainerSource, job_id: str, client_kwargs: dict[str, Any]
) -> ContainerClient:
    if source.variable == CONTAINER_URL_ENV:
        return from_container_url(
            source.value, source.required_job, client_kwargs, source=CONTAINER_URL_ENV
        )
    if source.variable == CONNECTION_STRING_ENV:
        return container_client_from_connection_string(
            source.value, source.container, client_kwargs
        )
    assert source.variable == ACCOUNT_URL_ENV, source.variable
    kwargs = dict(client_kwargs)
    credential = kwargs.pop("credential", None)
    return from_account_url(source.value, job_id, credential, kwargs, client_id=source.client_id)
