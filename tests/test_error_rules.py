"""Which library error an Azure error answer becomes (``conventions._error_rules``):
properties, no I/O. The messages themselves are tested on real answers in
test_azure_errors.py and the storage tests."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from conventions._error_rules import Outcome, classify, denied_reason

_CODES = st.sampled_from(
    [
        "",
        "ContainerNotFound",
        "ContainerBeingDeleted",
        "BlobNotFound",
        "AuthenticationFailed",
        "InvalidAuthenticationInfo",
        "AuthorizationPermissionMismatch",
        "AuthorizationFailure",
        "ConditionNotMet",
        "InternalError",
    ]
)
_STATUSES = st.one_of(st.none(), st.sampled_from([400, 401, 403, 404, 409, 412, 500, 503]))
_OPERATIONS = st.sampled_from(["download", "read", "list outputs", "save", "delete"])


@given(status=_STATUSES, code=_CODES, operation=_OPERATIONS, about_blob=st.booleans())
def test_each_answer_has_one_outcome_by_its_status(
    status: int | None, code: str, operation: str, about_blob: bool
) -> None:
    outcome = classify(status, code, operation=operation, about_blob=about_blob)
    if status == 404:
        missing = code in ("ContainerNotFound", "ContainerBeingDeleted") or (
            not about_blob and not code
        )
        assert outcome is (Outcome.CONTAINER_MISSING if missing else Outcome.NOT_FOUND)
    elif status in (401, 403):
        assert outcome is Outcome.DENIED
    elif outcome is Outcome.CHANGED:
        # Only a read's ETag-pinned later request: never a save's or a delete's conflict.
        assert (status, code) == (412, "ConditionNotMet")
        assert operation in ("download", "read")
    else:
        assert outcome is Outcome.OTHER


@given(
    code=_CODES,
    permission=st.one_of(st.none(), st.sampled_from(["r", "l", "w", "d", "a"])),
    expired=st.one_of(st.none(), st.just("2026-01-01T00:00:00Z")),
)
def test_a_denial_says_one_reason_and_names_what_it_knows(
    code: str, permission: str | None, expired: str | None
) -> None:
    reason = denied_reason(code, permission, expired)
    assert reason.startswith("; ")
    if expired is not None:  # known locally: no guessing
        assert expired in reason
        assert "permission" not in reason
    elif code in ("AuthenticationFailed", "InvalidAuthenticationInfo"):
        assert "rejected" in reason
        assert "permission" not in reason
    elif not permission:
        assert "a SAS cannot do this" in reason
    else:
        assert f"permission {permission!r}" in reason
