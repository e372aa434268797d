"""Which library error an Azure storage answer becomes, and why access was denied: the
decisions of ``conventions._azure_errors``, without I/O and without Azure.

``conventions._azure_errors`` reads the status, the ``x-ms-error-code`` and the request's
SAS expiry off the Azure exception, asks :func:`classify` (and, for a refusal,
:func:`denied_reason`), and builds the error with the message.

>>> classify(404, "BlobNotFound", operation="download", about_blob=True)
<Outcome.NOT_FOUND: 'not-found'>
>>> classify(404, "", operation="list outputs", about_blob=False)
<Outcome.CONTAINER_MISSING: 'container-missing'>
>>> denied_reason("AuthorizationPermissionMismatch", "r", None)
"; a SAS needs permission 'r' for this"
>>> blob_missing(404, "BlobNotFound"), blob_missing(404, "ContainerNotFound")
(True, False)
>>> sub_delete(202), sub_delete(404), sub_delete(403)
(<SubDelete.DELETED: 'deleted'>, <SubDelete.MISSING: 'missing'>, <SubDelete.FAILED: 'failed'>)
"""

from __future__ import annotations

import enum

__all__ = [
    "Outcome",
    "SubDelete",
    "append_position_conflict",
    "blob_missing",
    "classify",
    "denied_reason",
    "sub_delete",
]

_DENIED_STATUS = (401, 403)
_CONTAINER_MISSING_CODES = ("ContainerNotFound", "ContainerBeingDeleted")
# The signature or token itself was refused, as opposed to lacking a permission
# (AuthorizationPermissionMismatch) or being refused by policy (AuthorizationFailure).
_REJECTED_CODES = ("AuthenticationFailed", "InvalidAuthenticationInfo")
_REJECTED = "the credential or SAS was rejected (expired, or not for this account?)"
_BLOB_MISSING_CODES = ("BlobNotFound",)


class Outcome(enum.Enum):
    """The library error an HTTP error answer becomes."""

    #: ``ContainerNotFoundError``.
    CONTAINER_MISSING = "container-missing"
    #: ``OutputNotFoundError``.
    NOT_FOUND = "not-found"
    #: ``AccessDeniedError``.
    DENIED = "denied"
    #: ``BlobChangedError``: a download's later request found another version (rule IG-4).
    CHANGED = "changed"
    #: A plain ``StorageError``.
    OTHER = "other"


def classify(status: int | None, code: str, *, operation: str, about_blob: bool) -> Outcome:
    """The outcome of an error answer with HTTP *status* and error *code* (``""`` when
    none) to *operation*, which is about one blob (*about_blob*) or a container."""
    if status == 404 and (code in _CONTAINER_MISSING_CODES or (not about_blob and not code)):
        return Outcome.CONTAINER_MISSING
    if status == 404:
        return Outcome.NOT_FOUND
    if status in _DENIED_STATUS:
        return Outcome.DENIED
    if status == 412 and code == "ConditionNotMet" and operation in ("download", "read"):
        # azure-storage-blob pins every request after a download's first to its ETag.
        return Outcome.CHANGED
    return Outcome.OTHER


def denied_reason(code: str, permission: str | None, expired: str | None) -> str:
    """Why access was denied, as the message says it (``"; ..."``): the SAS expired at
    *expired* (known locally), the credential was rejected, or a SAS lacks *permission*
    (``None``: no SAS can do the operation)."""
    if expired is not None:  # known locally: say it instead of guessing
        return f"; the SAS expired at {expired}: sign a new one"
    if code in _REJECTED_CODES:
        return f"; {_REJECTED}"
    if not permission:
        return "; a SAS cannot do this, use an account key or Entra ID credential"
    if code == "AuthorizationPermissionMismatch":
        return f"; a SAS needs permission {permission!r} for this"
    # AuthorizationFailure and others: either cause is possible
    return f"; a SAS needs permission {permission!r} for this, or {_REJECTED}"


def blob_missing(status: int | None, code: str) -> bool:
    """Whether an answer says the blob (not its container) does not exist."""
    return status == 404 and code in _BLOB_MISSING_CODES


def append_position_conflict(code: str) -> bool:
    """Whether an append was refused for its append position (an earlier attempt may
    have landed, or someone else appended): the tracked save reconciles."""
    return code == "AppendPositionConditionNotMet"


class SubDelete(enum.Enum):
    """What one answer inside a Blob Batch delete says."""

    DELETED = "deleted"
    #: Already gone (or deleted by a first attempt whose answer was lost, decision D-71).
    MISSING = "missing"
    FAILED = "failed"


def sub_delete(status: int) -> SubDelete:
    """The meaning of a Blob Batch sub-answer with HTTP *status*."""
    if 200 <= status < 300:
        return SubDelete.DELETED
    if status == 404:
        return SubDelete.MISSING
    return SubDelete.FAILED
