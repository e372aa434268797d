"""The one place where azure-core exceptions become the library's storage errors, and
the only module that reads an Azure exception (its type, status or error code).

Every storage call in ``conventions`` (and in other modules built on it, such as the CLI)
runs inside :func:`translate_errors`, which maps an Azure error by HTTP status and
``error_code`` to :class:`~conventions.errors.ContainerNotFoundError`,
:class:`~conventions.errors.OutputNotFoundError`, :class:`~conventions.errors.AccessDeniedError`
or a plain :class:`~conventions.errors.StorageError`. The message names the operation, the
container and the blob; any text taken from Azure goes through
:func:`~conventions.urls.redact_sas` first. The Azure exception is chained as ``__cause__``
unless its text (with its own causes) shows a SAS signature: then it is dropped (``from
None``), and only the redacted first line of its message, kept in ours, remains.

Retries are azure-core's: by the time an error reaches this module, the client's retry
policy has already given up. Which error an answer becomes, and why access was denied,
are pure decisions in ``conventions._error_rules``.

Code elsewhere that must tell one Azure answer from another (a blob that is not there, a
refused append position, a container that exists already...) asks the small predicates
here (:func:`is_blob_missing`, :func:`is_append_position_conflict`, :func:`already_exists`,
...) instead of reading the exception itself (a test checks it).
"""

from __future__ import annotations

import contextlib
import re
import traceback
from collections.abc import Iterator
from typing import Any

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ServiceResponseError,
)

from ._error_rules import (
    Outcome,
    SubDelete,
    append_position_conflict,
    blob_missing,
    classify,
    denied_reason,
    sub_delete,
)
from .errors import (
    AccessDeniedError,
    BlobChangedError,
    ContainerNotFoundError,
    ConventionsError,
    OutputNotFoundError,
    StorageError,
)
from .received import range_problem
from .urls import expired_sas, redact_sas

__all__ = [
    "UnusableAnswerError",
    "already_exists",
    "answer_detail",
    "check_download_answer",
    "http_detail",
    "is_append_position_conflict",
    "is_blob_missing",
    "is_range_not_satisfiable",
    "shows_secret",
    "storage_error",
    "sub_delete_answer",
    "sub_response_error",
    "translate_errors",
    "translate_reference",
]


class UnusableAnswerError(ServiceResponseError):
    """An answer whose head is cut or does not match its request (rule IG-5).

    An azure-core ``ServiceResponseError``, so the client's retry policy retries it as it
    retries a dropped connection; after the last retry :func:`translate_errors` makes it
    a :class:`~conventions.errors.StorageError` naming container and blob.
    """


def check_download_answer(pipeline_response: Any, *, hook: Any = None) -> None:
    """A ``raw_response_hook`` for blob GETs: refuse an answer that does not hold exactly
    the range asked (:func:`conventions.received.range_problem`), before the SDK reads it.

    *hook* is the hook being run (this function, unless it runs inside another one): it
    is kept for the retries. azure-storage-blob takes a call's hook out of the request's
    options at the first attempt and keeps it for the next only once it returned, so a
    hook that raised would not see the retried answers.
    """
    request = pipeline_response.http_request
    response = pipeline_response.http_response
    requested = request.headers.get("x-ms-range") or request.headers.get("Range")
    problem = range_problem(requested, response.status_code, response.headers)
    if problem is not None:
        pipeline_response.context["response_callback"] = hook or check_download_answer
        # Its connection is no use any more; do not leave it to the garbage collector.
        internal = getattr(response, "internal_response", None)
        close = getattr(internal, "close", None)
        if callable(close):
            close()
        raise UnusableAnswerError(f"unusable answer to a blob download: {problem}")

_HOST_PORT = re.compile(r"host='([^']+)', port=(\d+)")


#: What azure-storage-blob raises when it parses an answer cut inside its head (an
#: ``xml.etree.ElementTree.ParseError`` is a ``SyntaxError``; azure-core's
#: ``DeserializationError`` a ``ValueError``).
_UNREADABLE_ANSWER = (ValueError, AttributeError, KeyError, IndexError, TypeError, SyntaxError)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return redact_sas(text.splitlines()[0]) if text else type(error).__name__


