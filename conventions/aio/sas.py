"""Client side: create a job's output container, and sign a container URL for its tasks.

The counterparts of .NET ``CloudJob.PrepareOutputStorageAsync`` and
``CloudJob.GetOutputStorageContainerUrl``. Unlike .NET, :func:`output_container_url` also
works with an Entra ID credential (a user-delegation SAS), not only with the account key.

Usage::

    from azure.storage.blob.aio import BlobServiceClient
    from conventions.aio.sas import output_container_url, prepare_output_storage

    async with BlobServiceClient.from_connection_string(connection_string) as service:
        await prepare_output_storage(service, "my-job")
        url = await output_container_url(service, "my-job")   # give it to the tasks

Imports azure-storage-blob; ``import conventions`` does not load this module.
"""

from __future__ import annotations

import datetime
from typing import Any

from azure.core.exceptions import AzureError
from azure.storage.blob import ContainerSasPermissions, generate_container_sas
from azure.storage.blob.aio import BlobServiceClient

from .._azure_errors import already_exists, translate_errors
from ..containers import container_name
from ..errors import InvalidArgumentError, SasError
from ..signing import MAX_USER_DELEGATION_EXPIRY, plan_sas

__all__ = [
    "DEFAULT_EXPIRY",
    "DEFAULT_PERMISSIONS",
    "MAX_USER_DELEGATION_EXPIRY",
    "SasError",
    "output_container_url",
    "prepare_output_storage",
]

#: As .NET: 7 days, and Add, Create, List, Read, Write (no Delete).
DEFAULT_EXPIRY = datetime.timedelta(days=7)
DEFAULT_PERMISSIONS = "racwl"


async def prepare_output_storage(service_client: BlobServiceClient, job_id: str) -> str:
    """Create the job's output container if it does not exist, and return its name.

    Idempotent. Needs the account key or an Entra ID credential (a SAS cannot create
    containers).

    Raises:
        InvalidIdError: *job_id* is not a Batch job ID.
        AccessDeniedError, StorageError: from storage.
    """
    name = container_name(job_id)
    _check_service_client(service_client)
    # Idempotent: "already there" (perhaps made by another caller just now) is success.
    with translate_errors("create", container=name):
        try:
            await service_client.create_container(name)
        except AzureError as error:
            if not already_exists(error):
                raise
    return name


def _check_service_client(value: object) -> None:
    if not isinstance(value, BlobServiceClient):
        raise InvalidArgumentError(
            value, "is not an azure.storage.blob.BlobServiceClient", subject="service_client"
        )


async def output_container_url(
    service_client: BlobServiceClient,
    job_id: str,
    *,
    expiry: datetime.timedelta | datetime.datetime = DEFAULT_EXPIRY,
    permissions: str = DEFAULT_PERMISSIONS,
    start: datetime.datetime | datetime.timedelta | None = None,
) -> str:
    """Return the URL of the job's container with a SAS: ``https://…/<container>?<sas>``.

    Signed with the account key when *service_client* has one; otherwise with a user
    delegation key fetched through the client's Entra ID (token) credential. .NET only
    supports the account key (decision D-22).

    Args:
        expiry: how long from now the SAS is valid (a ``timedelta``, more than zero),
            or when it expires (a timezone-aware ``datetime`` in the future). With a
            user delegation key, at most 7 days from now (Azure's limit): more raises
            ``SasError``.
        permissions: SAS letters, any order (``ContainerSasPermissions.from_string``
            orders them). The default ``racwl`` is .NET's; add ``d`` to allow
            ``OutputFileReference.delete`` (decision D-21). Tasks need ``acw`` (``w`` to
            overwrite), and ``racw`` for tracked saves (``r`` to reconcile a retried
            append); readers ``rl``.
        start: when the SAS becomes valid: a timezone-aware ``datetime``, or a
            ``timedelta`` from now (negative for the past); default 15 minutes ago,
            against clock skew. It must be before the expiry. With a user delegation
            key, a start more than 7 days before the expiry is moved later to fit the
            key's lifetime.

    Raises:
        SasError: *expiry* is not in the future or too long, *start* is not before it,
            *expiry* or *start* is neither a ``timedelta`` nor an aware ``datetime``
            (a naive one would be read in an unknown time zone), *permissions* holds
            an unknown letter, or the client's credential can sign nothing (or its
            account key is not base64).
        AccessDeniedError, StorageError: fetching the user delegation key failed.
    """
    name = container_name(job_id)
    _check_service_client(service_client)
    # Prepare: what the client has, and the decision (conventions.signing, pure).
    account_name = service_client.account_name
    credential = service_client.credential
    account_key = getattr(credential, "account_key", None)
    plan = plan_sas(
        expiry=expiry,
        start=start,
        permissions=permissions,
        now=datetime.datetime.now(datetime.timezone.utc),
        account_name=account_name,
        account_key=account_key,
        has_token_credential=callable(getattr(credential, "get_token", None)),
    )
    # Perform: fetch a user delegation key if that is the plan, then sign.
    signing_key: dict[str, Any]
    if plan.signing == "account_key":
        signing_key = {"account_key": account_key}
    else:
        with translate_errors("get a user delegation key for", container=name):
            key = await service_client.get_user_delegation_key(plan.start, plan.expiry)
        signing_key = {"user_delegation_key": key}
    sas = generate_container_sas(
        plan.account_name,
        name,
        permission=ContainerSasPermissions.from_string(plan.permissions),
        expiry=plan.expiry,
        start=plan.start,
        **signing_key,
    )
    container_url = str(service_client.get_container_client(name).url).split("?", 1)[0]
    return f"{container_url}?{sas}"
