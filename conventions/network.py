"""Bounded time: the library's network defaults, a retry budget, and transfer deadlines.

Every wait on the network is bounded (spec: "Bounded time"):

- **Per request**: when the library builds a client (``from_connection_string``,
  ``from_container_url``, ``from_environment``...) it passes
  ``connection_timeout=DEFAULT_CONNECTION_TIMEOUT`` (10 s) and
  ``read_timeout=DEFAULT_READ_TIMEOUT`` (30 s) unless the caller's own ``client_kwargs``
  say otherwise (``retry_total=``, ``connection_timeout=``, ``read_timeout=`` and every
  other azure-core option go to the client unchanged). A client you build yourself
  (``from_service_client``) keeps its own settings.
- **Per transfer**: a read timeout cannot catch a server that sends one byte every half
  second. A download (``download_to_file``, ``download_bytes``, a whole-job
  ``download``) must therefore finish within :meth:`TransferLimits.bound`
  (``grace + size / minimum_rate`` seconds, 60 s + 64 KiB/s by default); when the bound
  passes, the connection is shut down (the socket is really abandoned, not left to a
  thread) and the call raises :class:`~conventions.errors.StorageError` naming the
  container and blob. Change the limits process-wide with :func:`set_transfer_limits`.
- **Per operation, for the CLI**: :func:`budgeted_client_kwargs` builds the retry policy
  the CLI uses: at most *retries* retries with short back-offs, and no retry once
  *timeout* seconds have passed since the first attempt, so an unreachable endpoint is
  reported in about *timeout* seconds.

>>> limits = TransferLimits(grace=5.0, minimum_rate=1024.0)
>>> limits.bound(10240)
15.0
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import attrs
from azure.core.exceptions import AzureError
from azure.storage.blob import ExponentialRetry

from ._azure_errors import check_download_answer
from .errors import InvalidSettingError, StorageError

__all__ = [
    "DEFAULT_CONNECTION_TIMEOUT",
    "DEFAULT_READ_TIMEOUT",
    "BudgetedRetry",
    "TransferLimits",
    "budgeted_client_kwargs",
    "get_transfer_limits",
    "set_transfer_limits",
    "with_default_timeouts",
]

#: Seconds to open a connection, when the library builds the client (azure-core: 20 s).
DEFAULT_CONNECTION_TIMEOUT = 10.0
#: Seconds to wait for the next bytes of an answer, when the library builds the client.
DEFAULT_READ_TIMEOUT = 30.0

_log = logging.getLogger("conventions")


def _positive(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{attribute.name} must be a number, not {type(value).__name__}")
    if not value > 0 or value == float("inf"):
        raise InvalidSettingError(
            value, "must be a positive finite number", subject=attribute.name
        )


@attrs.frozen
class TransferLimits:
    """How long one download may take: *grace* seconds, plus its size at *minimum_rate*
    bytes per second.

    >>> TransferLimits().bound(0)
    60.0
    """

    grace: float = attrs.field(default=60.0, validator=_positive)
    minimum_rate: float = attrs.field(default=64 * 1024.0, validator=_positive)

    def bound(self, size: int | None) -> float:
        """Seconds allowed for a transfer of *size* bytes (``None``: not known yet)."""
        return self.grace + (size or 0) / self.minimum_rate


_limits = TransferLimits()


def get_transfer_limits() -> TransferLimits:
    """The limits downloads use now."""
    return _limits


def set_transfer_limits(limits: TransferLimits) -> TransferLimits:
    """Use *limits* for every download started from now on; returns the previous ones."""
    global _limits
    if not isinstance(limits, TransferLimits):
        raise TypeError(f"limits must be TransferLimits, not {type(limits).__name__}")
    previous, _limits = _limits, limits
    return previous


def with_default_timeouts(client_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """*client_kwargs* with the library's per-request timeouts added where not given.

    >>> with_default_timeouts({"read_timeout": 5})["read_timeout"]
    5
    >>> with_default_timeouts({})["connection_timeout"]
    10.0
    """
    merged: dict[str, Any] = {
        "connection_timeout": DEFAULT_CONNECTION_TIMEOUT,
        "read_timeout": DEFAULT_READ_TIMEOUT,
    }
    merged.update(client_kwargs)
    return merged


# -- a retry budget (the CLI's) ---------------------------------------------------------------


class BudgetedRetry(ExponentialRetry):
    """azure-storage-blob's exponential retry, which also stops once *budget* seconds have
    passed since the operation's first attempt (or would pass during the back-off)."""

    def __init__(self, *, budget: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.budget = budget

    def configure_retries(self, request: Any) -> dict[str, Any]:
        settings: dict[str, Any] = super().configure_retries(request)
        settings["conventions_started"] = time.monotonic()
        return settings

    def increment(
        self,
        settings: dict[str, Any],
        request: Any,
        response: Any | None = None,
        error: AzureError | None = None,
    ) -> bool:
        retry: bool = super().increment(settings, request, response=response, error=error)
        elapsed = time.monotonic() - settings["conventions_started"]
        next_backoff = self.initial_backoff + self.increment_base ** settings["count"]
        return retry and elapsed + next_backoff < self.budget


def budgeted_client_kwargs(timeout: float, retries: int) -> dict[str, Any]:
    """Client options for "answer within about *timeout* seconds, *retries* retries at most".

    Each request gets *timeout* to connect and to receive the next bytes; retries back
    off 2.5 s, 4.5 s, 8.5 s... (±0.25 s) and stop after *retries*, or when *timeout*
    seconds have passed since the first attempt.
    """
    policy = BudgetedRetry(
        budget=timeout,
        initial_backoff=0.5,
        increment_base=2,
        random_jitter_range=0.25,
        retry_total=retries,
    )
    return {
        "connection_timeout": timeout,
        "read_timeout": timeout,
        "retry_policy": policy,
    }


# -- transfer deadlines -----------------------------------------------------------------------


class _Watchdog:
    """One daemon thread that runs callbacks when their deadlines pass."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._cancelled: set[int] = set()
        self._ids = itertools.count()
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def schedule(self, at: float, callback: Callable[[], None]) -> int:
        with self._condition:
            key = next(self._ids)
            heapq.heappush(self._heap, (at, key, callback))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="conventions-watchdog", daemon=True
                )
                self._thread.start()
            if self._heap[0][1] == key:
                # Only a new earliest deadline changes what the thread waits for; waking it
                # for every download would cost a thread switch per file.
                self._condition.notify()
            return key

    def cancel(self, key: int) -> None:
        with self._condition:
            self._cancelled.add(key)

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._heap:
                    self._condition.wait()
                at, key, callback = self._heap[0]
                now = time.monotonic()
                if key in self._cancelled:
                    heapq.heappop(self._heap)
                    self._cancelled.discard(key)
                    continue
                if at > now:
                    self._condition.wait(at - now)
                    continue
                heapq.heappop(self._heap)
            try:
                callback()
            except Exception:  # noqa: BLE001 - a watchdog must outlive any one transfer
                _log.exception("transfer watchdog callback failed")


_watchdog = _Watchdog()
_CONTENT_RANGE_TOTAL = re.compile(r"/(\d+)\s*$")


def _socket_of(pipeline_response: Any) -> socket.socket | None:
    """The socket a streamed ``requests`` response is read from, if it can be found."""
    raw = getattr(getattr(pipeline_response.http_response, "internal_response", None), "raw", None)
    connection = getattr(raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        return sock
    fp = getattr(getattr(raw, "_fp", None), "fp", None)
    sock = getattr(getattr(fp, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


#: The deadline of the operation running on each thread, for the connections of the
#: library's own transport (``conventions._transport``): they hand it their socket before
#: they connect and before they read an answer's head, so that a stalled or trickled head
#: is cut at the deadline too, not only a body.
_current = threading.local()


def current_deadline() -> TransferDeadline | None:
    """The deadline of the operation running on this thread, if any."""
    return getattr(_current, "deadline", None)


class TransferDeadline:
    """The bound on one operation (a download, by default); a context manager on the
    thread that runs it.

    Pass :meth:`checked_hook` (or :meth:`hook`) as ``raw_response_hook`` and
    :meth:`request_hook` as ``raw_request_hook``: every thread that sends one of its
    requests (the SDK's chunk threads too) then makes it the current deadline, and the
    library's transport hands it each connection's socket before the answer's head is
    read. When the deadline passes first, every socket still in its use is shut down,
    later connections and responses are refused, and an error raised by the body (of any
    type) becomes :meth:`error` when it leaves the ``with`` block.
    """

    def __init__(
        self,
        container: str | None,
        blob: str | None,
        size: int | None,
        limits: TransferLimits | None = None,
        *,
        operation: str = "download",
    ) -> None:
        self.container = container
        self.blob = blob
        self.operation = operation
        self.limits = limits or get_transfer_limits()
        self.started = time.monotonic()
        self.seconds = self.limits.bound(size)
        self._sized = size is not None or operation != "download"
        self._lock = threading.Lock()
        self._sockets: dict[int, socket.socket] = {}
        self._expired = False
        self._done = False
        self._key: int | None = None
        self._previous: TransferDeadline | None = None
        self._endpoint: str | None = None  # host:port of the first socket watched

    @property
    def expired(self) -> bool:
        return self._expired

    def error(self) -> StorageError:
        if self.blob is not None:
            where = f" blob {self.blob!r} in container {self.container!r}"
        elif self.container is not None:
            where = f" container {self.container!r}"
        else:
            where = ""  # a token request
        if self.operation == "download":
            within = (
                f"{self.seconds:.1f} s ({self.limits.grace:g} s plus the size at "
                f"{self.limits.minimum_rate:g} bytes/s)"
            )
        else:
            within = f"{self.seconds:.1f} s"
        endpoint = f" (endpoint {self._endpoint})" if self._endpoint else ""
        return StorageError(
            f"{self.operation}{where} did not finish within {within}{endpoint}: the "
            "connection was abandoned; the service is stalled or too slow "
            "(see conventions.network.set_transfer_limits, or the CLI's --timeout)",
            container=self.container,
            blob=self.blob,
        )

    def check(self) -> None:
        """Raise :meth:`error` if the deadline has passed (before a new connection)."""
        if self._expired:
            raise self.error()

    def watch(self, sock: socket.socket | None) -> None:
        """Shut *sock* down if the deadline passes while this operation uses it."""
        if sock is None:
            return
        if self._endpoint is None:
            with contextlib.suppress(OSError, ValueError, IndexError):
                host, port = sock.getpeername()[:2]
                self._endpoint = f"{host}:{port}"
        with self._lock:
            if self._expired:
                raise self.error()
            if not self._done:
                self._sockets[id(sock)] = sock

    def request_hook(self, _pipeline_request: Any) -> None:
        """Called by azure-storage-blob before each request is sent, on the sending thread."""
        _current.deadline = self
        self.check()

    def hook(self, pipeline_response: Any) -> None:
        """Called by azure-storage-blob with each response head, before its body is read."""
        if not self._sized:
            match = _CONTENT_RANGE_TOTAL.search(
                pipeline_response.http_response.headers.get("Content-Range", "")
            )
            if match:
                self._sized = True
                self._reschedule(self.limits.bound(int(match.group(1))))
        self.watch(_socket_of(pipeline_response))

    def checked_hook(self, pipeline_response: Any) -> None:
        """:meth:`hook`, after the answer was checked to hold the range asked (IG-5)."""
        check_download_answer(pipeline_response, hook=self.checked_hook)
        self.hook(pipeline_response)

    def _reschedule(self, seconds: float) -> None:
        with self._lock:
            if self._expired:
                return
            if self._key is not None:
                _watchdog.cancel(self._key)
            self.seconds = seconds
            self._key = _watchdog.schedule(self.started + seconds, self._expire)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self._expired = True
            sockets, self._sockets = list(self._sockets.values()), {}
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed: nothing to wake
                sock.shutdown(socket.SHUT_RDWR)  # wakes the reading thread at once

    def __enter__(self) -> TransferDeadline:
        self._previous = current_deadline()
        _current.deadline = self
        self._reschedule(self.seconds)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _current.deadline = self._previous
        with self._lock:
            if self._key is not None:
                _watchdog.cancel(self._key)
            self._done = True
            self._sockets.clear()
            expired = self._expired
        if expired and isinstance(exc, Exception):
            raise self.error() from None


def bounded(
    operation: str, *, container: str | None, blob: str | None = None
) -> TransferDeadline:
    """The deadline for one request-sized *operation* (a listing page, a property read, a
    token): the transfer limits' grace, the time a download of nothing may take."""
    return TransferDeadline(container, blob, None, operation=operation)
