"""A blocking portal: drive the async face (``conventions.aio``) from a sync test.

One asyncio event loop runs in a daemon thread (debug mode: tasks remember where they were made).
``Portal.run`` submits an awaitable and waits for its outcome (bounded); ``Portal.wrap`` gives a
proxy through which a test written for the sync face drives an async-face object unchanged::

    >>> class Toy:
    ...     async def double(self, n: int) -> int:
    ...         return 2 * n
    >>> with Portal() as portal:
    ...     portal.wrap(Toy(), force=True).double(21)
    42

The proxy runs every call on the loop, awaits what it returns, turns async iterators into sync
generators (an early ``break`` closes the async generator on the loop, as CPython closes a sync
one), async context managers into ``with`` ones, and wraps results that belong to the async face.
Exceptions reach the test as they were raised (same object).

The portal records, for ``Portal.checking()`` to fail a test on:

- work that held the loop (``tests/loopwatch.py``): a blocking call on the loop's thread (a
  file opened, listed, renamed..., a ``time.sleep``, from Python's audit events) and a
  callback that used more than 0.1 s of CPU. Not asyncio's debug-mode "took X seconds"
  warnings: those are wall time, which a loaded CI machine stretches past any limit;
- errors the loop reports (``call_exception_handler``: "Task exception was never retrieved",
  aiohttp's "Unclosed client session", ...);
- tasks still pending when the test ends (then cancelled, so the next test starts clean);
- ResourceWarnings issued while the test ran, after a ``gc.collect()`` at its end.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import gc
import inspect
import re
import threading
import traceback
import warnings
from collections.abc import Awaitable, Callable, Generator, Iterator
from types import TracebackType
from typing import Any, TypeVar

from .loopwatch import LoopWatch

__all__ = [
    "AIO_MODULES",
    "Portal",
    "PortalProblems",
    "PortalTimeout",
    "Problems",
]

T = TypeVar("T")

#: Objects whose class (or which, for classes) comes from these modules are the async face.
AIO_MODULES = ("conventions.aio", "azure.storage.blob.aio")



class PortalTimeout(Exception):  # noqa: N818 - reads as what happened
    """An awaitable did not finish on the portal's loop in time (it was cancelled).

    Not a ``TimeoutError``: a test expecting the library's own timeout must not pass on this.
    """


class PortalProblems(AssertionError):  # noqa: N818
    """What a checked test left behind or did to the loop (see ``Problems``)."""


class Problems:
    """What the portal saw during one check: each entry is one line for the failure message."""

    def __init__(
        self,
        slow_callbacks: list[str],
        loop_errors: list[str],
        pending_tasks: list[str],
        resource_warnings: list[str],
    ) -> None:
        self.slow_callbacks = slow_callbacks
        self.loop_errors = loop_errors
        self.pending_tasks = pending_tasks
        self.resource_warnings = resource_warnings

    def __bool__(self) -> bool:
        return any(self._sections().values())

    def _sections(self) -> dict[str, list[str]]:
        return {
            "callbacks that blocked the event loop": self.slow_callbacks,
            "errors reported by the event loop": self.loop_errors,
            "tasks still pending at the end (cancelled now)": self.pending_tasks,
            "ResourceWarnings (something was not closed)": self.resource_warnings,
        }

    def describe(self) -> str:
        lines = []
        for title, entries in self._sections().items():
            if entries:
                lines.append(f"{title}:")
                lines.extend(f"  - {entry}" for entry in entries)
        return "\n".join(lines)


def _is_aio_name(module: object) -> bool:
    return isinstance(module, str) and any(
        module == prefix or module.startswith(prefix + ".") for prefix in AIO_MODULES
    )


def is_async_face(value: object) -> bool:
    """Whether *value* (an object, or a class) belongs to the async face."""
    if isinstance(value, type):
        return _is_aio_name(value.__module__)
    return _is_aio_name(type(value).__module__)


def _is_async_iterable(value: object) -> bool:
    return hasattr(value, "__anext__") or (
        hasattr(value, "__aiter__") and not hasattr(value, "__iter__")
    )


class Portal:
    """One event loop in a daemon thread, and the means to drive it from the test's thread."""

    def __init__(self, *, slow_callback_duration: float = 0.1, timeout: float = 120.0) -> None:
        #: CPU seconds a callback may use on the loop.
        self.slow_callback_duration = slow_callback_duration
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._watch: LoopWatch | None = None
        self._loop_errors: list[str] = []

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> Portal:
        if self._loop is not None:
            raise RuntimeError("the portal is already started")
        loop = asyncio.new_event_loop()
        loop.set_debug(True)
        # Its own wall-clock warnings are not the check (see the module's docstring).
        loop.slow_callback_duration = 3600.0
        loop.set_exception_handler(self._on_loop_error)
        ready = threading.Event()
        thread = threading.Thread(
            target=self._serve, args=(loop, ready), name="faces-portal", daemon=True
        )
        self._loop, self._thread = loop, thread
        thread.start()
        if not ready.wait(self.timeout):
            raise PortalTimeout(f"the portal's event loop did not start within {self.timeout} s")
        assert thread.ident is not None
        self._watch = LoopWatch(thread.ident, self.slow_callback_duration).start()
        return self

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()

    def stop(self) -> None:
        """Cancel what is left, finish async generators and the executor, stop the loop."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if thread.is_alive():
                with contextlib.suppress(PortalTimeout):
                    self.run(self._cancel_pending(), timeout=10)
                    self.run(loop.shutdown_asyncgens(), timeout=10)
                    self.run(loop.shutdown_default_executor(), timeout=10)
                loop.call_soon_threadsafe(loop.stop)
                thread.join(self.timeout)
        finally:
            if self._watch is not None:
                self._watch.stop()
                self._watch = None
            self._loop = self._thread = None
            if not thread.is_alive():
                loop.close()

    def __enter__(self) -> Portal:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the portal is not started (use Portal.start() or `with`)")
        return self._loop

    def on_loop_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    # -- running ------------------------------------------------------------------------------

    def run(
        self, awaitable: Awaitable[T], *, timeout: float | None = None, name: str | None = None
    ) -> T:
        """Run *awaitable* on the loop and return its result, or raise its exception (the same
        object). Waits at most *timeout* (default ``self.timeout``) seconds, then cancels it and
        raises ``PortalTimeout``."""
        loop = self.loop
        if self.on_loop_thread():
            if inspect.iscoroutine(awaitable):
                awaitable.close()
            raise RuntimeError(
                "Portal.run called on the portal's own loop thread (it would wait forever): "
                "a sync wrapper was passed into async-face code; pass the async object instead"
            )
        limit = self.timeout if timeout is None else timeout
        name = name or _describe(awaitable)
        future = asyncio.run_coroutine_threadsafe(_outcome(awaitable, name), loop)
        try:
            ok, value = future.result(limit)
        except concurrent.futures.TimeoutError:
            # _outcome never raises, so this is our wait that ran out, not the awaitable's.
            future.cancel()  # cancels the task on the loop
            raise PortalTimeout(
                f"{name} did not finish within {limit} s on the portal's event loop "
                "(cancelled); a network wait without a bound, or a deadlock?"
            ) from None
        if ok:
            return value  # type: ignore[no-any-return]
        raise value

    def call(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Call *function* on the loop (awaiting what it returns if that is a coroutine or a
        future) and return the result, wrapped if it belongs to the async face."""
        name = f"{getattr(function, '__qualname__', repr(function))}()"
        return self.wrap(self.run(_invoke(function, args, kwargs), name=name))

    # -- wrapping -----------------------------------------------------------------------------

    def wrap(self, value: Any, *, force: bool = False) -> Any:
        """A sync view of *value* if it belongs to the async face (or *force*), else *value*.

        Lists and tuples are wrapped element by element; async iterators become sync generators.
        """
        if isinstance(value, (_Proxy, _SyncIterator)):
            return value
        if type(value) in (list, tuple):
            items = [self.wrap(item) for item in value]
            if all(new is old for new, old in zip(items, value, strict=True)):
                return value
            return type(value)(items)
        if _is_async_iterable(value) and not isinstance(value, type):
            return _SyncIterator(self, value)
        if force or is_async_face(value):
            return _Proxy(self, value)
        return value

    # -- problems -----------------------------------------------------------------------------

    def _on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", "an error"))
        error = context.get("exception")
        if error is not None:
            message += f": {error!r}"
        source = context.get("source_traceback") or context.get("handle_traceback")
        if source:
            message += f" (created at {_where(source)})"
        self._loop_errors.append(message)
        loop.default_exception_handler(context)

    async def _cancel_pending(self) -> list[str]:
        me = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not me]
        described = [_describe_task(task) for task in pending]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)
        return described

    async def _settle(self) -> None:
        # A few turns of the loop: callbacks scheduled by the test's last awaits run now.
        for _ in range(3):
            await asyncio.sleep(0)

    def take_problems(self) -> Problems:
        """What was recorded since the last call (then forgotten); cancels pending tasks."""
        self.run(self._settle())
        gc.collect()
        self.run(self._settle())
        pending = self.run(self._cancel_pending())
        slow = self._watch.take() if self._watch is not None else []
        errors, self._loop_errors = self._loop_errors, []
        return Problems(slow, errors, pending, [])

    @contextlib.contextmanager
    def checking(self, what: str = "the test") -> Iterator[None]:
        """Fail (``PortalProblems``) if, within the block, a callback blocked the loop, the loop
        reported an error, a task was left pending, or a ResourceWarning was issued.

        Problems recorded before the block are reported too (never silently dropped).
        """
        before = self.take_problems()
        if before:
            raise PortalProblems(
                f"the portal recorded problems before {what} started (left by an earlier "
                f"test or fixture):\n{before.describe()}"
            )
        with _resource_warnings() as seen:
            try:
                yield
            finally:
                # Also when the block failed: cancel what it left, so the next test starts clean.
                problems = self.take_problems()
        problems.resource_warnings.extend(seen)
        if problems:
            raise PortalProblems(f"{what} misused the async face:\n{problems.describe()}")


