"""How a container SAS is signed: which key, over which times, with which letters.

A pure decision (stdlib and attrs; no Azure, no I/O) for ``conventions.sas.output_container_url``:
:func:`plan_sas` takes what the caller asked for and what the client has (an account key?
a token credential?) and the current time, checks them in a fixed order, and returns a
:class:`SasPlan`; ``sas`` then fetches a user delegation key if the plan says so, and signs.

>>> import datetime
>>> now = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
>>> plan = plan_sas(expiry=datetime.timedelta(days=30), start=None, permissions="rl",
...                 now=now, account_name="acct", account_key=None, has_token_credential=True)
Traceback (most recent call last):
...
conventions.errors.SasError: expiry 30 days, 0:00:00 is too long for a user delegation SAS: ...
>>> plan = plan_sas(expiry=datetime.timedelta(days=1), start=None, permissions="rl",
...                 now=now, account_name="acct", account_key="a2V5", has_token_credential=True)
>>> plan.signing, plan.start.isoformat(), plan.expiry.isoformat()
('account_key', '2029-12-31T23:45:00+00:00', '2030-01-02T00:00:00+00:00')
"""

from __future__ import annotations

import base64
import binascii
import datetime
from typing import Literal

import attrs

from .errors import SasError

__all__ = [
    "CLOCK_SKEW",
    "MAX_USER_DELEGATION_EXPIRY",
    "PERMISSION_LETTERS",
    "SasPlan",
    "instant",
    "plan_sas",
]

#: Azure's limit on a user delegation key's lifetime.
MAX_USER_DELEGATION_EXPIRY = datetime.timedelta(days=7)
#: How far back the SAS start goes by default, against clock skew between machines.
CLOCK_SKEW = datetime.timedelta(minutes=15)
#: Letters that ``ContainerSasPermissions`` knows, in its order.
PERMISSION_LETTERS = "racwdxyltfmei"

Signing = Literal["account_key", "user_delegation"]


@attrs.frozen
class SasPlan:
    """Sign with *signing* (the account key, or a user delegation key fetched for
    ``[start, expiry]``) for *account_name*, valid from *start* to *expiry* (aware UTC),
    for *permissions*."""

    signing: Signing
    account_name: str
    start: datetime.datetime
    expiry: datetime.datetime
    permissions: str


def instant(
    name: str, value: datetime.datetime | datetime.timedelta, now: datetime.datetime
) -> datetime.datetime:
    """*value* as an aware UTC time: a ``timedelta`` counts from *now*.

    >>> now = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    >>> instant("expiry", datetime.timedelta(hours=1), now).isoformat()
    '2030-01-01T01:00:00+00:00'
    """
    if isinstance(value, datetime.timedelta):
        return now + value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise SasError(
                f"{name} {value.isoformat()} is a naive datetime; give a timezone-aware one "
                "(e.g. datetime.now(timezone.utc)) or a timedelta from now"
            )
        return value.astimezone(datetime.timezone.utc)
    raise SasError(
        f"{name} must be a timedelta or a timezone-aware datetime, not {type(value).__name__} "
        f"{value!r}"
    )


def _check_permissions(permissions: str) -> None:
    unknown = sorted(set(permissions) - set(PERMISSION_LETTERS))
    if not permissions or unknown or len(set(permissions)) != len(permissions):
        raise SasError(
            f"permissions {permissions!r} must be SAS letters from {PERMISSION_LETTERS!r}, "
            "each at most once"
        )


def _is_base64(key: str) -> bool:
    try:
        base64.b64decode(key.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return False
    return True


def plan_sas(
    *,
    expiry: datetime.timedelta | datetime.datetime,
    start: datetime.datetime | datetime.timedelta | None,
    permissions: str,
    now: datetime.datetime,
    account_name: str | None,
    account_key: object,
    has_token_credential: bool,
) -> SasPlan:
    """Check the request and choose the signing (decision D-22), in this order: the
    expiry (in the future), the start (default ``now - CLOCK_SKEW``; before the expiry),
    the permission letters, the account name; then the account key if the client has one
    (a non-empty ``str``; it must be base64), else a user delegation key if it has a
    token credential (expiry at most ``MAX_USER_DELEGATION_EXPIRY`` from *now*; the
    start moved later to fit the key's lifetime), else nothing can sign.

    Raises:
        SasError: any of these checks fails; the message says which and the fix.
    """
    expires = instant("expiry", expiry, now)
    if expires <= now:
        raise SasError(f"expiry must be in the future, not {expiry}")
    starts = now - CLOCK_SKEW if start is None else instant("start", start, now)
    if starts >= expires:
        raise SasError(f"start {start} must be before the expiry {expires.isoformat()}")
    _check_permissions(permissions)
    if not account_name:
        raise SasError("the service client's URL names no storage account; cannot sign a SAS")
    if isinstance(account_key, str) and account_key:
        if not _is_base64(account_key):
            raise SasError(
                "the service client's account key is not base64, so it cannot sign a SAS; "
                "copy the key again"
            )
        return SasPlan("account_key", account_name, starts, expires, permissions)
    if has_token_credential:
        if expires - now > MAX_USER_DELEGATION_EXPIRY:
            raise SasError(
                f"expiry {expiry} is too long for a user delegation SAS: Azure allows at most "
                f"{MAX_USER_DELEGATION_EXPIRY.days} days; use a shorter expiry and issue a "
                "new URL later, or sign with the account key"
            )
        starts = max(starts, expires - MAX_USER_DELEGATION_EXPIRY)
        return SasPlan("user_delegation", account_name, starts, expires, permissions)
    raise SasError(
        "the service client must be authorized with the account key (shared key) or "
        "an Entra ID token credential to sign a container SAS; it has neither"
    )
