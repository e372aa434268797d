"""The blocking portal (tests/faces.py) against toy async classes: no Azure needed.

The toys say they come from ``conventions.aio._toys`` so that the portal treats them as the
async face (wraps them in results); ``Value`` is a plain attrs value and must pass unwrapped.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import re
import subprocess
import sys
import threading
import time
import types
import warnings
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.face_fixtures import FACE_CLASSES, Face, async_face, sync_face
from tests.faces import Portal, PortalProblems, PortalTimeout, is_async_face

AIO = "conventions.aio._toys"


@attrs.frozen
class Value:
    n: int


class BoomError(Exception):
    pass


class Resource:
    """Warns like an unclosed socket when collected unclosed."""

    closed = False

    def __del__(self) -> None:
        if not self.closed:
            warnings.warn("unclosed toy resource", ResourceWarning, stacklevel=1)


class Toy:
    __module__ = AIO

    def __init__(self, name: str = "toy") -> None:
        self.name = name
        self.child_value = Value(1)
        self.events: list[tuple[str, int]] = []
        self.entered = 0
        self.exit_args: tuple[Any, ...] | None = None

    @classmethod
    def create(cls, name: str) -> Toy:  # a constructor: plain, no I/O
        return cls(name)

    def label(self, suffix: str) -> str:  # a no-I/O method
        return f"{self.name}{suffix}"

    async def double(self, n: int) -> int:
        self.events.append(("double", threading.get_ident()))
        await asyncio.sleep(0)
        return 2 * n

    async def child(self) -> Toy:
        return Toy(f"{self.name}.child")

    async def children(self, n: int) -> list[Toy]:
        return [Toy(f"{self.name}.{i}") for i in range(n)]

    async def values(self, n: int) -> list[Value]:
        return [Value(i) for i in range(n)]

    async def value_pair(self) -> tuple[Value, Path, bytes]:
        return Value(1), Path("a"), b"x"

    async def fail(self, error: BaseException) -> None:
        await asyncio.sleep(0)
        raise error

    async def count(self, n: int) -> AsyncIterator[Toy]:
        try:
            for i in range(n):
                await asyncio.sleep(0)
                self.events.append(("yield", threading.get_ident()))
                yield Toy(f"{self.name}.{i}")
        finally:
            await asyncio.sleep(0)  # an await in finally: only possible on the loop
            self.events.append(("finally", threading.get_ident()))

    def counter(self, n: int) -> Counter:  # a plain method returning an async iterator
        return Counter(n)

    async def block(self, seconds: float) -> None:
        time.sleep(seconds)  # the mistake the portal must catch

    async def burn(self, seconds: float) -> None:
        started = time.thread_time()  # CPU work on the loop, however loaded the machine
        while time.thread_time() - started < seconds:
            sum(range(1000))

    async def touch(self, path: str) -> None:
        with open(path, "w"):  # file work on the loop: another mistake to catch
            pass

    async def leave_task(self) -> None:
        asyncio.get_running_loop().create_task(asyncio.sleep(60), name="forgotten")

    async def leave_resource(self) -> None:
        resource = Resource()
        resource.cycle = resource  # type: ignore[attr-defined]  # only gc.collect() finds it

    async def lose_exception(self) -> None:
        async def failing() -> None:
            raise BoomError("nobody awaited me")

        task = asyncio.get_running_loop().create_task(failing())
        await asyncio.sleep(0.01)
        assert task.done()
        del task

    async def __aenter__(self) -> Toy:
        self.entered += 1
        return self

    async def __aexit__(self, *exc_info: Any) -> bool:
        self.exit_args = exc_info
        return isinstance(exc_info[1], BoomError) and "swallow" in str(exc_info[1])


class Counter:
    __module__ = AIO

    def __init__(self, n: int) -> None:
        self.left = n

    def __aiter__(self) -> Counter:
        return self

    async def __anext__(self) -> int:
        if self.left == 0:
            raise StopAsyncIteration
        self.left -= 1
        return self.left


@pytest.fixture(scope="module")
def shared() -> Iterator[Portal]:
    with Portal() as portal:
        yield portal


@pytest.fixture
def portal(shared: Portal) -> Iterator[Portal]:
    """Shadows conftest's: the toys' portal, checked around each test."""
    with shared.checking():
        yield shared


@pytest.fixture
def toy(portal: Portal) -> Any:
    return portal.wrap(Toy)("toy")


def loop_thread(portal: Portal) -> int:
    return portal.run(_thread_id())


async def _thread_id() -> int:
    return threading.get_ident()


# -- calls and results ---------------------------------------------------------------------------


def test_the_loop_runs_in_debug_mode_with_a_low_cpu_limit(portal: Portal) -> None:
    assert portal.loop.get_debug()
    assert portal.slow_callback_duration == 0.1
    assert loop_thread(portal) != threading.get_ident()


def test_a_coroutine_method_runs_on_the_loop(portal: Portal, toy: Any) -> None:
    assert toy.double(21) == 42
    target = object.__getattribute__(toy, "_target")
    assert target.events == [("double", loop_thread(portal))]


def test_plain_methods_and_constructors_through_a_wrapped_class(portal: Portal) -> None:
    made = portal.wrap(Toy).create("made")
    assert is_async_face(object.__getattribute__(made, "_target"))
    assert made.label("!") == "made!"
    assert made.name == "made"
    assert made.double(2) == 4


def test_async_face_results_are_wrapped_plain_values_are_not(toy: Any) -> None:
    child = toy.child()
    assert child.double(1) == 2
    assert child.label("") == "toy.child"
    children = toy.children(3)
    assert type(children) is list
    assert [c.double(5) for c in children] == [10, 10, 10]
    assert [c.name for c in children] == ["toy.0", "toy.1", "toy.2"]
    values = toy.values(2)
    assert values == [Value(0), Value(1)]
    assert all(type(v) is Value for v in values)
    assert toy.value_pair() == (Value(1), Path("a"), b"x")
    assert type(toy.child_value) is Value


def test_wrapped_objects_passed_back_are_unwrapped(portal: Portal, toy: Any) -> None:
    async def names(toys: list[Toy], one: Toy) -> list[str]:
        assert all(type(t) is Toy for t in [*toys, one])
        return [t.name for t in [*toys, one]]

    assert portal.call(names, toy.children(2), one=toy) == ["toy.0", "toy.1", "toy"]


@pytest.mark.parametrize(
    "error",
    [
        BoomError("x"),
        TimeoutError("the library's own"),
        asyncio.CancelledError("inner"),
        KeyError(1),
    ],
    ids=lambda e: type(e).__name__,
)
def test_exceptions_arrive_as_the_same_object(toy: Any, error: BaseException) -> None:
    with pytest.raises(type(error)) as raised:
        toy.fail(error)
    assert raised.value is error


def test_a_wait_past_the_limit_raises_portal_timeout_and_cancels(portal: Portal) -> None:
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(PortalTimeout, match=r"forever\(\) did not finish within 0.2 s"):
        portal.run(forever(), timeout=0.2)
    assert cancelled.wait(5)
    assert not isinstance(PortalTimeout(), TimeoutError)


def test_running_the_portal_from_its_own_loop_is_refused(portal: Portal, toy: Any) -> None:
    async def inside() -> None:
        portal.run(asyncio.sleep(0))

    with pytest.raises(RuntimeError, match="own loop thread"):
        portal.run(inside())
    with pytest.raises(TypeError, match="pass a list"):
        portal.call(Toy.children, toy, toy.count(1))


# -- async iterators -----------------------------------------------------------------------------


def test_an_async_generator_becomes_a_sync_generator(portal: Portal, toy: Any) -> None:
    numbers = toy.count(3)
    assert isinstance(numbers, Generator)
    assert [t.label("") for t in numbers] == ["toy.0", "toy.1", "toy.2"]
    events = object.__getattribute__(toy, "_target").events
    assert events == [("yield", loop_thread(portal))] * 3 + [("finally", loop_thread(portal))]


def test_an_early_break_closes_the_async_generator_on_the_loop(portal: Portal, toy: Any) -> None:
    events = object.__getattribute__(toy, "_target").events
    for _ in toy.count(10):
        break
    # As with a sync generator in CPython: closed when the loop drops it, before this line
    # (not later by asyncio's own finalizer hook: copy the events before using the loop again).
    after_break = list(events)
    assert after_break == [("yield", loop_thread(portal)), ("finally", loop_thread(portal))]


def test_close_closes_and_ends_the_generator(toy: Any) -> None:
    events = object.__getattribute__(toy, "_target").events
    numbers = toy.count(10)
    next(numbers)
    numbers.close()
    assert events[-1][0] == "finally"
    assert list(numbers) == []
    numbers.close()  # again: nothing
    assert [e for e, _ in events] == ["yield", "finally"]


def test_an_async_iterator_that_is_not_a_generator(toy: Any) -> None:
    assert list(toy.counter(3)) == [2, 1, 0]
    counter = toy.counter(5)
    assert next(counter) == 4
    counter.close()  # nothing to close on the loop: it just ends
    assert list(counter) == []


@given(
    lengths=st.lists(st.integers(0, 6), min_size=1, max_size=5),
    breaks=st.lists(st.one_of(st.none(), st.integers(0, 6)), min_size=5, max_size=5),
)
def test_any_mix_of_full_runs_and_early_breaks(
    shared: Portal, lengths: list[int], breaks: list[int | None]
) -> None:
    with shared.checking():
        toy = shared.wrap(Toy)("h")
        target = object.__getattribute__(toy, "_target")
        for n, stop in zip(lengths, breaks, strict=False):
            target.events.clear()
            seen: list[str] = []
            for item in toy.count(n):
                if stop is not None and len(seen) == stop:
                    break
                seen.append(item.name)
            taken = n if stop is None else min(n, stop)
            assert seen == [f"h.{i}" for i in range(taken)]
            # Each run's finally ran exactly once, on the loop, before the next statement.
            steps = taken if stop is None or stop >= n else taken + 1
            assert [e for e, _ in target.events] == ["yield"] * steps + ["finally"]
            assert {t for _, t in target.events} == {loop_thread(shared)}


# -- context managers ----------------------------------------------------------------------------


def test_an_async_context_manager_works_in_a_with_block(toy: Any) -> None:
    target = object.__getattribute__(toy, "_target")
    with toy as entered:
        assert entered is toy
        assert target.entered == 1
    assert target.exit_args == (None, None, None)


def test_the_exception_reaches_aexit_and_propagates_unless_swallowed(toy: Any) -> None:
    target = object.__getattribute__(toy, "_target")
    error = BoomError("out")
    with pytest.raises(BoomError) as raised, toy:
        raise error
    assert raised.value is error
    assert target.exit_args is not None
    assert target.exit_args[:2] == (BoomError, error)
    with toy:
        raise BoomError("swallow it")


# -- what the check catches ----------------------------------------------------------------------


@pytest.fixture
def fresh() -> Iterator[Portal]:
    """A portal of its own, for the tests that misuse it on purpose."""
    with Portal() as portal:
        yield portal


def test_a_clean_block_passes_the_check(fresh: Portal) -> None:
    toy = fresh.wrap(Toy)("clean")
    with fresh.checking():
        assert toy.double(1) == 2
        with toy:
            list(toy.count(2))
    assert not fresh.take_problems()


def test_a_blocking_call_on_the_loop_is_reported(fresh: Portal, tmp_path: Path) -> None:
    toy = fresh.wrap(Toy)("slow")
    toy.block(0.02)  # any sleep on the loop holds it, however short
    problems = fresh.take_problems()
    assert len(problems.slow_callbacks) == 1, problems.describe()
    assert "time.sleep(0.02" in problems.slow_callbacks[0]
    toy.touch(str(tmp_path / "f"))
    problems = fresh.take_problems()
    assert len(problems.slow_callbacks) == 1, problems.describe()
    assert problems.slow_callbacks[0].startswith("a blocking call on the loop: open(")
    assert not fresh.take_problems()


def test_cpu_work_on_the_loop_is_reported_over_the_limit_only(fresh: Portal) -> None:
    toy = fresh.wrap(Toy)("busy")
    toy.burn(0.3)
    problems = fresh.take_problems()
    assert len(problems.slow_callbacks) == 1, problems.describe()
    assert "Toy.burn()" in problems.slow_callbacks[0]
    assert float(problems.slow_callbacks[0].split(" s of CPU", 1)[0]) >= 0.3
    toy.burn(0.02)  # under the limit: not reported
    assert not fresh.take_problems()


def test_the_check_fails_on_a_blocking_call(fresh: Portal) -> None:
    toy = fresh.wrap(Toy)("slow")
    with (
        pytest.raises(PortalProblems, match=r"(?s)blocked the event loop.*time\.sleep"),
        fresh.checking("the toy test"),
    ):
        toy.block(0.3)
    assert not fresh.take_problems()


def test_the_check_fails_on_a_task_left_pending(fresh: Portal) -> None:
    toy = fresh.wrap(Toy)("leaky")
    with pytest.raises(PortalProblems, match=r"(?s)still pending.*forgotten"), fresh.checking():
        toy.leave_task()
    assert not fresh.take_problems(), "the pending task was not cancelled"


def test_the_check_fails_on_a_resource_warning(fresh: Portal) -> None:
    toy = fresh.wrap(Toy)("leaky")
    with (
        pytest.raises(PortalProblems, match=r"(?s)ResourceWarning.*unclosed toy resource"),
        fresh.checking(),
    ):
        toy.leave_resource()


def test_aiohttps_large_body_advice_is_not_a_leak(fresh: Portal) -> None:
    async def advise() -> None:
        warnings.warn(
            "Sending a large body directly with raw bytes might lock the event loop. "
            "You should probably pass an io.BytesIO object instead",
            ResourceWarning,
            stacklevel=1,
        )

    with pytest.warns(ResourceWarning, match="large body"), fresh.checking():
        fresh.run(advise())
    assert not fresh.take_problems()


def test_the_check_fails_on_an_unclosed_aiohttp_session(fresh: Portal) -> None:
    aiohttp = pytest.importorskip("aiohttp")

    async def open_session() -> None:
        aiohttp.ClientSession()

    with (
        pytest.raises(PortalProblems, match=r"(?s)Unclosed client session.*ResourceWarning"),
        fresh.checking(),
    ):
        fresh.run(open_session())


def test_the_check_fails_on_an_error_the_loop_reports(fresh: Portal) -> None:
    toy = fresh.wrap(Toy)("lossy")
    with (
        pytest.raises(PortalProblems, match=r"(?s)reported by the event loop.*nobody awaited"),
        fresh.checking(),
    ):
        toy.lose_exception()


def test_problems_from_before_the_block_are_not_dropped(fresh: Portal) -> None:
    fresh.wrap(Toy)("early").block(0.3)
    with (
        pytest.raises(PortalProblems, match="before the next test started"),
        fresh.checking("the next test"),
    ):
        pass


def test_other_warnings_still_reach_pytest(fresh: Portal) -> None:
    with pytest.warns(UserWarning, match="keep me"), fresh.checking():
        warnings.warn("keep me", UserWarning, stacklevel=1)


def test_a_failing_block_still_cleans_up(fresh: Portal) -> None:
    toy = fresh.wrap(Toy)("leaky")

    def leave_and_fail() -> None:
        toy.leave_task()
        raise BoomError("the test's own failure wins")

    with pytest.raises(BoomError), fresh.checking():
        leave_and_fail()
    gc.collect()
    assert not fresh.take_problems()


# -- the face fixture ----------------------------------------------------------------------------


def test_the_sync_face_is_the_modules_themselves() -> None:
    from conventions import references, storage

    face = sync_face()
    assert face.TaskOutputStorage is storage.TaskOutputStorage
    assert face.JobOutputStorage is storage.JobOutputStorage
    assert face.OutputFileReference is references.OutputFileReference
    assert face.DownloadSummary is storage.DownloadSummary
    assert not face.is_async
    with pytest.raises(AttributeError, match="sync face has no 'nothing'"):
        _ = face.nothing


def test_the_async_face_wraps_the_aio_classes_and_shares_the_values(fresh: Portal) -> None:
    from conventions import storage

    fake_aio = types.SimpleNamespace(**dict.fromkeys(FACE_CLASSES, Toy))
    face = async_face(fake_aio, fresh)
    assert face.is_async
    made = face.TaskOutputStorage.create("t")
    assert made.double(4) == 8
    assert face.DownloadSummary is storage.DownloadSummary


def test_every_face_has_the_public_names(face: Face) -> None:
    from conventions import references, storage

    for name in [*storage.__all__, *references.__all__]:
        assert getattr(face, name) is not None, name
    assert callable(face.TaskOutputStorage.from_connection_string)


def test_a_disabled_asyncio_logger_does_not_blind_the_check(fresh: Portal) -> None:
    logger = logging.getLogger("asyncio")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        fresh.wrap(Toy)("slow").block(0.01)
        problems = fresh.take_problems()
    finally:
        logger.setLevel(level)
    assert problems.slow_callbacks
    assert not fresh.take_problems()


# -- the fixtures, in a pytest run of their own --------------------------------------------------

_FAKE_AIO = """
import importlib.machinery, sys, time, types
from tests.face_fixtures import face, portal, portal_session  # noqa: F401

