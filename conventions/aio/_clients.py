"""How the library builds its clients: checked inputs, the library's default timeouts.

Every ``from_*`` constructor that builds a client (not ``from_service_client``) goes
through here, so that a bad container URL or connection string is refused with the
library's :class:`~conventions.errors.InvalidSettingError` (never the SDK's
``ValueError``/``binascii.Error``, never a silently accepted ``ftp://`` or ``file://``)
and the per-request timeouts of :mod:`conventions.network` apply. The checks are the pure
:mod:`conventions.endpoints`. Messages show a URL redacted and a connection string only
by its field names: both may hold secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure.storage.blob.aio import ContainerClient

from ..endpoints import check_connection_string, check_endpoint
from ..errors import InvalidSettingError
from ..network import with_default_timeouts
from ..urls import redact_sas
from ._transport import library_client_kwargs

__all__ = [
    "container_client_from_account_url",
    "container_client_from_connection_string",
    "container_client_from_url",
]

def container_client_from_url(url: str, client_kwargs: Mapping[str, Any]) -> ContainerClient:
    """``ContainerClient.from_container_url`` with a checked URL and default timeouts."""
    check_endpoint(url, "container url", needs_container=True)
    try:
        return ContainerClient.from_container_url(url, **_library_client_kwargs(client_kwargs))
    except ValueError as error:
        detail = redact_sas(str(error).splitlines()[0] if str(error) else "")
        raise InvalidSettingError(
            redact_sas(url), f"was refused by the Blob SDK: {detail}", subject="container url"
        ) from None


def container_client_from_connection_string(
    connection_string: str, container: str, client_kwargs: Mapping[str, Any]
) -> ContainerClient:
    """``ContainerClient.from_connection_string`` with a checked string and default timeouts."""
    check_connection_string(connection_string)
    try:
        return ContainerClient.from_connection_string(
            connection_string, container, **_library_client_kwargs(client_kwargs)
        )
    except ValueError:
        raise InvalidSettingError(
            "<connection string>", "was refused by the Blob SDK", subject="connection string"
        ) from None


def container_client_from_account_url(
    account_url: str, container: str, credential: Any, client_kwargs: Mapping[str, Any]
) -> ContainerClient:
    """``ContainerClient(account_url, container, credential=...)`` with a checked URL and
    default timeouts."""
    check_endpoint(account_url, "account url", needs_container=False)
    try:
        return ContainerClient(
            account_url, container, credential=credential, **_library_client_kwargs(client_kwargs)
        )
    except ValueError as error:
        detail = redact_sas(str(error).splitlines()[0] if str(error) else "")
        raise InvalidSettingError(
            redact_sas(account_url), f"was refused by the Blob SDK: {detail}", subject="account url"
        ) from None


def _library_client_kwargs(client_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The options of a client the library builds: the caller's, then the library's
    per-request timeouts (``conventions.network``), a connection pool sized for its
    parallel transfers and a 4 MiB first download request (``conventions._transport``)."""
    return library_client_kwargs(with_default_timeouts(client_kwargs))
