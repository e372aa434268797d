"""Start a throw-away Azurite blob service (the Azure Storage emulator) on a free loopback port.

Used by the test fixtures (tests/conftest.py) and meant to be imported by demos and benchmarks::

    from azurite import Azurite  # with scripts/ on sys.path

    with Azurite() as azurite:
        client = BlobServiceClient.from_connection_string(azurite.connection_string)

``Azurite(oauth=True)`` serves HTTPS with a fresh self-signed certificate and accepts bearer
tokens (Azurite's ``--oauth basic`` checks a token's claims, not its signature; see
:func:`make_test_jwt`). Clients must trust the certificate: pass ``connection_verify=cert_path``
(``StorageEndpoint.client_kwargs``) to the azure-storage-blob client.

Standard library only, except that ``oauth=True`` imports ``cryptography`` (a dependency of
azure-storage-blob) to make the certificate. Azurite itself is the npm package pinned in
package.json; install it with ``npm ci`` in the repository root.

Run ``python scripts/azurite.py [--oauth]`` to start one by hand; it prints the connection string
and runs until Ctrl-C.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

__all__ = [
    "ACCOUNT_KEY",
    "ACCOUNT_NAME",
    "PID_DIR_ENV",
    "REPO_ROOT",
    "Azurite",
    "StorageEndpoint",
    "find_azurite_blob",
    "make_test_jwt",
]

#: The well-known development storage account, public and documented by Microsoft.
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

REPO_ROOT = Path(__file__).resolve().parent.parent

#: If set, each running Azurite writes ``<pid>.pid`` (process group id, then its temp dir) into
#: this directory, so that a wrapper (scripts/test) can kill it even if Python was killed.
PID_DIR_ENV = "CONVENTIONS_AZURITE_PID_DIR"

_HOST = "127.0.0.1"
_INSTALL_HINT = (
    "Install Node.js and npm (Debian: apt-get install nodejs npm), then run `npm ci` in {root}."
)


@dataclass(frozen=True)
class StorageEndpoint:
    """Where a Blob service is and how to authenticate to it."""

    connection_string: str
    blob_endpoint: str
    account_name: str
    account_key: str | None
    #: PEM certificate a client must trust (``connection_verify``), or None for HTTP / real CAs.
    cert_path: str | None = None

    @property
    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for azure-storage-blob clients (trust the self-signed certificate)."""
        return {"connection_verify": self.cert_path} if self.cert_path else {}

    @classmethod
    def from_connection_string(cls, connection_string: str) -> StorageEndpoint:
        """Parse an Azure Storage connection string (``Key=Value;...``)."""
        parts: dict[str, str] = {}
        for item in connection_string.split(";"):
            key, sep, value = item.strip().partition("=")
            if sep:
                parts[key.strip().lower()] = value.strip()
        if parts.get("usedevelopmentstorage", "").lower() == "true":
            return cls(
                connection_string=connection_string,
                blob_endpoint=f"http://127.0.0.1:10000/{ACCOUNT_NAME}",
                account_name=ACCOUNT_NAME,
                account_key=ACCOUNT_KEY,
            )
        account_name = parts.get("accountname", "")
        blob_endpoint = parts.get("blobendpoint", "")
        if not blob_endpoint and account_name:
            protocol = parts.get("defaultendpointsprotocol", "https")
            suffix = parts.get("endpointsuffix", "core.windows.net")
            blob_endpoint = f"{protocol}://{account_name}.blob.{suffix}"
        if not blob_endpoint:
            raise ValueError("connection string has neither BlobEndpoint nor AccountName")
        if not account_name:
            account_name = blob_endpoint.rstrip("/").rsplit("/", 1)[-1]
        return cls(
            connection_string=connection_string,
            blob_endpoint=blob_endpoint.rstrip("/"),
            account_name=account_name,
            account_key=parts.get("accountkey"),
        )


