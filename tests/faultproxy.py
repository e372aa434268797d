"""A real TCP proxy on 127.0.0.1 that injects network faults between a client and Azurite.

Tests point the SDK at the proxy's endpoint instead of Azurite's; the proxy speaks just
enough HTTP/1.1 to see where one request or response ends (``Content-Length`` or chunked
bodies), so that a fault can hit *one* request on a kept-alive connection:

- ``Fault.refuse(503)``: answer 503 without forwarding (the request never lands);
- ``Fault.landed_then_status(500)``: forward, let it land, then answer 500 instead;
- ``Fault.lost_response()``: forward, let it land, then reset the connection;
- ``Fault.reset_mid_request()``: read part of the request body, then reset;
- ``Fault.reset_mid_response()``: forward, send half of the response, then reset;
- ``Fault.stall(seconds)``: forward, send the response head, then go silent;
- ``Fault.hang(seconds)``: forward, let it land, then send nothing at all (no head);
- ``Fault.trickle(nbytes, every)``: forward, send the response *nbytes* at a time;
- ``Fault.trickle_all(nbytes, every)``: the same, the response head included;
- ``Fault.cut_head(nbytes, reset=False)``: forward, send only the first *nbytes* of the
  response head, then close (FIN, or RST with *reset*).

Faults are queued with :meth:`FaultProxy.inject` (the next *times* requests that match a
predicate) and ``latency`` adds a delay before each request is forwarded. Everything runs
on one asyncio loop in a daemon thread; :meth:`FaultProxy.stop` closes every connection.
It records each request as ``(method, path, fault name)`` (no query string: no SAS).

    with FaultProxy("127.0.0.1", azurite_port) as proxy:
        proxy.inject(Fault.lost_response(), times=4, when=is_append)
        client = BlobServiceClient(proxy.rewrite(endpoint_url), credential=...)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

__all__ = ["Fault", "FaultProxy", "ProxiedRequest"]

_HEAD_LIMIT = 1 << 20
_REASONS = {500: "Internal Server Error", 503: "Service Unavailable", 429: "Too Many Requests"}


@dataclass(frozen=True)
class ProxiedRequest:
    """What a fault predicate sees of one request."""

    method: str
    target: str  # path and query, as sent (may carry a SAS: never log it)
    headers: dict[str, str]  # lower-case names
    index: int  # 0 for the first request the proxy saw, counting every connection

    @property
    def path(self) -> str:
        return urllib.parse.urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.target).query))


@dataclass(frozen=True)
class Fault:
    """One fault, applied to one request. Build it with the class methods."""

    name: str
    status: int = 0
    seconds: float = 0.0
    nbytes: int = 0
    reset: bool = False

    @classmethod
    def refuse(cls, status: int = 503) -> Fault:
        return cls("refuse", status=status)

    @classmethod
    def landed_then_status(cls, status: int = 500) -> Fault:
        return cls("landed_then_status", status=status)

    @classmethod
    def lost_response(cls) -> Fault:
        return cls("lost_response")

    @classmethod
    def reset_mid_request(cls) -> Fault:
        return cls("reset_mid_request")

    @classmethod
    def reset_mid_response(cls) -> Fault:
        return cls("reset_mid_response")

    @classmethod
    def stall(cls, seconds: float = 3600.0) -> Fault:
        return cls("stall", seconds=seconds)

    @classmethod
    def hang(cls, seconds: float = 3600.0) -> Fault:
        return cls("hang", seconds=seconds)

    @classmethod
    def trickle(cls, nbytes: int = 1, every: float = 0.5) -> Fault:
        return cls("trickle", nbytes=nbytes, seconds=every)

    @classmethod
    def trickle_all(cls, nbytes: int = 1, every: float = 0.5) -> Fault:
        return cls("trickle_all", nbytes=nbytes, seconds=every)

    @classmethod
    def cut_head(cls, nbytes: int, reset: bool = False) -> Fault:
        return cls("cut_head", nbytes=nbytes, reset=reset)


@dataclass
class _Rule:
    fault: Fault
    remaining: int | None  # None: for ever
    when: Callable[[ProxiedRequest], bool]


@dataclass
class FaultProxy:
    """A fault-injecting HTTP/1.1 proxy from ``127.0.0.1:<port>`` to *upstream*."""

    upstream_host: str
    upstream_port: int
    #: Seconds added before each request is forwarded (a round trip's worth of latency).
    latency: float = 0.0
    port: int = 0
    #: ``(method, path, fault name or "")`` per request, in arrival order.
    log: list[tuple[str, str, str]] = field(default_factory=list)
    _rules: list[_Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _server: asyncio.base_events.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _count: int = 0

    # -- control (any thread) -------------------------------------------------------------------

    def inject(
        self,
        fault: Fault,
        *,
        times: int | None = 1,
        when: Callable[[ProxiedRequest], bool] | None = None,
    ) -> None:
        """Apply *fault* to the next *times* requests (``None``: all) for which *when* holds."""
        with self._lock:
            self._rules.append(_Rule(fault, times, when or (lambda _request: True)))

    def clear(self) -> None:
        """Drop every queued fault (latency stays)."""
        with self._lock:
            self._rules.clear()

    def faults_applied(self, name: str | None = None) -> int:
        """How many requests got a fault (named *name*, or any)."""
        with self._lock:
            return sum(1 for _, _, applied in self.log if applied and name in (None, applied))

    def rewrite(self, url_or_connection_string: str) -> str:
        """The same URL or connection string with the upstream port replaced by the proxy's."""
        upstream = f"{self.upstream_host}:{self.upstream_port}"
        return url_or_connection_string.replace(upstream, f"127.0.0.1:{self.port}")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    # -- lifetime -------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        ready = threading.Event()
        failure: list[OSError] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._serve, "127.0.0.1", 0, limit=_HEAD_LIMIT)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except OSError as error:  # surfaced by start()
                failure.append(error)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fault proxy did not start within 10 s")
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            if self._server is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._server.wait_closed(), 5)
            # Let the aborted connections' handlers finish before the loop stops.
            current = asyncio.current_task()
            tasks = [task for task in asyncio.all_tasks() if task is not current]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the proxy (loop thread) ----------------------------------------------------------------

    def _next_fault(self, request: ProxiedRequest) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if rule.remaining != 0 and rule.when(request):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    fault = rule.fault
                    break
            else:
                fault = None
            self.log.append((request.method, request.path, fault.name if fault else ""))
        return fault

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self._writers.add(client_w)
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                head = await _read_head(client_r)
                if head is None:
                    return
                method, target, headers = _parse_request_head(head)
                with self._lock:
                    index = self._count
                    self._count += 1
                request = ProxiedRequest(method, target, headers, index)
                fault = self._next_fault(request)
                if fault is not None and fault.name == "reset_mid_request":
                    length = int(headers.get("content-length", "0") or 0)
                    if length > 1:
                        await client_r.readexactly(length // 2)
                    _reset(client_w)
                    return
                body = await _read_body(client_r, headers)
                if fault is not None and fault.name == "refuse":
                    await _answer(client_w, fault.status)
                    continue
                if self.latency:
                    await asyncio.sleep(self.latency)
                if upstream is None:
                    upstream = await asyncio.open_connection(
                        self.upstream_host, self.upstream_port, limit=_HEAD_LIMIT
                    )
                    self._writers.add(upstream[1])
                up_r, up_w = upstream
                up_w.write(head + body)
                await up_w.drain()
                response_head = await _read_head(up_r)
                if response_head is None:
                    _reset(client_w)
                    return
                status, response_headers = _parse_response_head(response_head)
                no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
                response_body = b"" if no_body else await _read_body(up_r, response_headers)
                if fault is None:
                    client_w.write(response_head + response_body)
                    await client_w.drain()
                elif fault.name == "landed_then_status":
                    await _answer(client_w, fault.status)
                elif fault.name == "lost_response":
                    _reset(client_w)
                    return
                elif fault.name == "reset_mid_response":
                    client_w.write(response_head + response_body[: len(response_body) // 2])
                    await client_w.drain()
                    _reset(client_w)
                    return
                elif fault.name == "stall":
                    client_w.write(response_head)
                    await client_w.drain()
                    await asyncio.sleep(fault.seconds)
                    _reset(client_w)
                    return
                elif fault.name == "hang":
                    await asyncio.sleep(fault.seconds)
                    _reset(client_w)
                    return
                elif fault.name == "trickle":
                    client_w.write(response_head)
                    await client_w.drain()
                    step = max(1, fault.nbytes)
                    for start in range(0, len(response_body), step):
                        client_w.write(response_body[start : start + step])
                        await client_w.drain()
                        await asyncio.sleep(fault.seconds)
                elif fault.name == "trickle_all":
                    whole = response_head + response_body
                    step = max(1, fault.nbytes)
                    for start in range(0, len(whole), step):
                        client_w.write(whole[start : start + step])
                        await client_w.drain()
                        await asyncio.sleep(fault.seconds)
                elif fault.name == "cut_head":
                    client_w.write(response_head[: fault.nbytes])
                    await client_w.drain()
                    if fault.reset:
                        _reset(client_w)
                    else:
                        with contextlib.suppress(Exception):
                            client_w.write_eof()
                            await client_w.drain()
                    return
                else:  # pragma: no cover - a fault this proxy does not know
                    raise ValueError(f"unknown fault {fault.name!r}")
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            with contextlib.suppress(Exception):
                _reset(client_w)
        except asyncio.CancelledError:
            return  # stop(): the connection was aborted already
        finally:
            self._writers.discard(client_w)
            with contextlib.suppress(Exception):
                client_w.close()
            if upstream is not None:
                self._writers.discard(upstream[1])
                with contextlib.suppress(Exception):
                    upstream[1].close()


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if error.partial:
            raise
        return None  # the peer closed between messages


def _headers(lines: list[bytes]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


def _parse_request_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head[:-4].split(b"\r\n")
    method, target, _version = lines[0].decode("latin-1").split(" ", 2)
    return method, target, _headers(lines[1:])


def _parse_response_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head[:-4].split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    return status, _headers(lines[1:])


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    """The raw body bytes (chunked framing kept as it is, to forward unchanged)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts: list[bytes] = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            parts.append(size_line)
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    trailer = await reader.readuntil(b"\r\n")
                    parts.append(trailer)
                    if trailer == b"\r\n":
                        return b"".join(parts)
            parts.append(await reader.readexactly(size + 2))
    length = int(headers.get("content-length", "0") or 0)
    return await reader.readexactly(length) if length else b""


async def _answer(writer: asyncio.StreamWriter, status: int) -> None:
    reason = _REASONS.get(status, "Error")
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\n"
        f"x-ms-error-code: InjectedFault\r\n\r\n".encode("ascii")
    )
    await writer.drain()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a dropped connection looks to the client."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
