"""A ``logging.Filter`` that removes SAS signatures from the log records of the libraries we use.

urllib3 logs every request line at DEBUG, query string (and so ``sig=``) included;
azure-core's and ours are clean, but a record's arguments or attached traceback may
still carry a URL. :func:`install` puts :class:`RedactingFilter` on the ``urllib3``,
``azure`` and ``conventions`` loggers that exist (a filter on a parent logger does not
see its children's records, so each logger gets its own), idempotently.
``conventions.storage`` calls it when imported, so any code that can make a request
through this library logs no signature, whatever logging configuration the
application sets up later. Pure: no Azure import.
"""

from __future__ import annotations

import logging
import traceback

from .urls import redact_sas

__all__ = ["RedactingFilter", "install"]

#: Loggers that exist once azure-storage-blob (with requests and urllib3) is imported;
#: named here too so that they get the filter even if created later.
_KNOWN = (
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.response",
    "urllib3.util.retry",
    "azure",
    "azure.core.pipeline.policies.http_logging_policy",
    "azure.core.pipeline.transport._requests_basic",
    "azure.storage.blob",
    "azure.storage.blob._shared.policies",
    "azure.identity",
    "conventions",
)
_PREFIXES = ("urllib3", "azure", "conventions")


class RedactingFilter(logging.Filter):
    """Rewrites a record whose message or traceback shows a SAS signature; drops nothing.

    >>> record = logging.LogRecord("urllib3", 10, "", 0, "GET %s", ("/c?sv=1&sig=abc",), None)
    >>> RedactingFilter().filter(record), record.getMessage()
    (True, 'GET /c?sv=1&sig=REDACTED')
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is the handler's to report
            return True
        redacted = redact_sas(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            text = "".join(traceback.format_exception(record.exc_info[1])).rstrip("\n")
            if redact_sas(text) != text:
                # The formatter prints exc_text and skips exc_info once it is set.
                record.exc_text = redact_sas(text)
        return True


_FILTER = RedactingFilter()


def install() -> None:
    """Put the filter on every ``urllib3``/``azure``/``conventions`` logger (again: idempotent)."""
    names = set(_KNOWN)
    names.update(
        name
        for name in list(logging.Logger.manager.loggerDict)
        if name.split(".", 1)[0] in _PREFIXES
    )
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