def find_azurite_blob(repo_root: Path = REPO_ROOT) -> tuple[str, Path]:
    """Return ``(node, azurite-blob script)``, or raise RuntimeError saying what to install."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError(
            "Cannot start Azurite: `node` is not on PATH (Azurite is a Node.js program). "
            + _INSTALL_HINT.format(root=repo_root)
        )
    script = repo_root / "node_modules" / ".bin" / "azurite-blob"
    if not script.exists():
        raise RuntimeError(
            f"Cannot start Azurite: {script} is missing (the npm package is not installed). "
            f"Run `npm ci` in {repo_root} (needs npm; Debian: apt-get install nodejs npm)."
        )
    return node, script


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_test_jwt(
    *,
    tenant_id: str | None = None,
    object_id: str | None = None,
    lifetime: int = 3600,
    now: float | None = None,
    audience: str = "https://storage.azure.com",
) -> tuple[str, int]:
    """Return ``(token, expires_on)``: an unsigned (``alg: none``) JWT for Azurite's basic OAuth.

    Azurite checks the claims (``aud``, ``iss``, ``nbf``/``iat``/``exp``), not the signature.
    Real Azure Storage rejects such a token.
    """
    issued = int(time.time() if now is None else now)
    tenant = tenant_id or str(uuid.uuid4())
    expires_on = issued + lifetime
    header = {"alg": "none", "typ": "JWT"}
    claims = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{tenant}/",
        "iat": issued - 60,
        "nbf": issued - 60,  # tolerate a little clock skew
        "exp": expires_on,
        "oid": object_id or str(uuid.uuid4()),
        "tid": tenant,
        "sub": "batch-file-conventions-tests",
        "ver": "1.0",
    }
    parts = (json.dumps(part, separators=(",", ":")).encode() for part in (header, claims))
    return ".".join(_b64url(part) for part in parts) + ".", expires_on


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _write_self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """Write ``cert.pem`` and ``key.pem`` for 127.0.0.1 (SAN IP:127.0.0.1, DNS:localhost)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _HOST)])
    now = datetime.datetime.now(datetime.timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.IPv4Address(_HOST)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        # Self-signed and used as its own trust anchor: keep it acceptable to OpenSSL's strict
        # mode (Python 3.13 turns on VERIFY_X509_STRICT by default).
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _kill_with_parent() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGKILL the child when this thread dies (e.g. kill -9)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        pr_set_pdeathsig = 1
        prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() != parent:  # parent already gone before prctl took effect
            os._exit(1)

    return preexec


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-limit:].strip()


