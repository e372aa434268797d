"""Local file I/O that another process cannot redirect: downloads written below a directory
file descriptor, save sources opened without blocking, globs that never loop.

Containment (spec/README.md, "Local files"): a download opens its destination once, then
every directory below it one level at a time with ``openat(O_DIRECTORY | O_NOFOLLOW)``
relative to its parent's descriptor, creates a missing one with ``mkdirat``, writes a
temporary file with ``O_CREAT | O_EXCL | O_NOFOLLOW`` in the target's own directory and
renames it with ``renameat`` in that same directory. A symbolic link inside the
destination is never followed, whoever puts it there and whenever: the check and the use
are one system call. The destination itself, and the directories of a
``download_to_file`` target, are the caller's own path and are followed as given.

Platforms without ``dir_fd`` support (Windows) fall back to paths: each level is checked
with ``lstat`` before use, which refuses static symlinks but is not race-free.

The decisions (where a file goes, which names are too long, which source is readable) are
in the pure ``conventions.local_paths``; this module only does the system calls.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import functools
import glob
import hashlib
import io
import logging
import os
import secrets
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO

import attrs

from .errors import ConventionsError, LocalPathError
from .local_paths import not_a_regular_file
from .temporary_files import is_stale, temporary_name

_log = logging.getLogger("conventions")

__all__ = ["Destination", "ExistingFile", "Place", "iter_glob", "open_source"]

#: True where every call containment needs takes ``dir_fd`` (Linux, macOS, the BSDs).
HAS_DIR_FD = (
    {os.open, os.mkdir, os.rename, os.unlink, os.stat} <= os.supports_dir_fd
    and hasattr(os, "O_NOFOLLOW")
    and hasattr(os, "O_DIRECTORY")
)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_BUFFER = io.DEFAULT_BUFFER_SIZE


def _describe(error: OSError, what: str) -> str:
    if error.errno in (errno.ELOOP, errno.EMLINK):
        return f"{what} is a symbolic link inside the destination; downloads never follow one"
    if error.errno == errno.ENOTDIR:
        return f"{what} is not a directory"
    if error.errno == errno.EISDIR:
        return f"{what} is a directory"
    if error.errno == errno.ENAMETOOLONG:
        return f"{what} is too long a name for the local file system"
    return f"{what}: {error.strerror or error}"


class Destination:
    """A local directory that downloads write into, opened once (a context manager).

    ``write(parts, fill, blob=...)`` writes the file ``root/parts...`` atomically: *fill*
    gets the open temporary file and returns the bytes it wrote. Thread-safe: each call
    opens its own directory descriptors (one ``openat`` per level; ``mkdirat`` only for a
    missing one), so nothing is shared but the root's descriptor.
    """

    def __init__(self, root: str | os.PathLike[str], *, dir_fd: bool = HAS_DIR_FD) -> None:
        self.path = os.fspath(root)
        self._fd: int | None = None
        self._making = threading.Lock()
        # Directories (by their parts below the root) already cleared of stale temporary
        # files: each is looked at once per destination, not once per file.
        self._swept: set[tuple[str, ...]] = set()
        #: Directories this destination created below its root (each once).
        self.directories_made = 0
        try:
            os.makedirs(self.path, exist_ok=True)
            if dir_fd:
                self._fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
            elif not os.path.isdir(self.path):
                raise NotADirectoryError(errno.ENOTDIR, "not a directory", self.path)
        except OSError as error:
            raise LocalPathError(
                f"cannot download into {self.path!r}: {error.strerror or error}",
                path=self.path,
                errno=error.errno,
            ) from error

    def close(self) -> None:
        """Close the root's descriptor."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Destination:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(
        self, parts: tuple[str, ...], fill: Callable[[IO[bytes]], int], *, blob: str
    ) -> int:
        """Write ``root/parts...`` from *fill*; return what *fill* returned.

        Raises:
            LocalPathError: a directory or the target cannot be made (a symlink or a file
                in the way, a name too long...); nothing is left behind.
            whatever *fill* raises, after the temporary file is removed.
        """
        written = self._write(parts, fill, blob, None)
        assert written is not None  # nothing to keep without *keep*
        return written

    def write_unless(
        self,
        parts: tuple[str, ...],
        fill: Callable[[IO[bytes]], int],
        *,
        blob: str,
        keep: Callable[[ExistingFile | None], bool],
    ) -> int | None:
        """:meth:`write`, unless *keep* answers ``True``: it is asked first, in the
        target's own directory (one walk for both), with the regular file already there
        (``None`` if there is none, or it is not a regular file); then nothing is
        written and ``None`` is returned. Missing directories are made before it is
        asked. Raises as :meth:`write`.
        """
        return self._write(parts, fill, blob, keep)

    def _write(
        self,
        parts: tuple[str, ...],
        fill: Callable[[IO[bytes]], int],
        blob: str,
        keep: Callable[[ExistingFile | None], bool] | None,
    ) -> int | None:
        # Without *keep*, no lstat of the target: nothing would read it.
        with self.writing(parts, blob=blob) as place:
            if keep is not None and keep(place.existing()):
                return None
            file = place.open()
            try:
                written = fill(file)
                place.commit(file)
            except BaseException:
                place.discard(file)
                raise
            return written

    @contextlib.contextmanager
    def writing(self, parts: tuple[str, ...], *, blob: str) -> Iterator[Place]:
        """The write of ``root/parts...`` as explicit steps: the directories are walked
        to (made where missing, swept of stale temporary files) and the :class:`Place`
        yielded; its steps are :meth:`Place.existing`, :meth:`Place.open`, then
        :meth:`Place.commit` or :meth:`Place.discard`. The directory is closed at the end.

        Raises:
            LocalPathError: for any ``OSError`` in the walk or in the body (a symlink or a
                file in the way, a name too long, a failed write...), naming *blob* and
                the target; the library's own errors pass as they are.
        """
        where = os.path.join(self.path, *parts)
        try:
            place = self._place(parts, blob, where)
            try:
                yield place
            finally:
                place.close()
        except OSError as error:
            if isinstance(error, ConventionsError):
                raise  # AccessDeniedError is a PermissionError too: not a local error
            raise LocalPathError(
                f"blob {blob!r} cannot be written to {where!r}: "
                + _describe(error, repr(error.filename or where)),
                path=where,
                blob=blob,
                errno=error.errno,
            ) from error

    def _place(self, parts: tuple[str, ...], blob: str, where: str) -> Place:
        if self._fd is None:
            return Place(self._walk_by_path(parts[:-1]), parts[-1], None)
        directory = self._open_directories(parts[:-1], blob, where)
        try:
            if parts[:-1] not in self._swept:
                self._swept.add(parts[:-1])
                remove_stale_temporary_files(directory)
        except BaseException:
            os.close(directory)
            raise
        return Place(None, parts[-1], directory)

    def _make_directory(self, name: str, parent: int, flags: int) -> int:
        # One thread makes a missing directory; the others, waiting here, open it: each
        # directory is made once, not once per file racing for it (issue 14).
        with self._making:
            try:
                return os.open(name, flags, dir_fd=parent)
            except FileNotFoundError:
                with contextlib.suppress(FileExistsError):  # another process made it
                    os.mkdir(name, dir_fd=parent)
                    self.directories_made += 1
                return os.open(name, flags, dir_fd=parent)

    def _open_directories(self, parts: tuple[str, ...], blob: str, where: str) -> int:
        assert self._fd is not None
        if not parts:
            return os.dup(self._fd)  # the caller closes what it gets
        # The root's descriptor is not duplicated for the walk: only the levels below it
        # are opened and closed (each system call costs a GIL hand-off at c = 8).
        current = self._fd
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
        for depth, name in enumerate(parts):
            try:
                try:
                    child = os.open(name, flags, dir_fd=current)
                except FileNotFoundError:
                    child = self._make_directory(name, current, flags)
            except OSError as error:
                folder = os.path.join(self.path, *parts[: depth + 1])
                if error.errno in (errno.ENOTDIR, errno.ELOOP):
                    with contextlib.suppress(OSError):
                        mode = os.stat(name, dir_fd=current, follow_symlinks=False).st_mode
                        if stat.S_ISLNK(mode):
                            error.errno = errno.ELOOP
                if current != self._fd:
                    os.close(current)
                raise LocalPathError(
                    f"blob {blob!r} cannot be written to {where!r}: "
                    + _describe(error, repr(folder)),
                    path=where,
                    blob=blob,
                    errno=error.errno,
                ) from error
            if current != self._fd:
                os.close(current)
            current = child
        return current

    def _walk_by_path(self, parts: tuple[str, ...]) -> str:
        # Fallback without dir_fd: check each level with lstat, then use it (not race-free).
        current = self.path
        for name in parts:
            current = os.path.join(current, name)
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                with self._making, contextlib.suppress(FileExistsError):
                    os.mkdir(current)
                    self.directories_made += 1
                mode = os.lstat(current).st_mode
            if stat.S_ISLNK(mode):
                raise OSError(errno.ELOOP, "symbolic link", current)
            if not stat.S_ISDIR(mode):
                raise NotADirectoryError(errno.ENOTDIR, "not a directory", current)
        return current


