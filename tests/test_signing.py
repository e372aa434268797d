"""``conventions.signing``: how ``output_container_url`` signs, as a pure decision without
I/O (spec/vectors/signing.json, and properties over any times and credentials)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conventions.errors import SasError
from conventions.signing import (
    CLOCK_SKEW,
    MAX_USER_DELEGATION_EXPIRY,
    PERMISSION_LETTERS,
    plan_sas,
)

from .vectors import cases

NOW = datetime.datetime(2030, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)


def _seconds(value: int | None) -> datetime.timedelta | None:
    return None if value is None else datetime.timedelta(seconds=value)


@pytest.mark.parametrize("case", cases("signing.json"))
def test_signing_vectors(case: dict[str, Any]) -> None:
    def plan() -> Any:
        return plan_sas(
            expiry=datetime.timedelta(seconds=case["expiry_seconds"]),
            start=_seconds(case["start_seconds"]),
            permissions="racwl",
            now=NOW,
            account_name="acct",
            account_key=case["account_key"],
            has_token_credential=case["token"],
        )

    if "raises" in case:
        with pytest.raises(SasError, match=case["raises"]):
            plan()
        return
    got = plan()
    assert got.signing == case["signing"]
    assert got.start == NOW + datetime.timedelta(seconds=case["start_offset_seconds"])
    assert got.expiry == NOW + datetime.timedelta(seconds=case["expiry_offset_seconds"])
    assert (got.account_name, got.permissions) == ("acct", "racwl")


_offsets = st.integers(min_value=-30 * 86400, max_value=30 * 86400).map(
    lambda s: datetime.timedelta(seconds=s)
)
_zones = st.sampled_from(
    [datetime.timezone.utc, datetime.timezone(datetime.timedelta(hours=-8)),
     datetime.timezone(datetime.timedelta(hours=5, minutes=30))]
)


@st.composite
def _instants(draw: st.DrawFn) -> datetime.datetime | datetime.timedelta:
    offset = draw(_offsets)
    if draw(st.booleans()):
        return offset
    return (NOW + offset).astimezone(draw(_zones))


@given(
    expiry=_instants(),
    start=st.one_of(st.none(), _instants()),
    key=st.sampled_from([None, "", "a2V5", "not base64!", 42]),
    token=st.booleans(),
    permissions=st.text(alphabet=PERMISSION_LETTERS + "qz", max_size=6),
)
def test_a_plan_is_valid_or_refused(
    expiry: datetime.datetime | datetime.timedelta,
    start: datetime.datetime | datetime.timedelta | None,
    key: object,
    token: bool,
    permissions: str,
) -> None:
    def at(value: datetime.datetime | datetime.timedelta) -> datetime.datetime:
        return NOW + value if isinstance(value, datetime.timedelta) else value

    expires = at(expiry)
    starts = NOW - CLOCK_SKEW if start is None else at(start)
    has_key = isinstance(key, str) and bool(key)
    letters_ok = bool(permissions) and set(permissions) <= set(PERMISSION_LETTERS) and len(
        set(permissions)
    ) == len(permissions)
    delegated_ok = expires - NOW <= MAX_USER_DELEGATION_EXPIRY
    valid = (
        expires > NOW
        and starts < expires
        and letters_ok
        and (key == "a2V5" or (not has_key and token and delegated_ok))
    )
    try:
        plan = plan_sas(
            expiry=expiry,
            start=start,
            permissions=permissions,
            now=NOW,
            account_name="acct",
            account_key=key,
            has_token_credential=token,
        )
    except SasError:
        assert not valid
        return
    assert valid
    assert plan.expiry == expires
    assert plan.expiry.tzinfo == datetime.timezone.utc
    assert plan.start < plan.expiry
    assert plan.signing == ("account_key" if has_key else "user_delegation")
    if plan.signing == "account_key":
        assert plan.start == starts
    else:
        # The key's lifetime holds the whole SAS: moved later only when it must be.
        assert plan.expiry - plan.start <= MAX_USER_DELEGATION_EXPIRY
        assert plan.start == max(starts, expires - MAX_USER_DELEGATION_EXPIRY)


@pytest.mark.parametrize("bad", [datetime.datetime(2030, 1, 1), "7 days", 7])
def test_naive_or_other_types_are_refused(bad: Any) -> None:
    for field in ("expiry", "start"):
        arguments: dict[str, Any] = {"expiry": datetime.timedelta(days=1), "start": None}
        arguments[field] = bad
        with pytest.raises(SasError, match=field):
            plan_sas(
                **arguments,
                permissions="rl",
                now=NOW,
                account_name="acct",
                account_key="a2V5",
                has_token_credential=False,
            )


def test_no_account_name_is_refused_before_the_key() -> None:
    with pytest.raises(SasError, match="names no storage account"):
        plan_sas(
            expiry=datetime.timedelta(days=1),
            start=None,
            permissions="rl",
            now=NOW,
            account_name=None,
            account_key=None,
            has_token_credential=False,
        )