class Azurite:
    """A running ``azurite-blob`` in its own process group, with a fresh temp dir for its data.

    Use as a context manager (or call :meth:`start` / :meth:`stop`). ``start`` waits until the
    port accepts connections (at most ``startup_timeout`` seconds) and raises RuntimeError, with
    Azurite's stderr, if it cannot start. ``stop`` sends SIGTERM to the process group, SIGKILL
    after ``stop_timeout`` seconds, and removes the temp dir.

    With ``die_with_parent`` (Linux), Azurite is also SIGKILLed if the thread that started it
    dies, so a killed test run cannot leave it behind; start it from a long-lived thread.
    """

    account_name = ACCOUNT_NAME
    account_key = ACCOUNT_KEY

    def __init__(
        self,
        *,
        oauth: bool = False,
        startup_timeout: float = 30.0,
        stop_timeout: float = 5.0,
        repo_root: Path = REPO_ROOT,
        die_with_parent: bool = True,
    ) -> None:
        self.oauth = oauth
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.repo_root = repo_root
        self.die_with_parent = die_with_parent
        #: Seconds from spawning the process to the port accepting connections.
        self.startup_seconds: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._logs: list[IO[bytes]] = []
        self._tmpdir: Path | None = None
        self._pid_file: Path | None = None
        self._port: int | None = None
        self._cert_path: Path | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Azurite:
        if self._tmpdir is not None:
            raise RuntimeError("this Azurite is already started")
        node, script = find_azurite_blob(self.repo_root)
        self._tmpdir = Path(tempfile.mkdtemp(prefix="azurite-"))
        try:
            location = self._tmpdir / "data"
            location.mkdir()
            extra: list[str] = []
            if self.oauth:
                cert, key = _write_self_signed_cert(self._tmpdir)
                self._cert_path = cert
                extra = ["--oauth", "basic", "--cert", str(cert), "--key", str(key)]
            for attempt in range(3):
                port = _free_port()
                if self._start_on(node, script, port, location, extra, last=attempt == 2):
                    self._port = port
                    break
        except BaseException:
            self.stop()
            raise
        return self

    def _start_on(
        self,
        node: str,
        script: Path,
        port: int,
        location: Path,
        extra: list[str],
        *,
        last: bool,
    ) -> bool:
        """Spawn on ``port``; False if the port was taken meanwhile (and ``last`` is false)."""
        assert self._tmpdir is not None
        cmd = [
            node,
            str(script),
            "--blobHost",
            _HOST,
            "--blobPort",
            str(port),
            "--location",
            str(location),
            "--silent",
            "--skipApiVersionCheck",
            "--loose",
            "--disableTelemetry",  # no phoning home, and SIGTERM then exits promptly
            *extra,
        ]
        env = dict(os.environ)
        env.pop("AZURITE_ACCOUNTS", None)  # would replace the well-known dev account
        stdout_path = self._tmpdir / f"stdout-{port}.log"
        stderr_path = self._tmpdir / f"stderr-{port}.log"
        stdout = stdout_path.open("wb")
        stderr = stderr_path.open("wb")
        self._logs += [stdout, stderr]
        started = time.monotonic()
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            cwd=self._tmpdir,
            env=env,
            start_new_session=True,  # own process group: killpg reaches all of it
            preexec_fn=_kill_with_parent() if self.die_with_parent else None,
        )
        self._write_pid_file()
        deadline = started + self.startup_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                err = _tail(stderr_path)
                self._kill_process()
                if "EADDRINUSE" in err and not last:
                    return False
                raise RuntimeError(
                    f"Azurite exited with code {code} before listening on {_HOST}:{port}.\n"
                    f"command: {' '.join(cmd)}\n"
                    f"stderr:\n{err or '(empty)'}\nstdout:\n{_tail(stdout_path) or '(empty)'}"
                )
            with contextlib.suppress(OSError), socket.create_connection((_HOST, port), 0.5):
                self.startup_seconds = time.monotonic() - started
                return True
            if time.monotonic() > deadline:
                self._kill_process()
                raise RuntimeError(
                    f"Azurite did not listen on {_HOST}:{port} within {self.startup_timeout:g} s.\n"
                    f"command: {' '.join(cmd)}\n"
                    f"stderr:\n{_tail(stderr_path) or '(empty)'}\n"
                    f"stdout:\n{_tail(stdout_path) or '(empty)'}"
                )
            time.sleep(0.05)

    def _write_pid_file(self) -> None:
        pid_dir = os.environ.get(PID_DIR_ENV)
        if not pid_dir or self._proc is None or self._tmpdir is None:
            return
        path = Path(pid_dir) / f"{self._proc.pid}.pid"
        with contextlib.suppress(OSError):
            path.write_text(f"{self._proc.pid}\n{self._tmpdir}\n")
            self._pid_file = path

    def _kill_process(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(self.stop_timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            # Any other member of the group (there should be none) goes too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        if self._pid_file is not None:
            self._pid_file.unlink(missing_ok=True)
            self._pid_file = None
        for log in self._logs:
            log.close()
        self._logs.clear()

    def stop(self) -> None:
        """Stop Azurite and delete its data; safe to call more than once."""
        self._kill_process()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
        self._port = None
        self._cert_path = None

    # -- where it is -----------------------------------------------------------------------

    @property
    def pid(self) -> int:
        """Process id of the Azurite process, which is also its process group id."""
        if self._proc is None:
            raise RuntimeError("Azurite is not running")
        return self._proc.pid

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("Azurite is not running")
        return self._port

    @property
    def scheme(self) -> str:
        return "https" if self.oauth else "http"

    @property
    def blob_endpoint(self) -> str:
        return f"{self.scheme}://{_HOST}:{self.port}/{ACCOUNT_NAME}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol={self.scheme};AccountName={ACCOUNT_NAME};"
            f"AccountKey={ACCOUNT_KEY};BlobEndpoint={self.blob_endpoint};"
        )

    @property
    def cert_path(self) -> str | None:
        """The self-signed certificate (PEM) to trust in ``oauth`` mode, else None."""
        return None if self._cert_path is None else str(self._cert_path)

    @property
    def endpoint(self) -> StorageEndpoint:
        return StorageEndpoint(
            connection_string=self.connection_string,
            blob_endpoint=self.blob_endpoint,
            account_name=ACCOUNT_NAME,
            account_key=ACCOUNT_KEY,
            cert_path=self.cert_path,
        )


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--oauth", action="store_true", help="HTTPS with a self-signed cert + basic OAuth"
    )
    args = parser.parse_args(argv)
    try:
        azurite = Azurite(oauth=args.oauth).start()
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    # SIGTERM should clean up like Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        print(f"Azurite blob service (pid {azurite.pid}) on {azurite.blob_endpoint}")
        print(f"started in {azurite.startup_seconds or 0:.1f} s")
        if azurite.cert_path:
            print(f"certificate to trust: {azurite.cert_path}")
        print("connection string:")
        print(azurite.connection_string, flush=True)
        print("Ctrl-C to stop.", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        azurite.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