#: aiohttp's advice on a bytes body over 1 MiB (the SDK sends every block as bytes) is issued
#: as a ResourceWarning but is not a leak; whether the loop was held is what the slow-callback
#: check measures (tests/test_aio_only.py leaves it out for the same reason). Issued again.
_NOT_A_LEAK = re.compile(r"Sending a large body directly with raw bytes")


@contextlib.contextmanager
def _resource_warnings() -> Iterator[list[str]]:
    """Record ResourceWarnings (from any thread, while the block runs); other warnings are
    issued again on exit, so pytest still reports them."""
    seen: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield seen
    for message in caught:
        if issubclass(message.category, ResourceWarning) and not _NOT_A_LEAK.match(
            str(message.message)
        ):
            seen.append(f"{message.message} ({message.filename}:{message.lineno})")
        else:
            warnings.warn_explicit(
                message.message,
                message.category,
                message.filename,
                message.lineno,
                source=message.source,
            )


async def _outcome(awaitable: Awaitable[T], name: str) -> tuple[bool, Any]:
    """(True, result) or (False, exception): never raises, so the exception object crosses
    threads unchanged (run_coroutine_threadsafe would replace a TimeoutError or
    CancelledError by a new one)."""
    task = asyncio.current_task()
    if task is not None:
        task.set_name(f"portal: {name}")
    try:
        return True, await awaitable
    except BaseException as error:  # noqa: BLE001 - handed to the caller as it is
        return False, error