def _azure_detail(error: AzureError) -> str:
    """The first line of Azure's message (the rest is request ids and XML), redacted."""
    message = str(getattr(error, "message", None) or error)
    first_line = message.strip().splitlines()[0] if message.strip() else type(error).__name__
    return redact_sas(first_line)


def _where(container: str | None, blob: str | None) -> str:
    if blob is not None:
        return f"blob {blob!r} in container {container!r}"
    return f"container {container!r}"


@contextlib.contextmanager
def translate_errors(
    operation: str,
    *,
    container: str | None,
    blob: str | None = None,
    permission: str | None = None,
) -> Iterator[None]:
    """Run the body, turning any azure-core error into the library's storage errors.

    Args:
        operation: what was being done, for the message (e.g. ``"list outputs"``).
        container: the container's name (never its URL, which may carry a SAS).
        blob: the blob's name, if the operation is about one blob.
        permission: the SAS permission letter the operation needs (``"r"``, ``"l"``,
            ``"w"``, ``"d"``, ``"a"``), named by :class:`AccessDeniedError`.

    Usage::

        with translate_errors("read", container=client.container_name, blob=name,
                              permission="r"):
            client.get_blob_client(name).get_blob_properties()
    """
    try:
        yield
    except AzureError as error:
        translated = storage_error(
            error, operation, container=container, blob=blob, permission=permission
        )
        if shows_secret(error):
            raise translated from None
        raise translated from error
    except ConventionsError:
        raise
    except _UNREADABLE_ANSWER as error:
        # azure-storage-blob parses what it was given: an answer cut inside its head (no
        # headers, an empty body) fails there with ValueError, AttributeError,
        # DeserializationError... after the retries. Still a storage failure.
        translated = StorageError(
            f"could not {operation} {_where(container, blob)}: the service's answer could "
            f"not be read, a connection cut inside a response? ({type(error).__name__}: "
            f"{_first_line(error)})",
            container=container,
            blob=blob,
        )
        if shows_secret(error):
            raise translated from None
        raise translated from error


def translate_reference(reference: Any, operation: str, permission: str) -> Any:
    """:func:`translate_errors` naming the container and blob of *reference* (an
    ``OutputFileReference`` of either face)."""
    return translate_errors(
        operation,
        container=reference.container_name,
        blob=reference.blob_name,
        permission=permission,
    )


def shows_secret(error: BaseException) -> bool:
    """Whether *error*'s traceback text, causes and contexts included, shows a signature."""
    text = "".join(traceback.format_exception(error))
    return redact_sas(text) != text


def _endpoint(error: AzureError) -> str | None:
    """``host:port`` of a connection failure, from urllib3's message, if it says."""
    match = _HOST_PORT.search(str(error))
    return f"{match.group(1)}:{match.group(2)}" if match else None


def storage_error(
    error: AzureError,
    operation: str,
    *,
    container: str | None,
    blob: str | None = None,
    permission: str | None = None,
) -> StorageError:
    """Return the library error for an azure-core *error* (the caller raises it ``from``).

    For code that must look at the Azure error first (e.g. an append-position
    conflict) before deciding; otherwise use :func:`translate_errors`.
    """
    if isinstance(error, HttpResponseError):
        return _translate(error, operation, container, blob, permission)
    # Connection failures and the like, after azure-core's retries.
    endpoint = _endpoint(error)
    unreachable = f"endpoint {endpoint} did not answer: " if endpoint else ""
    return StorageError(
        f"could not {operation} {_where(container, blob)}: {unreachable}{_azure_detail(error)}",
        container=container,
        blob=blob,
    )


def _error_code(error: HttpResponseError) -> str:
    # azure-storage-blob sets error_code (from x-ms-error-code) on the errors it raises.
    # It is a StorageErrorCode (a str enum) when known, a plain str otherwise.
    raw_code = getattr(error, "error_code", None) or ""
    return str(getattr(raw_code, "value", raw_code))


