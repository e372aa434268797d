# Generated from conventions/aio/identity.py by scripts/unasync.py: do not edit.
# ruff: noqa
"""Entra ID credentials for storage: a pool's managed identity, or the default chain.

What ``from_environment``, ``from_account_url`` and the CLI's ``--account-url`` sign in
with when the caller gives no credential of their own::

    from conventions.identity import storage_credential

    credential = storage_credential(client_id="<the pool identity's client id>")
    # ManagedIdentityCredential(client_id=...); without client_id: DefaultAzureCredential()

The credential it returns reports a failure to get a token as one
:class:`~conventions.errors.CredentialError` line naming what to set, raised once, instead
of azure-identity's multi-line report of every credential in the chain, retried by the
storage client's retry policy (the library's error is not an ``AzureError``, so azure-core
does not retry it). A credential you pass yourself is used as it is.

Needs the ``identity`` extra (``pip install 'batch-file-conventions[identity]'``).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions
from azure.core.exceptions import ClientAuthenticationError

from .environment import CLIENT_ID_ENV
from .errors import CredentialError, MissingDependencyError
from ._backend import TokenCredential, bounded

__all__ = ["CLIENT_ID_ENV", "storage_credential"]


_INSTALL = "pip install 'batch-file-conventions[identity]'"


def storage_credential(client_id: str | None = None) -> TokenCredential:
    """``ManagedIdentityCredential(client_id=client_id)`` when *client_id* is given (a
    user-assigned managed identity, e.g. the Batch pool's), else ``DefaultAzureCredential()``;
    either reports a failed sign-in as one :class:`~conventions.errors.CredentialError`.

    Raises:
        MissingDependencyError: azure-identity is not installed; the message says which
            extra to install.
    """
    try:
        from azure.identity import DefaultAzureCredential, ManagedIdentityCredential
    except ImportError as error:
        raise MissingDependencyError(
            f"signing in with a managed identity or Entra ID needs azure-identity: {_INSTALL}"
        ) from error
    # The library's transport: its connections obey the deadline that bounds each token
    # request (a stalled or trickled token endpoint cannot hang a command), and refuse a
    # cut response head.
    from ._transport import pooled_client_kwargs

    transport = pooled_client_kwargs({})["transport"]
    if client_id:
        return _ExplainedCredential(
            ManagedIdentityCredential(client_id=client_id, transport=transport),
            f"the managed identity with client id {client_id!r}",
            "check that this user-assigned identity is assigned to the pool (or VM) and "
            f"that {CLIENT_ID_ENV} / --client-id is its client id",
        )
    return _ExplainedCredential(
        DefaultAzureCredential(transport=transport),
        "DefaultAzureCredential",
        # Its first line says only that the chain failed; the reasons follow, one a line.
        f"inside a pool set {CLIENT_ID_ENV} (or --client-id) to the client id of the "
        "pool's managed identity; elsewhere sign in (az login) or use a SAS or connection "
        "string (--verbose shows every credential tried)",
    )


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "message", None) or error).strip()
    return text.splitlines()[0].strip().rstrip(".") if text else type(error).__name__


class _ExplainedCredential:
    """Wraps an azure-identity credential: a failed sign-in becomes one CredentialError."""

    def __init__(self, credential: Any, what: str, fix: str) -> None:
        self._credential = credential
        self._what = what
        self._fix = fix

    def __repr__(self) -> str:
        return f"<{type(self._credential).__name__}: {self._what}>"

    def _error(self, error: ClientAuthenticationError) -> CredentialError:
        return CredentialError(
            f"could not get a storage token from {self._what}: {_first_line(error)}; "
            f"{self._fix}"
        )

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        try:
            with self._bounded():
                token: AccessToken = self._credential.get_token(
                    *scopes, claims=claims, tenant_id=tenant_id, enable_cae=enable_cae, **kwargs
                )
        except ClientAuthenticationError as error:
            raise self._error(error) from error
        return token

    def _bounded(self) -> Any:
        return bounded(f"get a storage token from {self._what}", container=None)

    def get_token_info(
        self, *scopes: str, options: TokenRequestOptions | None = None
    ) -> AccessTokenInfo:
        try:
            with self._bounded():
                info: AccessTokenInfo = self._credential.get_token_info(
                    *scopes, options=options
                )
        except ClientAuthenticationError as error:
            raise self._error(error) from error
        return info

    #: Set by the storage that built this credential for itself: closing the storage
    #: closes it (and its connections).
    owned_by_storage = False
    #: Whether :meth:`close` was called.
    closed = False

    def close(self) -> None:
        self.closed = True
        self._credential.close()

    def __enter__(self) -> _ExplainedCredential:
        self._credential.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self._credential.__exit__(exc_type, exc_value, traceback)
