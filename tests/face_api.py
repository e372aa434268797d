"""Compare a sync class with its async twin (tests/test_faces_api.py; rules from issue 23).

For every public name of the sync class the async class has the same kind of attribute
(method, classmethod, staticmethod, property, data attribute), the same parameters (name, kind,
default; annotations differ by nature) and the async-ness the sync one implies:

- a name in the ``stays_sync`` table (constructors, pure naming helpers): plain in both;
- a sync method annotated to return an Iterator/Iterable/Generator: an async generator function,
  or a plain method annotated to return an AsyncIterator/AsyncIterable/AsyncGenerator;
- any other sync method (it does I/O): ``async def``;
- ``__enter__``/``__exit__``: ``__aenter__``/``__aexit__`` (``async def``).

``compare_classes`` returns every mismatch as one line, so that a test reports them all at once.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Collection
from typing import Any, cast, get_origin

__all__ = ["compare_callables", "compare_classes", "returns_iterator"]

_SYNC_ITERATORS = {"Iterator", "Iterable", "Generator"}
_ASYNC_ITERATORS = {"AsyncIterator", "AsyncIterable", "AsyncGenerator"}
_HEAD = re.compile(r"^\s*(?:[\w.]*\.)?(\w+)")


def _annotation_head(annotation: Any) -> str:
    """``Iterator`` for ``Iterator[int]``, ``"collections.abc.Iterator[int]"`` or the class."""
    if annotation is inspect.Signature.empty:
        return ""
    if isinstance(annotation, str):
        match = _HEAD.match(annotation)
        return match.group(1) if match else ""
    origin = get_origin(annotation) or annotation
    return str(getattr(origin, "__name__", ""))


def returns_iterator(function: Callable[..., Any], heads: Collection[str]) -> bool:
    try:
        annotation = inspect.signature(function).return_annotation
    except (TypeError, ValueError):
        return False
    return _annotation_head(annotation) in heads


def _is_coroutine_function(function: Any) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        inspect.unwrap(function)
    )


def _attribute_kind(cls: type, name: str) -> str:
    """How *name* is defined on *cls*: classmethod, staticmethod, method, property or data."""
    for klass in cls.__mro__:
        if name in vars(klass):
            raw = vars(klass)[name]
            break
    else:
        return "data" if _declares_field(cls, name) else "missing"
    if isinstance(raw, classmethod):
        return "classmethod"
    if isinstance(raw, staticmethod):
        return "staticmethod"
    if isinstance(raw, property):
        return "property"
    if inspect.isfunction(raw) or (inspect.ismethoddescriptor(raw) and callable(raw)):
        return "method"
    return "data"  # slots (member descriptors), class attributes, attrs fields


def _declares_field(cls: type, name: str) -> bool:
    """An instance attribute not visible on the class: annotated in the class body."""
    return any(name in getattr(klass, "__annotations__", {}) for klass in cls.__mro__)


def _public_names(cls: type) -> set[str]:
    names = {name for klass in cls.__mro__[:-1] for name in vars(klass)}
    names |= {name for klass in cls.__mro__[:-1] for name in getattr(klass, "__annotations__", {})}
    return {name for name in names if not name.startswith("_")}


def _parameters(function: Callable[..., Any]) -> list[tuple[str, str, Any]]:
    signature = inspect.signature(function)
    return [(p.name, p.kind.name, p.default) for p in signature.parameters.values()]


def _same_default(left: Any, right: Any) -> bool:
    if left is right:
        return True
    try:
        return bool(left == right) and type(left) is type(right)
    except Exception:  # noqa: BLE001 - an odd __eq__ is a difference, not a crash
        return False


#: Defaults that differ by design, by parameter name: (sync face's, async face's). Files at
#: once: threads are dear, tasks cheap (bench/README.md, "aio").
FACE_DEFAULTS: dict[str, tuple[Any, Any]] = {}


def compare_callables(where: str, sync: Any, aio: Any, *, async_expected: str) -> list[str]:
    """Mismatches between two callables. *async_expected*: ``"sync"``, ``"coroutine"``, or
    ``"async iterator"``."""
    problems = []
    try:
        left, right = _parameters(sync), _parameters(aio)
    except (TypeError, ValueError) as error:
        return [f"{where}: no signature to compare ({error})"]
    if [p[:2] for p in left] != [p[:2] for p in right]:
        problems.append(f"{where}: parameters {_show(left)} (sync) != {_show(right)} (aio)")
    else:
        for (name, _, default), (_, _, other) in zip(left, right, strict=True):
            if FACE_DEFAULTS.get(name) == (default, other):
                continue
            if not _same_default(default, other):
                problems.append(f"{where}: default of {name!r} is {other!r}, sync has {default!r}")
    is_coroutine = _is_coroutine_function(aio)
    is_async_gen = inspect.isasyncgenfunction(aio)
    if async_expected == "sync" and (is_coroutine or is_async_gen):
        problems.append(f"{where}: must stay a plain method (no I/O in the sync face), is async")
    elif async_expected == "coroutine" and (not is_coroutine or is_async_gen):
        problems.append(f"{where}: the sync method does I/O, so this must be `async def`")
    elif async_expected == "async iterator" and not (
        is_async_gen or (not is_coroutine and returns_iterator(aio, _ASYNC_ITERATORS))
    ):
        problems.append(
            f"{where}: the sync method returns an iterator, so this must be an async generator "
            "or a plain method returning an AsyncIterator (not `async def` returning one)"
        )
    return problems


def _show(parameters: list[tuple[str, str, Any]]) -> str:
    return "(" + ", ".join(f"{name}:{kind}" for name, kind, _ in parameters) + ")"


def _expected(name: str, sync_member: Any, stays_sync: Collection[str]) -> str:
    if name in stays_sync:
        return "sync"
    if returns_iterator(sync_member, _SYNC_ITERATORS):
        return "async iterator"
    return "coroutine"


def compare_classes(sync_cls: type, aio_cls: type, *, stays_sync: Collection[str]) -> list[str]:
    """Every way *aio_cls* differs from *sync_cls* (see the module docstring)."""
    where = aio_cls.__qualname__
    problems = []
    sync_names, aio_names = _public_names(sync_cls), _public_names(aio_cls)
    problems += [
        f"{where}.{n}: missing (the sync face has it)" for n in sorted(sync_names - aio_names)
    ]
    problems += [f"{where}.{n}: not in the sync face" for n in sorted(aio_names - sync_names)]
    problems += [
        f"{where}: {n!r} in the stays-sync table is not public"
        for n in sorted(set(stays_sync) - sync_names)
    ]
    for name in sorted(sync_names & aio_names):
        kind, aio_kind = _attribute_kind(sync_cls, name), _attribute_kind(aio_cls, name)
        if kind != aio_kind:
            problems.append(f"{where}.{name}: a {aio_kind}, the sync face has a {kind}")
        elif kind in ("method", "classmethod", "staticmethod"):
            sync_member, aio_member = getattr(sync_cls, name), getattr(aio_cls, name)
            expected = _expected(name, sync_member, stays_sync)
            problems += compare_callables(
                f"{where}.{name}", sync_member, aio_member, async_expected=expected
            )
    problems += compare_callables(
        f"{where}.__init__",
        cast(Any, sync_cls).__init__,
        cast(Any, aio_cls).__init__,
        async_expected="sync",
    )
    for enter, aenter in (("__enter__", "__aenter__"), ("__exit__", "__aexit__")):
        if hasattr(sync_cls, enter) and not _is_coroutine_function(getattr(aio_cls, aenter, None)):
            problems.append(f"{where}.{aenter}: missing or not `async def` (sync has {enter})")
    return problems
