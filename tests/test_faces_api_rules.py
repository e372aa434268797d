"""The API comparison (tests/face_api.py) on toy twins: it passes a faithful twin and reports
every injected difference, all at once. Runs whether or not ``conventions.aio`` exists."""

from __future__ import annotations

import collections.abc
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from tests.face_api import compare_classes


class SyncToy:
    size: int

    def __init__(self, client: object, *, owns: bool = True) -> None:
        self.client = client

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 5.0) -> SyncToy:
        return cls(url)

    @property
    def url(self) -> str:
        return ""

    def name_of(self, path: str) -> str:
        return path

    def save(self, data: bytes, *, overwrite: bool = False) -> str:
        return ""

    def save_bytes(self, data: bytes) -> str:
        return ""

    def delete(self, *, force: bool = False) -> None:
        pass

    def rename(self, old: str, *, new: str) -> None:
        pass

    def list_all(self) -> Iterator[str]:
        return iter(())

    def walk(self) -> Generator[str, None, None]:
        yield ""

    def close(self) -> None:
        pass

    def __enter__(self) -> SyncToy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


STAYS_SYNC = {"from_url", "name_of"}


def _faithful() -> dict[str, Any]:
    """The namespace of a faithful async twin of SyncToy."""

    def init(self: Any, client: object, *, owns: bool = True) -> None:
        self.client = client

    def from_url(cls: Any, url: str, *, timeout: float = 5.0) -> Any:
        return cls(url)

    def url(self: Any) -> str:
        return ""

    def name_of(self: Any, path: str) -> str:
        return path

    async def save(self: Any, data: bytes, *, overwrite: bool = False) -> str:
        return ""

    async def save_bytes(self: Any, data: bytes) -> str:
        return ""

    async def delete(self: Any, *, force: bool = False) -> None:
        pass

    async def rename(self: Any, old: str, *, new: str) -> None:
        pass

    async def list_all(self: Any) -> AsyncIterator[str]:  # an async generator
        yield ""

    def walk(self: Any) -> AsyncIterator[str]:  # a plain method returning one
        return self.list_all()  # type: ignore[no-any-return]

    async def close(self: Any) -> None:
        pass

    async def aenter(self: Any) -> Any:
        return self

    async def aexit(self: Any, *exc_info: object) -> None:
        pass

    return {
        "__annotations__": {"size": "int"},
        "__init__": init,
        "from_url": classmethod(from_url),
        "url": property(url),
        "name_of": name_of,
        "save": save,
        "save_bytes": save_bytes,
        "delete": delete,
        "rename": rename,
        "list_all": list_all,
        "walk": walk,
        "close": close,
        "__aenter__": aenter,
        "__aexit__": aexit,
    }


def _plain(self: Any, *args: Any, **kwargs: Any) -> None:
    pass


async def _awaitable_list(self: Any) -> list[str]:
    return []


async def _async_name_of(self: Any, path: str) -> str:
    return path


def _sync_close(self: Any) -> None:
    pass


def _sync_walk(self: Any) -> Iterator[str]:
    return iter(())


async def _save_payload(self: Any, payload: bytes, *, overwrite: bool = False) -> str:
    return ""


async def _delete_forced(self: Any, *, force: bool = True) -> None:
    pass


async def _rename_positional(self: Any, old: str, new: str) -> None:
    pass


def _from_url_static(url: str, *, timeout: float = 5.0) -> None:
    pass


async def _async_from_url(cls: Any, url: str, *, timeout: float = 5.0) -> None:
    pass


@attrs.frozen
class Defect:
    """One change to the faithful twin, and what the comparison must say about it."""

    name: str
    apply: Callable[[dict[str, Any]], None]
    says: str


