"""A managed-identity token endpoint on 127.0.0.1, as a Batch node's instance metadata
service (IMDS) answers it, for azure-identity's own credential classes to talk to.

azure-identity (through MSAL) sends ``GET /metadata/identity/oauth2/token?api-version=
2018-02-01&resource=<resource>[&client_id=<id>]`` with ``Metadata: true`` to
``$AZURE_POD_IDENTITY_AUTHORITY_HOST`` (default ``http://169.254.169.254``); pointing that
variable here (:meth:`TokenEndpoint.environment`) makes the real ``ManagedIdentityCredential``
and ``DefaultAzureCredential`` fetch their tokens from this server. The tokens are the
unsigned JWTs that Azurite's ``--oauth basic`` accepts (``scripts.azurite.make_test_jwt``).

Every request is recorded (:attr:`TokenEndpoint.requests`), so that a test can assert which
client id reached it. Set :attr:`TokenEndpoint.refuse` to answer as IMDS does for an
identity that is not assigned to the node (HTTP 400, ``identity not found``).
Standard library only; serves loopback only; each connection times out after 10 s.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from scripts.azurite import make_test_jwt

__all__ = ["POD_IDENTITY_HOST_ENV", "TokenEndpoint", "TokenRequest"]

#: The variable azure-identity and MSAL read for the IMDS host (the pod-identity override).
POD_IDENTITY_HOST_ENV = "AZURE_POD_IDENTITY_AUTHORITY_HOST"
_TOKEN_PATH = "/metadata/identity/oauth2/token"


@dataclass(frozen=True)
class TokenRequest:
    """One request the endpoint received."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]

    @property
    def client_id(self) -> str | None:
        return self.query.get("client_id")


class TokenEndpoint:
    """A threaded HTTP server answering the IMDS token protocol on a free loopback port."""

    def __init__(self) -> None:
        self.requests: list[TokenRequest] = []
        #: When true, every token request gets IMDS's 400 "identity not found".
        self.refuse = False
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="token-endpoint", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def environment(self) -> dict[str, str]:
        """The variables that send azure-identity's IMDS requests here."""
        return {POD_IDENTITY_HOST_ENV: self.url}

    @property
    def client_ids(self) -> list[str | None]:
        """The ``client_id`` of each token request, in order (None: no client id sent)."""
        with self._lock:
            return [request.client_id for request in self.requests]

    def start(self) -> TokenEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> TokenEndpoint:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _answer(self, request: TokenRequest) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(request)
            refuse = self.refuse
        if request.path != _TOKEN_PATH:
            return 404, {"error": "not_found", "error_description": request.path}
        if request.headers.get("metadata", "").lower() != "true":
            missing = "Required metadata header not specified"
            return 400, {"error": "invalid_request", "error_description": missing}
        if refuse:
            return 400, {
                "error": "invalid_request",
                "error_description": "Identity not found",
            }
        resource = request.query.get("resource", "")
        token, expires_on = make_test_jwt(audience=resource.rstrip("/"))
        return 200, {
            "access_token": token,
            "client_id": request.client_id or "system-assigned",
            "expires_in": "3600",
            "expires_on": str(expires_on),
            "ext_expires_in": "3600",
            "not_before": str(expires_on - 3600),
            "resource": resource,
            "token_type": "Bearer",
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10  # a stuck client cannot hold a thread for long

            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                request = TokenRequest(
                    path=parts.path,
                    query=dict(urllib.parse.parse_qsl(parts.query)),
                    headers={name.lower(): value for name, value in self.headers.items()},
                )
                status, payload = endpoint._answer(request)
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean; the requests are recorded instead

        return Handler
