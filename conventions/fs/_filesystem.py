"""The I/O of :class:`ConventionsFileSystem`: listings, properties and ranged reads through
azure-storage-blob, with the library's clients, timeouts and error translation.

The paths are the pure ``conventions.fs._paths``; fsspec's ``AbstractFileSystem`` adds
``glob``, ``cat``, ``get``, ``open`` in text mode and pickling, and its
``AbstractBufferedFile`` the buffered, seekable file over :meth:`_OutputFile._fetch_range`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from typing import Any

from azure.core import MatchConditions
from azure.storage.blob import BlobPrefix, ContainerClient
from fsspec.spec import AbstractBufferedFile, AbstractFileSystem, _Cached

from conventions._azure_errors import translate_errors
from conventions._local_files import _host_tag
from conventions._storage_base import bounded_pages
from conventions.blobs import read_blob_name
from conventions.errors import (
    ContainerNotFoundError,
    ConventionsError,
    InvalidBlobNameError,
    OutputNotFoundError,
)
from conventions.ids import check_task_id
from conventions.network import bounded
from conventions.temporary_files import temporary_name

from ._access import ENVIRONMENT, SOURCES, StorageAccess
from ._paths import (
    PROTOCOL,
    check_pattern,
    depth_below,
    folders_between,
    join_path,
    split_path,
    strip_protocol,
)
from ._readonly import ReadOnlyError, ReadOnlyMixin

__all__ = ["ConventionsFileSystem"]

_log = logging.getLogger("conventions")

#: What a missing output or job raises from the library's translation.
_NOT_FOUND = (OutputNotFoundError, ContainerNotFoundError)

#: Seconds for which ``info`` answers from the last ``find``/``glob`` listing instead of
#: asking again: Dask asks for each globbed path's info two or three times while it builds
#: its graph (a request each). An output replaced meanwhile is never read as a mix: reads
#: are pinned to the listed ETag and raise ``BlobChangedError``.
LISTING_FRESH_FOR = 30.0


class _SnapshotEnvironment(_Cached):  # type: ignore[misc]
    """With no credential options, put the environment table's variables into the
    options before fsspec computes the instance's cache token: another environment is
    another instance, and the options pickled to a Dask worker carry the credentials."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not any(kwargs.get(name) is not None for name in SOURCES) and "environ" not in kwargs:
            kwargs["environ"] = {
                name: os.environ[name] for name in ENVIRONMENT if name in os.environ
            }
        return super().__call__(*args, **kwargs)


def _not_found(path: str, error: BaseException | None = None) -> FileNotFoundError:
    detail = f": {error}" if error is not None else ""
    return FileNotFoundError(errno.ENOENT, f"no output or folder at {path!r}{detail}", path)