async def _invoke(
    function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    result = function(*_unwrap(args), **{key: _unwrap(v) for key, v in kwargs.items()})
    awaitable = inspect.iscoroutine(result) or isinstance(result, asyncio.Future)
    if not awaitable and inspect.isawaitable(result):
        awaitable = not hasattr(result, "__aenter__") and not _is_async_iterable(result)
    if awaitable:
        result = await result
    return result


def _unwrap(value: Any) -> Any:
    if isinstance(value, _Proxy):
        return object.__getattribute__(value, "_target")
    if isinstance(value, _SyncIterator):
        raise TypeError(
            "a sync iterator of the portal was passed to the async face: pass a list "
            "(list(...)) so that the async code does not have to wait for the portal"
        )
    if type(value) in (list, tuple, set, frozenset):
        return type(value)(_unwrap(item) for item in value)
    if type(value) is dict:
        return {key: _unwrap(item) for key, item in value.items()}
    return value


def _describe(value: object) -> str:
    code = getattr(value, "cr_code", None) or getattr(value, "ag_code", None)
    if code is not None:
        return f"{code.co_qualname if hasattr(code, 'co_qualname') else code.co_name}()"
    return repr(value)[:200]


def _where(stack: traceback.StackSummary | list[Any]) -> str:
    frames = [frame for frame in stack if "asyncio" not in frame.filename]
    frame = (frames or list(stack))[-1]
    return f"{frame.filename}:{frame.lineno} in {frame.name}"


def _describe_task(task: asyncio.Task[Any]) -> str:
    text = repr(task)
    source = getattr(task, "_source_traceback", None)
    if source:
        text += f" (created at {_where(source)})"
    return text


class _Proxy:
    """A sync view of one async-face object (or class)."""

    __slots__ = ("_portal", "_target")

    def __init__(self, portal: Portal, target: Any) -> None:
        object.__setattr__(self, "_portal", portal)
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        portal: Portal = object.__getattribute__(self, "_portal")
        value = getattr(object.__getattribute__(self, "_target"), name)
        if isinstance(value, type):
            return portal.wrap(value, force=True)
        if callable(value):
            return _method(portal, value)
        return portal.wrap(value)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_target"), name, _unwrap(value))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        portal: Portal = object.__getattribute__(self, "_portal")
        return portal.call(object.__getattribute__(self, "_target"), *args, **kwargs)

    def __enter__(self) -> Any:
        portal: Portal = object.__getattribute__(self, "_portal")
        target = object.__getattribute__(self, "_target")
        if hasattr(target, "__aenter__"):
            entered = portal.run(_invoke(target.__aenter__, (), {}))
        elif hasattr(target, "__enter__"):
            entered = portal.run(_invoke(target.__enter__, (), {}))
        else:
            raise TypeError(f"{type(target).__qualname__} is not a context manager")
        return self if entered is target else portal.wrap(entered)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        portal: Portal = object.__getattribute__(self, "_portal")
        target = object.__getattribute__(self, "_target")
        leave = target.__aexit__ if hasattr(target, "__aexit__") else target.__exit__
        return portal.run(_invoke(leave, (exc_type, exc, tb), {}))  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[Any]:
        target = object.__getattribute__(self, "_target")
        portal: Portal = object.__getattribute__(self, "_portal")
        if hasattr(target, "__aiter__"):
            return _SyncIterator(portal, target)
        return iter(target)

    def __repr__(self) -> str:
        return f"<portal {object.__getattribute__(self, '_target')!r}>"

    def __str__(self) -> str:
        return str(object.__getattribute__(self, "_target"))

    def __eq__(self, other: object) -> bool:
        return bool(object.__getattribute__(self, "_target") == _unwrap(other))

    def __hash__(self) -> int:
        return hash(object.__getattribute__(self, "_target"))

    def __bool__(self) -> bool:
        return bool(object.__getattribute__(self, "_target"))

    def __dir__(self) -> list[str]:
        return dir(object.__getattribute__(self, "_target"))

    # ``isinstance(x, face.DownloadedOutput)``: the async face's classes are proxies too.
    def __instancecheck__(self, instance: Any) -> bool:
        return isinstance(_unwrap(instance), object.__getattribute__(self, "_target"))

    def __subclasscheck__(self, subclass: Any) -> bool:
        return issubclass(_unwrap(subclass), object.__getattribute__(self, "_target"))


def _method(portal: Portal, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def call_on_loop(*args: Any, **kwargs: Any) -> Any:
        return portal.call(function, *args, **kwargs)

    return call_on_loop


class _SyncIterator(Generator[Any, Any, None]):
    """A sync generator over an async iterator: each step runs on the portal's loop.

    ``close()`` (and dropping it unfinished, as an early ``break`` does) closes an async
    generator on the loop before returning, so its ``finally`` has run when the loop body ends.
    """

    def __init__(self, portal: Portal, source: Any) -> None:
        self._portal = portal
        self._source = source
        self._iterator: Any = source if hasattr(source, "__anext__") else None
        self._finished = False

    def send(self, value: Any) -> Any:
        if self._finished:
            raise StopIteration
        try:
            if value is None:
                item = self._portal.run(self._step())
            else:
                item = self._portal.run(self._iterator.asend(value))
        except StopAsyncIteration:
            self._finished = True
            raise StopIteration from None
        return self._portal.wrap(item)

    async def _step(self) -> Any:
        if self._iterator is None:
            self._iterator = self._source.__aiter__()
        return await self._iterator.__anext__()

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        error = typ if isinstance(typ, BaseException) else (typ() if val is None else val)
        athrow = getattr(self._iterator, "athrow", None)
        if athrow is None or self._finished:
            self._finished = True
            raise error
        try:
            item = self._portal.run(athrow(error))
        except StopAsyncIteration:
            self._finished = True
            raise StopIteration from None
        return self._portal.wrap(item)

    def close(self) -> None:
        if self._finished:
            return
        self._finished = True
        aclose = getattr(self._iterator, "aclose", None)
        if aclose is None:
            return
        if self._portal.on_loop_thread():
            # Collected on the loop's thread: waiting there would deadlock, so schedule it.
            self._portal.loop.create_task(aclose())
            return
        self._portal.run(aclose())

    def __del__(self) -> None:
        if not self._finished and self._portal._loop is not None:
            self.close()
