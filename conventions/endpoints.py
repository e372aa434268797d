"""The checks of what a client the library builds is given: a container or account URL,
a connection string (rule-like, so pure: stdlib only; ``conventions._clients`` calls them
before it builds a client).

A bad value raises :class:`~conventions.errors.InvalidSettingError` (never the SDK's
``ValueError``/``binascii.Error``, never a silently accepted ``ftp://`` or ``file://``);
messages show a URL redacted and a connection string only by its field names: both may
hold secrets.

>>> check_endpoint("https://acct.blob.core.windows.net/job-1?sig=x", "container url",
...                needs_container=True)
>>> check_connection_string("AccountName=a;AccountKey=not base64!")
Traceback (most recent call last):
...
conventions.errors.InvalidSettingError: ... has an AccountKey that is not base64 (copy it again)
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

from .errors import InvalidSettingError
from .urls import redact_sas

__all__ = ["check_connection_string", "check_endpoint", "connection_string_fields"]

_SCHEMES = ("http", "https")


def check_endpoint(url: object, subject: str, *, needs_container: bool) -> None:
    """Refuse *url* unless it is an absolute ``http``/``https`` URL with a host (and a
    valid port), naming a container when *needs_container*."""
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


def connection_string_fields(connection_string: str) -> dict[str, str]:
    """The fields of *connection_string*, by lower-cased name (a field without ``=`` is
    ``""``)."""
    fields: dict[str, str] = {}
    for part in connection_string.split(";"):
        if part.strip():
            name, separator, value = part.partition("=")
            fields[name.strip().lower()] = value.strip() if separator else ""
    return fields


def check_connection_string(connection_string: object) -> None:
    """Refuse a connection string without ``AccountName`` or ``BlobEndpoint``, with a
    protocol or ``BlobEndpoint`` other than http(s), a non-base64 ``AccountKey``, or
    neither ``AccountKey`` nor ``SharedAccessSignature``."""
    if not isinstance(connection_string, str):
        raise TypeError(f"connection string must be a str, not {type(connection_string).__name__}")
    fields = connection_string_fields(connection_string)
    shown = "<connection string with fields " + ", ".join(sorted(fields)) + ">"

    def refuse(rule: str) -> InvalidSettingError:
        return InvalidSettingError(shown, rule, subject="connection string")

    if "accountname" not in fields and "blobendpoint" not in fields:
        raise refuse("needs AccountName (and AccountKey) or BlobEndpoint")
    protocol = fields.get("defaultendpointsprotocol", "https").lower()
    if protocol not in _SCHEMES:
        raise refuse("has a DefaultEndpointsProtocol other than http or https")
    if "blobendpoint" in fields:
        check_endpoint(fields["blobendpoint"], "BlobEndpoint", needs_container=False)
    key = fields.get("accountkey")
    if key is not None:
        try:
            base64.b64decode(key.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise refuse("has an AccountKey that is not base64 (copy it again)") from None
    elif "sharedaccesssignature" not in fields:
        raise refuse("needs AccountKey or SharedAccessSignature")