class ConventionsFileSystem(ReadOnlyMixin, AbstractFileSystem, metaclass=_SnapshotEnvironment):  # type: ignore[misc]
    """A job's outputs as an fsspec filesystem (read-only), under ``batchconv://``.

    Paths are ``<job-id>/<task-id>/$<Kind>/<path>`` and ``<job-id>/$<JobKind>/<path>``
    (spec/README.md, "Filesystem paths"). Storage comes from one of *container_url* (a
    job's container URL with SAS: that job only), *connection_string*, *account_url* (with
    *credential*; ``None``: the managed identity *client_id*, else
    ``DefaultAzureCredential``), or, with none, the environment table of
    ``from_environment`` read when the filesystem is made. *client_kwargs* go to each
    container client (retries, timeouts, ``connection_verify``).

    It pickles (Dask) as its options: a worker makes its own clients, and its own
    credential when none was passed. ``repr`` and errors never show a SAS signature::

        import pandas as pd
        frame = pd.read_csv(
            "batchconv://my-job/task-1/$TaskOutput/result.csv",
            storage_options={"connection_string": connection_string},
        )
    """

    protocol = PROTOCOL
    root_marker = ""

    def __init__(
        self,
        *,
        container_url: str | None = None,
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: Any = None,
        client_id: str | None = None,
        environ: Mapping[str, str] | None = None,
        client_kwargs: Mapping[str, Any] | None = None,
        **storage_options: Any,
    ) -> None:
        super().__init__(**storage_options)
        self._access = StorageAccess(
            container_url=container_url,
            connection_string=connection_string,
            account_url=account_url,
            credential=credential,
            client_id=client_id,
            environ=environ,
            client_kwargs=client_kwargs,
        )
        # What the last find (so glob) listed, path: (when, entry); see info.
        self._listed: dict[str, tuple[float, dict[str, Any]]] = {}

    def __repr__(self) -> str:
        return f"ConventionsFileSystem({self._access.describe()})"

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        return strip_protocol(str(path))

    def _client(self, job_id: str) -> ContainerClient:
        return self._access.client(job_id)

    # -- reading ------------------------------------------------------------------------------

    def _pages(self, job_id: str, **list_kwargs: Any) -> Iterator[Any]:
        client = self._client(job_id)
        operation = "list outputs in"
        container = str(client.container_name)
        with translate_errors(operation, container=container, permission="l"):
            if "delimiter" in list_kwargs:
                pages = client.walk_blobs(**list_kwargs).by_page()
            else:
                pages = client.list_blobs(**list_kwargs).by_page()
        return bounded_pages(pages, operation, container)

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        """The outputs and folders directly in folder *path*; a file's own entry."""
        where = split_path(path)
        prefix = f"{where.name}/" if where.name else ""
        entries: list[dict[str, Any]] = []
        try:
            for item in self._pages(where.job_id, name_starts_with=prefix or None, delimiter="/"):
                entry = self._entry(where.job_id, item, where.name)
                if entry is not None:
                    entries.append(entry)
        except _NOT_FOUND as error:
            raise _not_found(path, error) from None
        if not entries and where.name:
            entries = [self.info(path)]  # a file, or FileNotFoundError
        entries.sort(key=lambda entry: str(entry["name"]))
        return entries if detail else [entry["name"] for entry in entries]

    def _entry(self, job_id: str, item: Any, folder: str) -> dict[str, Any] | None:
        if isinstance(item, BlobPrefix):
            name = str(item.name).rstrip("/")
            if not _conventional_folder(folder, name):
                return None
            return {"name": join_path(job_id, name), "size": 0, "type": "directory"}
        return self._file_entry(job_id, item)

    def _file_entry(self, job_id: str, properties: Any) -> dict[str, Any] | None:
        name = str(properties.name)
        try:
            read_blob_name(name)  # lenient (rule RB-1), as list_outputs
        except InvalidBlobNameError as error:
            _log.warning("skipping blob that breaks the conventions: %s", error)
            return None
        return {
            "name": join_path(job_id, name),
            "size": int(properties.size),
            "type": "file",
            "last_modified": properties.last_modified,
            "etag": properties.etag,
        }

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """An output's ``name``, ``size``, ``type`` (``"file"``), ``last_modified`` and
        ``etag``, or a folder's (``type`` ``"directory"``)."""
        where = split_path(path)
        known = self._listed.get(join_path(where.job_id, where.name))
        if known is not None and time.monotonic() - known[0] < LISTING_FRESH_FOR:
            return dict(known[1])
        client = self._client(where.job_id)
        container = str(client.container_name)
        try:
            if where.name:
                with contextlib.suppress(OutputNotFoundError):
                    with (
                        translate_errors(
                            "get output", container=container, blob=where.name, permission="r"
                        ),
                        bounded("get output", container=container, blob=where.name),
                    ):
                        properties = client.get_blob_client(where.name).get_blob_properties()
                    read_blob_name(where.name)
                    entry = self._file_entry(where.job_id, properties)
                    assert entry is not None
                    return entry
            prefix = f"{where.name}/" if where.name else None
            for _ in self._pages(where.job_id, name_starts_with=prefix, results_per_page=1):
                break
            else:
                if where.name:
                    raise _not_found(path)
        except _NOT_FOUND as error:
            raise _not_found(path, error) from None
        return {"name": join_path(where.job_id, where.name), "size": 0, "type": "directory"}

    def find(
        self,
        path: str,
        maxdepth: int | None = None,
        withdirs: bool = False,
        detail: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Every output below *path*, from one flat listing (no request per folder)."""
        where = split_path(path)
        prefix = f"{where.name}/" if where.name else None
        found: dict[str, dict[str, Any]] = {}
        try:
            for properties in self._pages(where.job_id, name_starts_with=prefix):
                entry = self._file_entry(where.job_id, properties)
                if entry is None:
                    continue
                name = str(properties.name)
                if withdirs:
                    for folder in folders_between(where.name, name, maxdepth):
                        folder_path = join_path(where.job_id, folder)
                        found[folder_path] = {"name": folder_path, "size": 0, "type": "directory"}
                if maxdepth is None or depth_below(where.name, name) <= maxdepth:
                    found[entry["name"]] = entry
        except _NOT_FOUND:
            found = {}
        if found and withdirs and where.name:
            root = join_path(where.job_id, where.name)
            found[root] = {"name": root, "size": 0, "type": "directory"}
        if not found and where.name:
            with contextlib.suppress(FileNotFoundError):
                entry = self.info(path)
                if entry["type"] == "file":
                    found[entry["name"]] = entry
        listed_at = time.monotonic()
        self._listed = {name: (listed_at, entry) for name, entry in found.items()}
        names = sorted(found)
        return {name: found[name] for name in names} if detail else names

    def glob(self, path: str, maxdepth: int | None = None, **kwargs: Any) -> Any:
        """Outputs matching the glob *path*; a literal kind folder needs its ``$`` (FS-2)."""
        check_pattern(path)
        return super().glob(path, maxdepth=maxdepth, **kwargs)

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> _OutputFile:
        if mode != "rb":
            raise ReadOnlyError(f"open with mode {mode!r}", path)
        entry = self.info(path)
        if entry["type"] != "file":
            raise IsADirectoryError(errno.EISDIR, f"{path!r} is a folder, not an output", path)
        where = split_path(path)
        return _OutputFile(
            self,
            entry["name"],
            client=self._client(where.job_id),
            blob=where.name,
            etag=entry["etag"],
            size=entry["size"],
            block_size=block_size,
            cache_options=cache_options,
            **kwargs,
        )

    def get_file(
        self, rpath: str, lpath: Any, callback: Any = None, outfile: Any = None, **kwargs: Any
    ) -> None:
        """Download one output to *lpath*: into a temporary file beside it, renamed into
        place once complete, so a failed download leaves no half-written file."""
        if outfile is not None or not isinstance(lpath, (str, os.PathLike)):
            super().get_file(rpath, lpath, outfile=outfile, **kwargs)
            return
        if self.isdir(rpath):
            os.makedirs(lpath, exist_ok=True)
            return
        target = os.fspath(lpath)
        directory, name = os.path.split(os.path.abspath(target))
        with self.open(rpath, "rb") as source:  # FileNotFoundError before any local change
            os.makedirs(directory, exist_ok=True)
            temporary = os.path.join(
                directory,
                temporary_name(name, pid=os.getpid(), host=_host_tag(), token=secrets.token_hex(4)),
            )
            try:
                if callback is not None:  # fsspec's progress callback
                    callback.set_size(source.size)
                with open(temporary, "xb") as sink:
                    while data := source.read(source.blocksize):
                        sink.write(data)
                        if callback is not None:
                            callback.relative_update(len(data))
                os.replace(temporary, target)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
                raise


def _conventional_folder(parent: str, name: str) -> bool:
    """Whether folder *name* (in folder *parent*) can hold outputs: at the top a task or a
    ``$<JobKind>``, in a task a ``$<Kind>`` (rule RB-1); anything deeper is a path."""
    if not parent:
        if name.startswith("$"):
            return len(name) > 1
        try:
            check_task_id(name)
        except ConventionsError:
            return False
        return True
    if "/" not in parent and not parent.startswith("$"):
        return name[len(parent) + 1 :].startswith("$") and len(name) > len(parent) + 2
    return True


class _OutputFile(AbstractBufferedFile):  # type: ignore[misc]
    """An output open for reading: each block is one ranged request, pinned to the ETag
    seen when it was opened, so a replaced blob raises ``BlobChangedError`` instead of
    returning a mix of two versions."""

    def __init__(
        self,
        fs: ConventionsFileSystem,
        path: str,
        *,
        client: ContainerClient,
        blob: str,
        etag: str,
        **kwargs: Any,
    ) -> None:
        self._blob = client.get_blob_client(blob)
        self._container = str(client.container_name)
        self._blob_name = blob
        self._etag = etag
        super().__init__(fs, path, mode="rb", **kwargs)

    def _fetch_range(self, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        with translate_errors(
            "read", container=self._container, blob=self._blob_name, permission="r"
        ):
            downloader = self._blob.download_blob(
                offset=start,
                length=end - start,
                etag=self._etag,
                match_condition=MatchConditions.IfNotModified,
            )
            return bytes(downloader.readall())
