# Generated from conventions/aio/_storage_base.py by scripts/unasync.py: do not edit.
# ruff: noqa
"""What both storages share: :class:`_Storage`, the container client, its lifetime, the
saves and the listing, written once for either kind type (``conventions.storage``
re-exports the public classes built on it).

Importing it installs the log filter that redacts SAS signatures (``_log_redaction``).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator, Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

import attrs
from azure.storage.blob import ContainerClient

from . import _log_redaction
from ._azure_errors import translate_errors
from ._local_files import check_source, iter_glob
from ._transport import DEFAULT_CHUNK_CONCURRENCY, chunks_per_file
from .blobs import BlobLocation, read_blob_name
from .errors import (
    InvalidArgumentError,
    InvalidBlobNameError,
    InvalidSettingError,
    NoMatchingFilesError,
)
from .kinds import JobOutputKind, TaskOutputKind
from .listing import ListingPlan, plan_prefix
from .local_paths import check_distinct_blobs
from .output_files import has_wildcard
from .urls import redact_sas
from . import _uploads, transfer
from ._backend import bounded, to_thread
from .references import OutputFileReference

__all__ = ["DEFAULT_CONCURRENCY", "K", "bounded_pages"]

_log = logging.getLogger("conventions")

# Importing this module is what makes requests possible: from now on no log record of
# urllib3, azure or conventions shows a SAS signature (conventions._log_redaction).
_log_redaction.install()

DEFAULT_CONCURRENCY = transfer.DEFAULT_CONCURRENCY
_DEFAULT_CONCURRENCY = DEFAULT_CONCURRENCY

_S = TypeVar("_S", bound="_Storage[Any]")
K = TypeVar("K", JobOutputKind, TaskOutputKind)


def bounded_pages(
    pages: Iterator[Any], operation: str, container: str
) -> Iterator[Any]:
    """The items of a listing's *pages*; each page's request is bounded in time
    (``conventions.network.bounded``), not only each read of its answer."""
    while True:
        with translate_errors(operation, container=container, permission="l"):
            with bounded(operation, container=container):
                page = next(pages, None)
                # The page's items are in memory once its answer is parsed: no more requests.
                items = None if page is None else [item for item in page]
        if items is None:
            return
        for item in items:
            yield item


def _container_client(_: Any, __: Any, value: Any) -> None:
    if not isinstance(value, ContainerClient):
        raise InvalidArgumentError(
            value,
            "is not an azure.storage.blob.ContainerClient (build one with "
            "BlobServiceClient.get_container_client, or use from_connection_string, "
            "from_container_url or from_account_url)",
            subject="container_client",
        )


@attrs.define(eq=False)
class _Storage(Generic[K]):
    """What both storages share: the container client, its lifetime, listing, and the
    save/list/get methods, written once for either kind type ``K``; the subclasses name
    the blobs (``output_prefix``, ``blob_name``)."""

    #: The job's container. Closed by :meth:`close` (a client made by
    #: ``BlobServiceClient.get_container_client`` does not close its parent's transport).
    container_client: ContainerClient = attrs.field(validator=_container_client)
    #: Whether :meth:`close` closes :attr:`container_client`; ``False`` for a storage
    #: that borrows its parent's client (:meth:`JobOutputStorage.task`).
    owns_client: bool = attrs.field(default=True, kw_only=True)

    @property
    def container_name(self) -> str:
        """The container's name (never its URL, which may carry a SAS)."""
        return str(self.container_client.container_name)

    def close(self) -> None:
        """Close the container client, unless it is borrowed (``owns_client=False``),
        and the credential the storage built for itself (``from_account_url`` or
        ``from_environment`` without a credential of yours)."""
        if self.owns_client:
            self.container_client.close()
            credential: Any = getattr(self.container_client, "credential", None)
            if getattr(credential, "owned_by_storage", False):
                credential.close()

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        url = redact_sas(str(self.container_client.url))
        extra = "".join(
            f", {field.name}={getattr(self, field.name)!r}"
            for field in attrs.fields(type(self))
            if field.name not in ("container_client", "owns_client")
        )
        return f"{type(self).__name__}(container_url={url!r}{extra})"

    # -- names (the subclasses' part) ---------------------------------------------------------

    def output_prefix(self, kind: K) -> str:
        """The kind's folder, without a trailing ``/`` (rule BP-1)."""
        raise NotImplementedError

    def blob_name(self, kind: K, path: str) -> str:
        """The blob name for *path* under *kind* (rule BN-1); raises for a bad path."""
        raise NotImplementedError

    def _stored_name(self, kind: K, path: str | os.PathLike[str], destination: str | None) -> str:
        return self.blob_name(kind, destination if destination is not None else os.fspath(path))

    # -- saving -------------------------------------------------------------------------------

    def save(
        self,
        kind: K,
        path: str | os.PathLike[str],
        *,
        destination: str | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        max_concurrency: int = DEFAULT_CHUNK_CONCURRENCY,
    ) -> OutputFileReference:
        """Upload the file *path* as an output of *kind*, overwriting any earlier one.

        A relative *path* is read relative to *base_dir* (default: the current
        directory) and is also the stored path, unless *destination* is given; either
        goes through ``destination_path`` (``..\\x`` is stored as ``x``). The content
        type is guessed from the name. A file larger than the SDK's single-request size
        (64 MiB by default) goes in blocks, *max_concurrency* of them at once; its
        Content-MD5 is still computed as the blocks are read, in order.

        Raises:
            InvalidPathError: the stored path is empty, absolute or escapes (before any
                request); pass *destination* for an absolute *path*.
            InvalidKindError: a kind of the other type (rule KD-2).
            ContainerNotFoundError, AccessDeniedError, StorageError: from storage.
        """
        name = self._stored_name(kind, path, destination)
        return self._save_file(name, path, base_dir, max_concurrency)

    def save_text(
        self, kind: K, text: str, destination: str, *, encoding: str = "utf-8"
    ) -> OutputFileReference:
        """Store *text* (encoded as *encoding*) as the output *destination* of *kind*."""
        name = self.blob_name(kind, destination)
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        try:
            data = text.encode(encoding)
        except LookupError:
            raise InvalidSettingError(
                encoding, "is not a text encoding Python knows (e.g. 'utf-8')", subject="encoding"
            ) from None
        settings = _uploads.content_settings(name, charset=encoding)
        return _uploads.upload(self.container_client, name, data, len(data), settings)

    def save_bytes(self, kind: K, data: bytes, destination: str) -> OutputFileReference:
        """Store *data* as the output *destination* of *kind*."""
        name = self.blob_name(kind, destination)
        settings = _uploads.content_settings(name)
        return _uploads.upload(
            self.container_client, name, bytes(data), len(data), settings
        )

    def save_many(
        self,
        kind: K,
        paths_or_glob: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        *,
        base_dir: str | os.PathLike[str] | None = None,
        max_concurrency: int = _DEFAULT_CONCURRENCY,
        chunk_concurrency: int | None = None,
        allow_empty: bool = False,
    ) -> list[OutputFileReference]:
        """Save many files in parallel (one client; threads in the sync face, tasks in the
        async one), each under its relative path.

        *paths_or_glob* is a list of paths or one glob pattern (``**`` recurses), both
        relative to *base_dir* (default: the current directory). Every path is checked
        before the first upload. Returns the references in input (or sorted glob) order;
        the first failure is raised once running uploads finish.

        A glob that matches no file, or an empty list, raises ``NoMatchingFilesError``
        (as the CLI's ``save`` exits 1): saving nothing is not success unless
        *allow_empty* says no file is fine, and then ``[]`` is returned.

        *max_concurrency* files go at once; a file larger than 64 MiB goes in blocks,
        *chunk_concurrency* at once (default: ``max(1, 32 // max_concurrency)``, so that
        files x blocks in flight stay within 32; see ``conventions._transport``).
        """
        chunks = chunks_per_file(max_concurrency, chunk_concurrency)
        paths = _expand(paths_or_glob, base_dir)
        if not paths and not allow_empty:
            raise _nothing_matched(paths_or_glob, base_dir)
        names = [self.blob_name(kind, path) for path in paths]  # validate all first
        check_distinct_blobs(zip(paths, names, strict=True))
        _check_sources(names, paths, base_dir)
        work = [
            functools.partial(self._save_file, name, path, base_dir, chunks)
            for name, path in zip(names, paths, strict=True)
        ]
        return transfer.run_parallel(work, max_concurrency)

    # -- reading ------------------------------------------------------------------------------

    def list_outputs(self, kind: K) -> Iterator[OutputFileReference]:
        """Iterate lazily over the outputs of *kind*, in blob-name order.

        Lists the exact folder ``output_prefix(kind) + "/"`` (with the ``/``, decision
        D-4), so ``TaskOutputFoo`` never shows up under ``TaskOutput``. Blobs whose names
        the conventions never produce are skipped with a warning on the ``conventions``
        logger.

        Raises (while iterating):
            ContainerNotFoundError; AccessDeniedError (a SAS needs ``l``).
        """
        return self._list_plan(plan_prefix(self.output_prefix(kind)))

    def get_output(self, kind: K, path: str) -> OutputFileReference:
        """Return the reference to the output *path* of *kind*, checking that it exists.

        Raises:
            OutputNotFoundError: there is no such output (.NET 4.x checks nothing here;
                decision D-20).
            AccessDeniedError: a SAS needs ``r``.
        """
        return self._get(self.blob_name(kind, path))

    def reference(self, kind: K, path: str) -> OutputFileReference:
        """Return a reference to the output *path* of *kind* without any request: the
        output need not exist (yet). For :meth:`OutputFileReference.follow` on a log that
        a task has not started writing; other methods raise ``OutputNotFoundError`` while
        it is missing. Use :meth:`get_output` to check that it exists."""
        name = self.blob_name(kind, path)
        return OutputFileReference.from_blob(self.container_client.get_blob_client(name))

    # -- plumbing -----------------------------------------------------------------------------

    def _list_plan(self, plan: ListingPlan) -> Iterator[OutputFileReference]:
        """The outputs *plan* selects (``conventions.listing``): each of its prefixes
        listed in turn, lazily."""
        for prefix in plan.prefixes:
            yield from self._list(prefix, plan.keeps)


    def _list(
        self, prefix: str | None, keeps: Callable[[BlobLocation], bool]
    ) -> Iterator[OutputFileReference]:
        """List blobs under *prefix*, lazily, skipping (with a warning) unconventional names
        and, before building anything, the locations *keeps* rejects."""
        container_client = self.container_client
        operation = "list outputs in"
        with translate_errors(operation, container=self.container_name, permission="l"):
            pages = container_client.list_blobs(name_starts_with=prefix).by_page()
        for properties in bounded_pages(pages, operation, self.container_name):
            name = properties.name
            try:
                # Lenient (rule RB-1): names .NET writes are read too.
                location = read_blob_name(name)
            except InvalidBlobNameError as error:
                _log.warning("skipping blob that breaks the conventions: %s", error)
                continue
            if not keeps(location):
                continue
            # No BlobClient per blob (44 µs and ~30 KB each): the reference makes one
            # from the container client when it is used. Each name is parsed once.
            yield OutputFileReference.in_container(
                container_client,
                name,
                location,
                size=properties.size,
                last_modified=properties.last_modified,
                content_md5=properties.content_settings.content_md5,
                etag=properties.etag,
            )

    def _get(self, blob_name: str) -> OutputFileReference:
        blob_client = self.container_client.get_blob_client(blob_name)
        with translate_errors(
            "get output", container=self.container_name, blob=blob_name, permission="r"
        ):
            with bounded("get output", container=self.container_name, blob=blob_name):
                properties = blob_client.get_blob_properties()
        return OutputFileReference.from_properties(blob_client, properties)

    def _save_file(
        self,
        blob_name: str,
        path: str | os.PathLike[str],
        base_dir: str | os.PathLike[str] | None,
        max_concurrency: int = 1,
    ) -> OutputFileReference:
        source = _source_path(path, base_dir)
        return _uploads.save_file(
            self.container_client, blob_name, source, max_concurrency
        )