class Place:
    """One target of a :class:`Destination` (from :meth:`Destination.writing`), its
    directory open: the steps of writing it atomically. :meth:`open` creates a temporary
    file beside the target (never through a symlink); :meth:`commit` closes it and renames
    it onto the target; :meth:`discard` closes and removes it.

    *directory* is the directory's descriptor (``openat`` and friends), or ``None`` on a
    platform without ``dir_fd``; then *path* is the directory's path.
    """

    def __init__(self, path: str | None, name: str, directory: int | None) -> None:
        self._path = path
        self._name = name
        self._directory = directory
        self._temp = ""

    def existing(self) -> ExistingFile | None:
        """The regular file already at the target (``lstat``), or ``None``."""
        if self._directory is None:
            assert self._path is not None
            return _existing(os.path.join(self._path, self._name), None)
        return _existing(self._name, self._directory)

    def open(self) -> IO[bytes]:
        """Create the temporary file and open it for writing."""
        # Read-write: a parallel download's MD5 reads back chunks written past a gap.
        if self._directory is None:
            assert self._path is not None
            self._temp = os.path.join(self._path, _temp_name(self._name))
            flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | _BINARY
            handle = os.open(self._temp, flags, 0o666)
            try:
                return os.fdopen(handle, "wb")
            except BaseException:
                self._remove()
                raise
        self._temp = _temp_name(self._name)
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC | _BINARY
        # 0o666 under the umask: the mode a plain open() gives.
        handle = os.open(self._temp, flags, 0o666, dir_fd=self._directory)
        try:
            # An explicit buffer size: io.open then skips its isatty() system call.
            return os.fdopen(handle, "wb", buffering=_BUFFER)
        except BaseException:
            self._remove()
            raise

    def commit(self, file: IO[bytes]) -> None:
        """Close *file* (from :meth:`open`) and rename it onto the target."""
        file.close()
        if self._directory is None:
            assert self._path is not None
            os.replace(self._temp, os.path.join(self._path, self._name))
        else:
            directory = self._directory
            os.rename(self._temp, self._name, src_dir_fd=directory, dst_dir_fd=directory)

    def discard(self, file: IO[bytes]) -> None:
        """Close *file* (from :meth:`open`) and remove it: nothing is left behind."""
        try:
            file.close()
        finally:
            self._remove()

    def _remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._temp, dir_fd=self._directory)

    def close(self) -> None:
        """Close the directory's descriptor."""
        if self._directory is not None:
            os.close(self._directory)


