"""How the library builds its clients: checked inputs, the library's default timeouts.

Every ``from_*`` constructor that builds a client (not ``from_service_client``) goes
through here, so that a bad container URL or connection string is refused with the
library's :class:`~conventions.errors.InvalidSettingError` (never the SDK's
``ValueError``/``binascii.Error``, never a silently accepted ``ftp://`` or ``file://``)
and the per-request timeouts of :mod:`conventions.network` apply. Messages show a URL
redacted and a connection string only by its field names: both may hold secrets.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from azure.storage.blob import ContainerClient

from ._transport import library_client_kwargs
from .errors import InvalidSettingError
from .network import with_default_timeouts
from .urls import redact_sas

__all__ = [
    "container_client_from_account_url",
    "container_client_from_connection_string",
    "container_client_from_url",
]

_SCHEMES = ("http", "https")


def _check_endpoint(url: object, subject: str, *, needs_container: bool) -> None:
    if not isinstance(url, str):
        raise TypeError(f"{subject} must be a str, not {type(url).__name__}")
    try:
        parts = urlsplit(url)
        ok = parts.scheme.lower() in _SCHEMES and bool(parts.hostname)
        _ = parts.port  # raises for a port that is not a number in range
    except ValueError:
        ok = False
    if not ok:
        raise InvalidSettingError(
            redact_sas(url), "must be an absolute http:// or https:// URL", subject=subject
        )
    if needs_container and not parts.path.strip("/"):
        raise InvalidSettingError(
            redact_sas(url),
            "names no container: expected https://<account>.blob.core.windows.net/<container>",
            subject=subject,
        )


def _fields(connection_string: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in connection_string.split(";"):
        if part.strip():
            name, separator, value = part.partition("=")
            fields[name.strip().lower()] = value.strip() if separator else ""
    return fields


def _check_connection_string(connection_string: object) -> None:
    if not isinstance(connection_string, str):
        raise TypeError(f"connection string must be a str, not {type(connection_string).__name__}")
    fields = _fields(connection_string)
    shown = "<connection string with fields " + ", ".join(sorted(fields)) + ">"

    def refuse(rule: str) -> InvalidSettingError:
        return InvalidSettingError(shown, rule, subject="connection string")

    if "accountname" not in fields and "blobendpoint" not in fields:
        raise refuse("needs AccountName (and AccountKey) or BlobEndpoint")
    protocol = fields.get("defaultendpointsprotocol", "https").lower()
    if protocol not in _SCHEMES:
        raise refuse("has a DefaultEndpointsProtocol other than http or https")
    if "blobendpoint" in fields:
        _check_endpoint(fields["blobendpoint"], "BlobEndpoint", needs_container=False)
    key = fields.get("accountkey")
    if key is not None:
        try:
            base64.b64decode(key.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise refuse("has an AccountKey that is not base64 (copy it again)") from None
    elif "sharedaccesssignature" not in fields:
        raise refuse("needs AccountKey or SharedAccessSignature")


def container_client_from_url(url: str, client_kwargs: Mapping[str, Any]) -> ContainerClient:
    """``ContainerClient.from_container_url`` with a checked URL and default timeouts."""
    _check_endpoint(url, "container url", needs_container=True)
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
    _check_connection_string(connection_string)
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
    _check_endpoint(account_url, "account url", needs_container=False)
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
