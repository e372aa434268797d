"""The filesystem reads only: every fsspec write refuses with :class:`ReadOnlyError`
before any request (rule FS-3). Writing through fsspec is a later question; outputs are
saved with ``TaskOutputStorage`` and ``JobOutputStorage``."""

from __future__ import annotations

import errno
from typing import Any, NoReturn

from conventions.errors import ConventionsError

from ._paths import PROTOCOL

__all__ = ["ReadOnlyError", "ReadOnlyMixin"]


class ReadOnlyError(ConventionsError, OSError):
    """The filesystem reads outputs only (``errno.EROFS``); save them with
    ``TaskOutputStorage`` or ``JobOutputStorage``.

    >>> print(ReadOnlyError("remove", "j/t1/$TaskOutput/a.csv"))
    [Errno 30] batchconv:// is read-only: cannot remove 'j/t1/$TaskOutput/a.csv'; ...
    """

    def __init__(self, operation: str, path: object) -> None:
        super().__init__(
            errno.EROFS,
            f"{PROTOCOL}:// is read-only: cannot {operation} {path!r}; save outputs with "
            "conventions.storage.TaskOutputStorage or JobOutputStorage",
        )


def _refuse(operation: str, path: object) -> NoReturn:
    raise ReadOnlyError(operation, path)


class ReadOnlyMixin:
    """fsspec's writing methods, each refusing. (``open`` for writing, ``pipe`` and
    ``put`` end in ``_open``/``pipe_file``/``put_file``; ``copy`` in ``cp_file``.) Some
    of fsspec's defaults would otherwise do nothing and return normally (``mkdir``)."""

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        _refuse("make folder", path)

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        _refuse("make folders", path)

    def rmdir(self, path: str) -> None:
        _refuse("remove folder", path)

    def rm_file(self, path: str) -> None:
        _refuse("remove", path)

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        _refuse("remove", path)

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        _refuse("copy to", path2)

    def mv(self, path1: Any, path2: Any, *args: Any, **kwargs: Any) -> None:
        _refuse("move", path1)

    def touch(self, path: str, truncate: bool = True, **kwargs: Any) -> None:
        _refuse("touch", path)

    def pipe_file(self, path: str, value: bytes, *args: Any, **kwargs: Any) -> None:
        _refuse("write", path)

    def put_file(self, lpath: Any, rpath: str, *args: Any, **kwargs: Any) -> None:
        _refuse("upload to", rpath)