class Storage:
    __module__ = "conventions.aio._fake"

    @classmethod
    def from_connection_string(cls, connection_string):
        return cls()

    async def save_text(self, text):
        if text == "block":
            time.sleep(0.3)
        return text

aio = types.ModuleType("conventions.aio")
aio.__spec__ = importlib.machinery.ModuleSpec("conventions.aio", None)
aio.TaskOutputStorage = aio.JobOutputStorage = aio.OutputFileReference = Storage
aio.__all__ = ["TaskOutputStorage", "JobOutputStorage", "OutputFileReference"]
if "{mode}" == "broken":
    aio.__spec__ = importlib.machinery.ModuleSpec("conventions.aio", None)
    sys.modules.pop("conventions.aio", None)
    class Broken(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "conventions.aio":
                return importlib.machinery.ModuleSpec(name, self)
        def create_module(self, spec):
            raise ImportError("cannot import name 'Nope' from 'conventions._aio_core'")
        def exec_module(self, module):
            pass
    import importlib.abc
    sys.meta_path.insert(0, Broken())
else:
    sys.modules["conventions.aio"] = aio
"""

_INNER_TESTS = """
def test_fine(face):
    if face.is_async:
        assert face.TaskOutputStorage.from_connection_string("cs").save_text("hi") == "hi"

def test_blocks(face):
    if face.is_async:
        face.TaskOutputStorage.from_connection_string("cs").save_text("block")
"""


def _run_inner(tmp_path: Path, mode: str) -> str:
    (tmp_path / "conftest.py").write_text(_FAKE_AIO.replace("{mode}", mode))
    (tmp_path / "test_inner.py").write_text(_INNER_TESTS)
    repo = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rEfs",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(repo)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.stdout + result.stderr


def test_once_conventions_aio_exists_the_async_face_runs_and_is_checked(tmp_path: Path) -> None:
    output = _run_inner(tmp_path, "present")
    assert re.search(r"\b4 passed, 1 error\b", output), output
    assert re.search(r"ERROR .*test_blocks\[async\]", output), output
    assert "misused the async face" in output, output
    assert "Storage.save_text()" in output, output


def test_a_conventions_aio_that_does_not_import_fails_the_async_face(tmp_path: Path) -> None:
    output = _run_inner(tmp_path, "broken")
    assert re.search(r"\b2 passed, 2 errors\b", output), output
    assert "conventions.aio exists but does not import" in output, output
    assert "cannot import name 'Nope'" in output, output