@attrs.frozen
class ExistingFile:
    """The regular file already at a download's target: its ``lstat``, and its MD5 on
    demand (one full read, never through a symlink; ``None`` if it cannot be read)."""

    info: os.stat_result
    _name: str
    _directory: int | None

    def md5(self) -> bytes | None:
        flags = os.O_RDONLY | _NONBLOCK | _CLOEXEC | _BINARY | getattr(os, "O_NOFOLLOW", 0)
        try:
            handle = os.open(self._name, flags, dir_fd=self._directory)
        except OSError:
            return None
        with os.fdopen(handle, "rb") as file:
            if not stat.S_ISREG(os.fstat(handle).st_mode):
                return None
            md5 = hashlib.md5(usedforsecurity=False)
            while chunk := file.read(1 << 20):
                md5.update(chunk)
            return md5.digest()


def _existing(name: str, directory: int | None) -> ExistingFile | None:
    """The regular file *name* (in the directory *directory*, or a path without
    ``dir_fd``), or ``None``; a symlink is not followed."""
    try:
        info = os.stat(name, dir_fd=directory, follow_symlinks=False)
    except OSError:
        return None
    return ExistingFile(info, name, directory) if stat.S_ISREG(info.st_mode) else None


@functools.cache
def _host_tag() -> str:
    # Which host wrote a temporary file (rule LP-6): 8 hex digits of its name.
    return hashlib.sha1(socket.gethostname().encode(), usedforsecurity=False).hexdigest()[:8]


def _temp_name(name: str) -> str:
    return temporary_name(name, pid=os.getpid(), host=_host_tag(), token=secrets.token_hex(4))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, another user's
        return True
    return True