def http_detail(error: HttpResponseError) -> str:
    """``(HTTP <status>, <code>): <Azure's first line, redacted>``, for a message's end."""
    code = _error_code(error)
    return f"(HTTP {error.status_code}{', ' + code if code else ''}): {_azure_detail(error)}"


def _expired_sas_of(error: HttpResponseError) -> str | None:
    """The passed expiry of the SAS in the refused request's URL, if any (issue 21)."""
    request = getattr(getattr(error, "response", None), "request", None)
    url = getattr(request, "url", None)
    return expired_sas(url) if isinstance(url, str) else None


def _translate(
    error: HttpResponseError,
    operation: str,
    container: str | None,
    blob: str | None,
    permission: str | None,
) -> StorageError:
    code = _error_code(error)
    where = _where(container, blob)
    suffix = http_detail(error)
    outcome = classify(error.status_code, code, operation=operation, about_blob=blob is not None)
    if outcome is Outcome.CONTAINER_MISSING:
        return ContainerNotFoundError(
            f"could not {operation} {where}: container {container!r} does not exist; "
            f"create it with prepare_output_storage(service_client, job_id) {suffix}",
            container=container,
            blob=blob,
        )
    if outcome is Outcome.NOT_FOUND:
        return OutputNotFoundError(
            f"could not {operation} {where}: no such output {suffix}",
            container=container,
            blob=blob,
        )
    if outcome is Outcome.DENIED:
        need = denied_reason(code, permission, _expired_sas_of(error))
        return AccessDeniedError(
            f"could not {operation} {where}: access denied{need} {suffix}",
            container=container,
            blob=blob,
            permission=permission,
        )
    if outcome is Outcome.CHANGED:
        return BlobChangedError(
            f"could not {operation} {where}: the blob changed while it was read (a log still "
            f"being written?); read it again, or follow it with follow() or "
            f"`batch-conventions logs` {suffix}",
            container=container,
            blob=blob,
        )
    return StorageError(f"could not {operation} {where} {suffix}", container=container, blob=blob)


# -- reading an Azure answer, for the I/O code that must tell one from another ----------------


def _answer(error: BaseException) -> tuple[int | None, str] | None:
    """The status and error code of an HTTP answer (None if *error* is not one)."""
    if not isinstance(error, HttpResponseError):
        return None
    return error.status_code, _error_code(error)


def is_blob_missing(error: BaseException) -> bool:
    """Whether *error* is a 404 answer saying the blob (not its container) is not there."""
    answer = _answer(error)
    return answer is not None and blob_missing(*answer)


def is_append_position_conflict(error: BaseException) -> bool:
    """Whether *error* refused an Append Block for its append position
    (``AppendPositionConditionNotMet``)."""
    answer = _answer(error)
    return answer is not None and append_position_conflict(answer[1])


def is_range_not_satisfiable(error: BaseException) -> bool:
    """Whether *error* is a 416 answer (a range at or past the blob's end)."""
    answer = _answer(error)
    return answer is not None and answer[0] == 416


def already_exists(error: BaseException) -> bool:
    """Whether *error* says that what was created exists already (azure-core's
    ``ResourceExistsError``)."""
    return isinstance(error, ResourceExistsError)


def answer_detail(error: BaseException) -> str | None:
    """:func:`http_detail` of *error* if it is an HTTP answer, else None."""
    return http_detail(error) if isinstance(error, HttpResponseError) else None


def sub_delete_answer(response: Any) -> SubDelete:
    """What one sub-answer of a Blob Batch delete says
    (:func:`conventions._error_rules.sub_delete`)."""
    return sub_delete(response.status_code)


def sub_response_error(response: Any) -> HttpResponseError:
    """The Azure error a failed Blob Batch sub-answer stands for, with its error code
    (for :func:`storage_error`)."""
    error = HttpResponseError(response=response)
    error.error_code = response.headers.get("x-ms-error-code")  # type: ignore[attr-defined]
    return error
