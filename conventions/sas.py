"""Client side: create a job's output container, and sign a container URL for its tasks.

The counterparts of .NET ``CloudJob.PrepareOutputStorageAsync`` and
``CloudJob.GetOutputStorageContainerUrl``. Unlike .NET, :func:`output_container_url` also
works with an Entra ID credential (a user-delegation SAS), not only with the account key.

Usage::

    from azure.storage.blob import BlobServiceClient
    from conventions.sas import output_container_url, prepare_output_storage

    service = BlobServiceClient.from_connection_string(connection_string)
    prepare_output_storage(service, "my-job")
    url = output_container_url(service, "my-job")   # give it to the tasks

Imports azure-storage-blob; ``import conventions`` does not load this module.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

from ._azure_errors import translate_errors
from .containers import container_name
from .errors import InvalidArgumentError, SasError

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
#: Azure's limit on a user delegation key's lifetime.
MAX_USER_DELEGATION_EXPIRY = datetime.timedelta(days=7)
#: How far back the SAS start goes by default, against clock skew between machines.
_CLOCK_SKEW = datetime.timedelta(minutes=15)
# Letters that ContainerSasPermissions knows, in its order.
_PERMISSION_LETTERS = "racwdxyltfmei"


def prepare_output_storage(service_client: BlobServiceClient, job_id: str) -> str:
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
    with translate_errors("create", container=name), contextlib.suppress(ResourceExistsError):
        service_client.create_container(name)
    return name


def _check_service_client(value: object) -> None:
    if not isinstance(value, BlobServiceClient):
        raise InvalidArgumentError(
            value, "is not an azure.storage.blob.BlobServiceClient", subject="service_client"
        )


def _instant(
    name: str, value: datetime.datetime | datetime.timedelta, now: datetime.datetime
) -> datetime.datetime:
    """*value* as an aware UTC time: a ``timedelta`` counts from *now*."""
    if isinstance(value, datetime.timedelta):
        return now + value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise SasError(
                f"{name} {value.isoformat()} is a naive datetime; give a timezone-aware one "
                "(e.g. datetime.now(timezone.utc)) or a timedelta from now"
            )
        return value.astimezone(datetime.timezone.utc)
    raise SasError(
        f"{name} must be a timedelta or a timezone-aware datetime, not {type(value).__name__} "
        f"{value!r}"
    )


def output_container_url(
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
    now = datetime.datetime.now(datetime.timezone.utc)
    expires = _instant("expiry", expiry, now)
    if expires <= now:
        raise SasError(f"expiry must be in the future, not {expiry}")
    starts = now - _CLOCK_SKEW if start is None else _instant("start", start, now)
    if starts >= expires:
        raise SasError(f"start {start} must be before the expiry {expires.isoformat()}")
    unknown = sorted(set(permissions) - set(_PERMISSION_LETTERS))
    if not permissions or unknown or len(set(permissions)) != len(permissions):
        raise SasError(
            f"permissions {permissions!r} must be SAS letters from {_PERMISSION_LETTERS!r}, "
            "each at most once"
        )
    permission = ContainerSasPermissions.from_string(permissions)
    account_name = service_client.account_name
    if not account_name:
        raise SasError("the service client's URL names no storage account; cannot sign a SAS")
    credential = service_client.credential
    account_key = getattr(credential, "account_key", None)
    signing_key: dict[str, Any]
    if isinstance(account_key, str) and account_key:
        try:
            base64.b64decode(account_key.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise SasError(
                "the service client's account key is not base64, so it cannot sign a SAS; "
                "copy the key again"
            ) from None
        signing_key = {"account_key": account_key}
    elif callable(getattr(credential, "get_token", None)):
        if expires - now > MAX_USER_DELEGATION_EXPIRY:
            raise SasError(
                f"expiry {expiry} is too long for a user delegation SAS: Azure allows at most "
                f"{MAX_USER_DELEGATION_EXPIRY.days} days; use a shorter expiry and issue a "
                "new URL later, or sign with the account key"
            )
        starts = max(starts, expires - MAX_USER_DELEGATION_EXPIRY)
        with translate_errors("get a user delegation key for", container=name):
            key = service_client.get_user_delegation_key(starts, expires)
        signing_key = {"user_delegation_key": key}
    else:
        raise SasError(
            "the service client must be authorized with the account key (shared key) or "
            "an Entra ID token credential to sign a container SAS; it has neither"
        )
    sas = generate_container_sas(
        account_name, name, permission=permission, expiry=expires, start=starts, **signing_key
    )
    container_url = str(service_client.get_container_client(name).url).split("?", 1)[0]
    return f"{container_url}?{sas}"