def remove_stale_temporary_files(directory: int) -> int:
    """Remove the temporary files that killed downloads left in *directory* (a
    descriptor), as rule LP-6 decides; return how many. Never follows a symlink; a file
    that cannot be removed is left."""
    removed = 0
    now = time.time()
    with os.scandir(directory) as entries:
        candidates = [entry.name for entry in entries if entry.name.endswith(".part")]
    for name in candidates:
        try:
            info = os.stat(name, dir_fd=directory, follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode):
                continue
            age = now - max(info.st_mtime, info.st_ctime)
            if is_stale(name, age=age, host=_host_tag(), alive=_alive):
                os.unlink(name, dir_fd=directory)
                removed += 1
                _log.info("removed %s, left by a download that was killed", name)
        except OSError:
            continue  # gone meanwhile, or not ours to remove
    return removed


# -- save side -----------------------------------------------------------------------------


def check_source(path: str, blob: str) -> int:
    """Return the size of the regular file *path* (symlinks followed), or raise (rule LP-4).

    Raises:
        LocalPathError: *path* is missing, unreadable, or not a regular file.
    """
    try:
        info = os.stat(path)
    except OSError as error:
        raise _source_error(path, blob, error.strerror or str(error), error.errno) from error
    kind = not_a_regular_file(info.st_mode)
    if kind is not None:
        raise _source_error(path, blob, f"it is {kind}, not a regular file", None)
    return info.st_size


def open_source(path: str, blob: str) -> tuple[IO[bytes], int]:
    """Open the regular file *path* for reading, never blocking on a FIFO (rule LP-4);
    return it with its size (from the ``fstat`` of the file opened).

    Checked with ``stat`` before opening (so a device is never opened) and with ``fstat``
    after (so a file swapped in between is caught); opened ``O_NONBLOCK``, which makes
    opening a FIFO return at once instead of waiting for a writer.
    """
    check_source(path, blob)
    try:
        handle = os.open(path, os.O_RDONLY | _NONBLOCK | _CLOEXEC | _BINARY)
    except OSError as error:
        raise _source_error(path, blob, error.strerror or str(error), error.errno) from error
    info = os.fstat(handle)
    kind = not_a_regular_file(info.st_mode)
    if kind is not None:
        os.close(handle)
        raise _source_error(path, blob, f"it is {kind}, not a regular file", None)
    if _NONBLOCK and hasattr(os, "set_blocking"):
        os.set_blocking(handle, True)
    # An explicit buffer size: io.open then skips its isatty() system call.
    return os.fdopen(handle, "rb", buffering=_BUFFER), info.st_size


def _source_error(path: str, blob: str, why: str, code: int | None) -> LocalPathError:
    return LocalPathError(
        f"cannot save {path!r} as blob {blob!r}: {why} (rule LP-4)",
        path=path,
        blob=blob,
        errno=code,
    )


def iter_glob(pattern: str, root: str) -> Iterator[str]:
    """Yield the paths (relative to *root*) that *pattern* matches, like ``glob.glob(...,
    recursive=True)``, except that ``**`` never descends into a directory symlink, so it
    cannot loop (rule LP-4). Other segments follow symlinks as ``glob`` does; hidden names
    match only a segment that starts with ``.``. May yield a path twice (``**/**``).
    """
    segments = pattern.replace(os.sep, "/").split("/") if os.sep != "/" else pattern.split("/")
    if segments and segments[0] == "":
        yield from _match(root, "/", segments[1:])
    else:
        yield from _match(root, "", segments)


def _listdir(directory: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            return list(entries)
    except OSError:
        return []


def _match(root: str, prefix: str, segments: list[str]) -> Iterator[str]:
    directory = os.path.join(root, prefix) if prefix else root
    if not segments:
        yield prefix
        return
    head, rest = segments[0], segments[1:]
    if head == "":  # 'a//b' or a trailing '/'
        yield from _match(root, prefix, rest)
    elif head == "**":
        yield from _match(root, prefix, rest)
        for entry in _listdir(directory):
            if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                continue
            yield from _match(root, os.path.join(prefix, entry.name), segments)
    elif glob.has_magic(head):
        for entry in _listdir(directory):
            if entry.name.startswith(".") and not head.startswith("."):
                continue
            if not fnmatch.fnmatch(entry.name, head):
                continue
            if rest and not entry.is_dir():
                continue
            yield from _match(root, os.path.join(prefix, entry.name), rest)
    else:
        candidate = os.path.join(prefix, head)
        full = os.path.join(root, candidate)
        if (os.path.isdir(full) if rest else os.path.lexists(full)):
            yield from _match(root, candidate, rest)
