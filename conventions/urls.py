"""URL helpers shared by the OutputFile and storage layers. Pure: no Azure import."""

from __future__ import annotations

import datetime
import re
from urllib.parse import parse_qs, urlsplit

__all__ = ["expired_sas", "redact_sas", "redact_value", "sas_expiry"]

# The signature is the secret part of a SAS; the other fields (sp, se, sv...) say
# what the token allows and help debugging, so they stay visible. The value runs to the
# next field, fragment, quote or line end: spaces included, since a mistyped signature
# may hold one (over-redacting a message's tail is safe; leaking half a key is not).
# ``sig%3D`` is a SAS URL inside another URL's query.
_FIELD_START = r"(?:\b|(?<=%3F)|(?<=%26))"  # after '?', '&', or their %-encodings
_SIGNATURE = re.compile(rf"(?i)({_FIELD_START}sig(?:=|%3D))[^&#'\"\r\n]*")
_SIGNATURE_BYTES = re.compile(rf"(?i)({_FIELD_START}sig(?:=|%3D))[^&#'\"\r\n]*".encode())


def redact_sas(text: str) -> str:
    """Return *text* with the value of every SAS ``sig=`` field replaced by ``REDACTED``.

    Safe to apply to a URL, a query string or a whole error message.

    >>> redact_sas("https://a.blob.core.windows.net/job-x?sv=2023-11-03&sp=racwl&sig=abc%2Bdef")
    'https://a.blob.core.windows.net/job-x?sv=2023-11-03&sp=racwl&sig=REDACTED'
    >>> redact_sas("no token here")
    'no token here'
    """
    return _SIGNATURE.sub(r"\1REDACTED", text)


def redact_value(value: object) -> object:
    """*value* with SAS signatures redacted if it is text or bytes; anything else unchanged.

    For errors that show the offending value (``repr``) when it may be a URL.

    >>> redact_value(b"https://a/c?sig=abc")
    b'https://a/c?sig=REDACTED'
    >>> redact_value(42)
    42
    """
    if isinstance(value, str):
        return redact_sas(value)
    if isinstance(value, (bytes, bytearray)):
        return _SIGNATURE_BYTES.sub(rb"\1REDACTED", bytes(value))
    return value


def sas_expiry(url: str) -> datetime.datetime | None:
    """Return the expiry (``se=``) of the SAS in *url* as an aware UTC time, or None.

    None when *url* has no ``se`` field (no SAS, or one from a stored access policy).
    A time without a zone is UTC, as SAS times are.

    >>> sas_expiry("https://a.blob.core.windows.net/job-x?sp=r&se=2026-12-06T01%3A30%3A30Z&sig=x")
    datetime.datetime(2026, 12, 6, 1, 30, 30, tzinfo=datetime.timezone.utc)
    >>> sas_expiry("https://a.blob.core.windows.net/job-x") is None
    True

    Raises:
        ValueError: ``se`` is not an ISO 8601 time.
    """
    values = parse_qs(urlsplit(url).query).get("se")
    if not values or not values[0]:
        return None
    expiry = datetime.datetime.fromisoformat(values[0].strip().replace("Z", "+00:00"))
    if expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=datetime.timezone.utc)
    return expiry.astimezone(datetime.timezone.utc)


def expired_sas(url: str, now: datetime.datetime | None = None) -> str | None:
    """Return the expiry of *url*'s SAS as ``YYYY-MM-DDTHH:MM:SSZ`` if it has passed, else None.

    For error messages: an unreadable ``se`` is not a known expiry, so it gives None.

    >>> expired_sas("https://a/c?se=2020-01-01T00:00:00Z&sig=x")
    '2020-01-01T00:00:00Z'
    >>> expired_sas("https://a/c?se=2999-01-01&sig=x") is None
    True
    """
    try:
        expiry = sas_expiry(url)
    except ValueError:
        return None
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if expiry is None or expiry > now:
        return None
    return expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