DEFECTS = [
    Defect("missing", lambda ns: ns.pop("save_bytes"), "AioToy.save_bytes: missing"),
    Defect("extra", lambda ns: ns.update(bonus=_plain), "AioToy.bonus: not in the sync face"),
    Defect(
        "parameter name",
        lambda ns: ns.update(save=_save_payload),
        "AioToy.save: parameters (self:POSITIONAL_OR_KEYWORD, data:",
    ),
    Defect(
        "default",
        lambda ns: ns.update(delete=_delete_forced),
        "AioToy.delete: default of 'force' is True, sync has False",
    ),
    Defect(
        "parameter kind",
        lambda ns: ns.update(rename=_rename_positional),
        "AioToy.rename: parameters",
    ),
    Defect(
        "I/O not async",
        lambda ns: ns.update(close=_sync_close),
        "AioToy.close: the sync method does I/O, so this must be `async def`",
    ),
    Defect(
        "no-I/O made async",
        lambda ns: ns.update(name_of=_async_name_of),
        "AioToy.name_of: must stay a plain method",
    ),
    Defect(
        "constructor made async",
        lambda ns: ns.update(from_url=classmethod(_async_from_url)),
        "AioToy.from_url: must stay a plain method",
    ),
    Defect(
        "iterator awaited",
        lambda ns: ns.update(list_all=_awaitable_list),
        "AioToy.list_all: the sync method returns an iterator",
    ),
    Defect(
        "iterator left sync",
        lambda ns: ns.update(walk=_sync_walk),
        "AioToy.walk: the sync method returns an iterator",
    ),
    Defect(
        "property made a method",
        lambda ns: ns.update(url=_plain),
        "AioToy.url: a method, the sync face has a property",
    ),
    Defect(
        "classmethod made static",
        lambda ns: ns.update(from_url=staticmethod(_from_url_static)),
        "AioToy.from_url: a staticmethod, the sync face has a classmethod",
    ),
    Defect("no __aenter__", lambda ns: ns.pop("__aenter__"), "AioToy.__aenter__: missing"),
    Defect(
        "field missing",
        lambda ns: ns.update(__annotations__={}),
        "AioToy.size: missing",
    ),
]


def _twin(defects: list[Defect]) -> type:
    namespace = _faithful()
    for defect in defects:
        defect.apply(namespace)
    return type("AioToy", (), namespace)


def test_a_faithful_twin_passes() -> None:
    assert compare_classes(SyncToy, _twin([]), stays_sync=STAYS_SYNC) == []


def test_a_sync_class_is_not_its_own_async_twin() -> None:
    """A sync class is not its own async twin: every I/O method is reported."""
    problems = compare_classes(SyncToy, SyncToy, stays_sync=STAYS_SYNC)
    reported = {line.split(":")[0] for line in problems}
    assert reported == {
        f"SyncToy.{name}"
        for name in (
            "save",
            "save_bytes",
            "delete",
            "rename",
            "list_all",
            "walk",
            "close",
            "__aenter__",
            "__aexit__",
        )
    }


def test_a_stays_sync_name_that_is_not_public_is_reported() -> None:
    problems = compare_classes(SyncToy, _twin([]), stays_sync={*STAYS_SYNC, "nothing"})
    assert problems == ["AioToy: 'nothing' in the stays-sync table is not public"]


@given(st.lists(st.sampled_from(DEFECTS), unique_by=lambda d: d.says.split(":")[0]))
def test_every_difference_is_reported_at_once(defects: list[Defect]) -> None:
    problems = compare_classes(SyncToy, _twin(defects), stays_sync=STAYS_SYNC)
    assert len(problems) == len(defects), problems
    for defect in defects:
        assert any(line.startswith(defect.says) for line in problems), (defect.name, problems)


def test_annotations_as_types_are_read_too() -> None:
    class Typed:
        def items(self) -> collections.abc.Iterator[int]:
            return iter(())

    class AioTyped:
        def items(self) -> collections.abc.AsyncIterator[int]:
            raise NotImplementedError

    Typed.items.__annotations__["return"] = collections.abc.Iterator[int]
    AioTyped.items.__annotations__["return"] = collections.abc.AsyncIterator[int]
    assert compare_classes(Typed, AioTyped, stays_sync=()) == []
    AioTyped.items.__annotations__["return"] = collections.abc.Iterator[int]
    assert len(compare_classes(Typed, AioTyped, stays_sync=())) == 1
