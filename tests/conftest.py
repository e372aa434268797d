"""Shared test fixtures: Hypothesis profiles and a real Blob service (Azurite).

The Blob service is one Azurite per test session (scripts/azurite.py), started on first use and
stopped at the end. Containers are shared across tests, so isolate by the ``job_id`` fixture.
Set ``CONVENTIONS_TEST_CONNECTION_STRING`` to test against another service instead.
If Azurite cannot start, the tests that need it fail (never skip).

A test that takes the ``face`` fixture (tests/face_fixtures.py) runs on the sync face and on
the async face (``conventions.aio`` through the blocking portal of tests/faces.py, which fails
the test on a blocked event loop, a task left pending, a loop error or a ResourceWarning).
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions
from azure.storage.blob import BlobServiceClient
from hypothesis import settings

_REPO_ROOT = Path(__file__).resolve().parent.parent
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from scripts.azurite import Azurite, StorageEndpoint, make_test_jwt  # noqa: E402
from tests.tokenendpoint import TokenEndpoint  # noqa: E402

from .face_fixtures import face, portal, portal_session  # noqa: E402, F401 - fixtures
from .face_support import face_service  # noqa: E402, F401 - a fixture
from .faultproxy import FaultProxy  # noqa: E402
from .leakcheck import leak_check  # noqa: E402, F401 - a fixture, used below

CONNECTION_STRING_ENV = "CONVENTIONS_TEST_CONNECTION_STRING"

# -- Hypothesis --------------------------------------------------------------------------------

settings.register_profile("ci", max_examples=200, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=60, deadline=None)
_ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _ci else "dev"))


# -- Secrets -----------------------------------------------------------------------------------

#: Suites in which no SAS signature or account key may appear anywhere (tests/leakcheck.py).
_LEAK_CHECKED = re.compile(r"tests\.test_(storage|cli|faultproxy|bad_inputs|network)")


@pytest.fixture(autouse=True)
def _no_secret_leaks(request: pytest.FixtureRequest) -> None:
    if _LEAK_CHECKED.match(request.module.__name__):
        request.getfixturevalue("leak_check")


# -- Azurite -----------------------------------------------------------------------------------


def _start_azurite(*, oauth: bool) -> Azurite:
    try:
        return Azurite(oauth=oauth).start()
    except RuntimeError as exc:
        error = str(exc)
    pytest.fail(f"Azurite (the Blob service tests need) did not start:\n{error}", pytrace=False)


@pytest.fixture(scope="session")
def azurite() -> Iterator[StorageEndpoint]:
    """The session's Blob service: a local Azurite, or ``$CONVENTIONS_TEST_CONNECTION_STRING``."""
    external = os.environ.get(CONNECTION_STRING_ENV)
    if external:
        yield StorageEndpoint.from_connection_string(external)
        return
    server = _start_azurite(oauth=False)
    try:
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture(scope="session")
def azurite_oauth() -> Iterator[StorageEndpoint]:
    """A second Azurite, HTTPS with basic OAuth, for bearer-token / user-delegation SAS tests.

    Started only when a test asks for it. Clients must trust its self-signed certificate: pass
    ``**azurite_oauth.client_kwargs`` (i.e. ``connection_verify=azurite_oauth.cert_path``).
    """
    server = _start_azurite(oauth=True)
    try:
        yield server.endpoint
    finally:
        server.stop()


class FakeJwtCredential:
    """A ``TokenCredential`` (and ``SupportsTokenInfo``) handing out unsigned JWTs.

    Azurite's ``--oauth basic`` accepts them (it checks claims, not signatures); real Azure
    Storage does not.
    """

    def __init__(self, *, tenant_id: str | None = None, object_id: str | None = None) -> None:
        self.tenant_id = tenant_id or str(uuid.uuid4())
        self.object_id = object_id or str(uuid.uuid4())
        self.calls = 0

    def _token(self) -> tuple[str, int]:
        self.calls += 1
        return make_test_jwt(tenant_id=self.tenant_id, object_id=self.object_id)

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        token, expires_on = self._token()
        return AccessToken(token, expires_on)

    def get_token_info(
        self, *scopes: str, options: TokenRequestOptions | None = None
    ) -> AccessTokenInfo:
        token, expires_on = self._token()
        return AccessTokenInfo(token, expires_on, refresh_on=int(time.time()) + 1800)

    def close(self) -> None:
        pass

    def __enter__(self) -> FakeJwtCredential:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@pytest.fixture
def oauth_credential() -> FakeJwtCredential:
    """A credential whose tokens ``azurite_oauth`` accepts."""
    return FakeJwtCredential()


@pytest.fixture(scope="session")
def blob_service_client(azurite: StorageEndpoint) -> Iterator[BlobServiceClient]:
    """Shared-key client for the session's Blob service."""
    with BlobServiceClient.from_connection_string(
        azurite.connection_string, **azurite.client_kwargs
    ) as client:
        yield client


@pytest.fixture
def job_id() -> str:
    """A fresh job ID per test (``test-<8 hex>``); use it to keep containers apart."""
    return f"test-{uuid.uuid4().hex[:8]}"


# -- Network faults ----------------------------------------------------------------------------


@pytest.fixture
def fault_proxy(azurite: StorageEndpoint) -> Iterator[FaultProxy]:
    """A fault-injecting TCP proxy on 127.0.0.1 in front of the session's Azurite
    (tests/faultproxy.py); connect through ``proxied_endpoint``."""
    parts = urllib.parse.urlsplit(azurite.blob_endpoint)
    with FaultProxy(parts.hostname or "127.0.0.1", parts.port or 80) as proxy:
        yield proxy


@pytest.fixture
def proxied_endpoint(azurite: StorageEndpoint, fault_proxy: FaultProxy) -> StorageEndpoint:
    """The session's Azurite, reached through ``fault_proxy``."""
    return dataclasses.replace(
        azurite,
        connection_string=fault_proxy.rewrite(azurite.connection_string),
        blob_endpoint=fault_proxy.rewrite(azurite.blob_endpoint),
    )


# -- a managed-identity token endpoint -----------------------------------------------------------

#: Variables that would send azure-identity elsewhere than the test's token endpoint, or pick
#: a configuration for the code under test; cleared for every test that uses the endpoint.
_IDENTITY_ENV = (
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_USERNAME",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_TOKEN_CREDENTIALS",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "AZURE_STORAGE_CONNECTION_STRING",
    "CONVENTIONS_CONTAINER_URL",
    "CONVENTIONS_ACCOUNT_URL",
)


@pytest.fixture
def token_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[TokenEndpoint]:
    """A real managed-identity (IMDS) token endpoint on 127.0.0.1 (tests/tokenendpoint.py),
    with ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` pointing azure-identity at it, so that the real
    ``ManagedIdentityCredential`` and ``DefaultAzureCredential`` get tokens ``azurite_oauth``
    accepts. Other identity and connection variables are cleared."""
    for name in _IDENTITY_ENV:
        monkeypatch.delenv(name, raising=False)
    with TokenEndpoint() as endpoint:
        for name, value in endpoint.environment().items():
            monkeypatch.setenv(name, value)
        yield endpoint
