"""URL helpers shared by the OutputFile and storage layers. Pure: no Azure import."""

from __future__ import annotations

import re

__all__ = ["redact_sas", "redact_value"]

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