def _check_sources(
    names: list[str], paths: list[str], base_dir: str | os.PathLike[str] | None
) -> None:
    for name, path in zip(names, paths, strict=True):
        check_source(_source_path(path, base_dir), name)


def _source_path(path: str | os.PathLike[str], base_dir: str | os.PathLike[str] | None) -> str:
    source = Path(path)
    if not source.is_absolute():
        source = Path(base_dir if base_dir is not None else os.getcwd()) / source
    return str(source)


def _nothing_matched(
    paths_or_glob: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    base_dir: str | os.PathLike[str] | None,
) -> NoMatchingFilesError:
    root = os.fspath(base_dir) if base_dir is not None else os.getcwd()
    if isinstance(paths_or_glob, (str, os.PathLike)):
        pattern = os.fspath(paths_or_glob)
        what, patterns = f"no file matches {pattern!r} in {root}", [pattern]
    else:
        what, patterns = "the list of paths is empty", []
    return NoMatchingFilesError(
        f"nothing saved: {what}. Check the pattern and the base directory, or pass "
        "allow_empty=True if no file is fine",
        path=root,
        patterns=patterns,
    )


def _expand(
    paths_or_glob: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    base_dir: str | os.PathLike[str] | None,
) -> list[str]:
    """A glob (relative to *base_dir*) or a list of paths, as a list of relative paths."""
    if isinstance(paths_or_glob, (str, os.PathLike)):
        pattern = os.fspath(paths_or_glob)
        if not has_wildcard(pattern):
            return [pattern]
        root = os.fspath(base_dir) if base_dir is not None else os.getcwd()
        # Not glob.glob: its '**' follows directory symlinks, into cycles (rule LP-4).
        matches = sorted(set(iter_glob(pattern, root)))
        return [match for match in matches if os.path.isfile(os.path.join(root, match))]
    return [os.fspath(path) for path in paths_or_glob]


