"""URL helpers shared by the OutputFile and storage layers. Pure: no Azure import."""

from __future__ import annotations

import re

__all__ = ["redact_sas"]

# The signature is the secret part of a SAS; the other fields (sp, se, sv...) say
# what the token allows and help debugging, so they stay visible.
_SIGNATURE = re.compile(r"(?i)(\bsig=)[^&#\s'\"]*")


def redact_sas(text: str) -> str:
    """Return *text* with the value of every SAS ``sig=`` field replaced by ``REDACTED``.

    Safe to apply to a URL, a query string or a whole error message.

    >>> redact_sas("https://a.blob.core.windows.net/job-x?sv=2023-11-03&sp=racwl&sig=abc%2Bdef")
    'https://a.blob.core.windows.net/job-x?sv=2023-11-03&sp=racwl&sig=REDACTED'
    >>> redact_sas("no token here")
    'no token here'
    """
    return _SIGNATURE.sub(r"\1REDACTED", text)
