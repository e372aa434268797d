"""Save, list and download outputs: :class:`TaskOutputStorage` and :class:`JobOutputStorage`.

The Python counterparts of .NET ``TaskOutputStorage`` and ``JobOutputStorage``, built on
azure-storage-blob's sync API. Names come from the pure rules (``conventions.blobs``);
every Azure error is translated in one place (``conventions._azure_errors``). Retries are
azure-core's: pass your own client, or ``retry_total=`` and friends to the named
constructors.

Task side (inside a Batch task)::

    from conventions import TaskOutputKind
    from conventions.storage import TaskOutputStorage

    with TaskOutputStorage.from_environment() as storage:
        storage.save(TaskOutputKind.TASK_OUTPUT, "results/summary.csv")
        storage.save_many(TaskOutputKind.TASK_LOG, "logs/*.log")

Client side::

    with JobOutputStorage.from_service_client(service_client, "my-job") as job:
        summary = job.download(TaskOutputKind.TASK_OUTPUT, "out/")

Imports azure-storage-blob; ``import conventions`` does not load this module.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import mimetypes
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Generic, TypeVar, cast

import attrs
from azure.storage.blob import (
    BlobBlock,
    BlobClient,
    BlobServiceClient,
    ContainerClient,
    ContentSettings,
)

from . import _log_redaction, transfer
from ._azure_errors import translate_errors
from ._clients import (
    container_client_from_account_url,
    container_client_from_connection_string,
    container_client_from_url,
)
from ._integrity import HashingReader, upload_reader
from ._local_files import check_source, iter_glob, open_source
from ._transport import DEFAULT_CHUNK_CONCURRENCY, chunks_per_file
from .blobs import (
    BlobLocation,
    _task_kind,
    job_blob_name,
    job_prefix,
    parse_blob_name,
    read_blob_name,
    task_blob_name,
    task_prefix,
)
from .cleanup import DeleteSummary, delete_blobs
from .containers import container_name
from .errors import (
    ContainerMismatchError,
    ConventionsError,
    InvalidArgumentError,
    InvalidBlobNameError,
    InvalidIdError,
    InvalidKindError,
    InvalidSettingError,
    MissingEnvironmentVariableError,
    NoMatchingFilesError,
    StorageError,
)
from .identity import CLIENT_ID_ENV, storage_credential
from .ids import check_job_id, check_task_id
from .kinds import JobOutputKind, TaskOutputKind
from .local_paths import check_distinct_blobs
from .network import bounded
from .output_files import has_wildcard
from .references import OutputFileReference
from .tracked import DEFAULT_LIFETIME, MAX_APPEND_BLOCKS, TrackedFile
from .transfer import (
    BytesCallback,
    DownloadedOutput,
    DownloadFailure,
    DownloadSummary,
    ProgressCallback,
)
from .urls import redact_sas

__all__ = [
    "ACCOUNT_URL_ENV",
    "CLIENT_ID_ENV",
    "CONNECTION_STRING_ENV",
    "CONTAINER_URL_ENV",
    "JOB_ID_ENV",
    "TASK_ID_ENV",
    "BytesCallback",
    "DownloadFailure",
    "DownloadSummary",
    "DownloadedOutput",
    "JobOutputStorage",
    "MissingEnvironmentVariableError",
    "ProgressCallback",
    "TaskOutputStorage",
]

_log = logging.getLogger("conventions")

# Importing this module is what makes requests possible: from now on no log record of
# urllib3, azure or conventions shows a SAS signature (conventions._log_redaction).
_log_redaction.install()

#: The Batch service sets these for every task except the start task.
JOB_ID_ENV = "AZ_BATCH_JOB_ID"
TASK_ID_ENV = "AZ_BATCH_TASK_ID"
#: A container URL with SAS (``output_container_url``), for ``from_environment``.
CONTAINER_URL_ENV = "CONVENTIONS_CONTAINER_URL"
#: The Azure SDKs' usual variable, used by ``from_environment`` when there is no container URL.
CONNECTION_STRING_ENV = "AZURE_STORAGE_CONNECTION_STRING"
#: The account's blob endpoint, for ``from_environment`` with a managed identity (whose
#: client id is in ``AZURE_CLIENT_ID``) or else ``DefaultAzureCredential``.
ACCOUNT_URL_ENV = "CONVENTIONS_ACCOUNT_URL"

_DEFAULT_CONCURRENCY = transfer.DEFAULT_CONCURRENCY

_S = TypeVar("_S", bound="_Storage[Any]")
K = TypeVar("K", JobOutputKind, TaskOutputKind)


def _env(environ: Mapping[str, str], name: str, hint: str) -> str:
    value = environ.get(name)
    if not value:
        raise MissingEnvironmentVariableError(name, hint)
    return value


def _check_container(
    client: ContainerClient, job_id: str | None, *, source: str
) -> ContainerClient:
    """One job, one container: *client* must be on ``container_name(job_id)``."""
    if job_id is not None:
        expected = container_name(job_id)
        if client.container_name != expected:
            client.close()
            raise ContainerMismatchError(
                str(client.container_name), job_id, expected, source=source
            )
    return client


def _container_from_environment(
    environ: Mapping[str, str],
    job_id: str,
    client_kwargs: dict[str, Any],
    *,
    allow_other_container: bool,
) -> ContainerClient:
    """The job's container from the first of the variables in the README's table."""
    url = environ.get(CONTAINER_URL_ENV)
    if url:
        client = container_client_from_url(url, client_kwargs)
        checked_job = None if allow_other_container else job_id
        return _check_container(client, checked_job, source=CONTAINER_URL_ENV)
    connection_string = environ.get(CONNECTION_STRING_ENV)
    if connection_string:
        return container_client_from_connection_string(
            connection_string, container_name(job_id), client_kwargs
        )
    account_url = environ.get(ACCOUNT_URL_ENV)
    if account_url:
        kwargs = dict(client_kwargs)
        credential = kwargs.pop("credential", None)
        client_id = environ.get(CLIENT_ID_ENV) or None
        return _account_container(account_url, job_id, credential, kwargs, client_id=client_id)
    raise MissingEnvironmentVariableError(
        CONTAINER_URL_ENV,
        f"set one of {CONTAINER_URL_ENV} (the job's container URL with SAS), "
        f"{CONNECTION_STRING_ENV}, or {ACCOUNT_URL_ENV} (the account's blob endpoint, "
        f"signing in with the managed identity whose client id is in {CLIENT_ID_ENV}, "
        "else DefaultAzureCredential)",
    )


def _account_container(
    account_url: str,
    job_id: str,
    credential: Any,
    client_kwargs: dict[str, Any],
    *,
    client_id: str | None = None,
) -> ContainerClient:
    """The job's container on *account_url*; without *credential*, the managed identity
    *client_id*, else ``DefaultAzureCredential`` (``conventions.identity``)."""
    if credential is None:
        credential = storage_credential(client_id)
        # Made here, so closed with the storage (a credential you pass stays yours).
        credential.owned_by_storage = True
    return container_client_from_account_url(
        account_url, container_name(job_id), credential, client_kwargs
    )


def _content_settings(name: str, *, charset: str | None = None) -> ContentSettings:
    content_type = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
    if charset and content_type.startswith("text/"):
        content_type += f"; charset={charset}"
    return ContentSettings(content_type=content_type)



def _bounded_pages(pages: Iterator[Any], operation: str, container: str) -> Iterator[Any]:
    """The items of a listing's *pages*; each page's request is bounded in time
    (``conventions.network.bounded``), not only each read of its answer."""
    while True:
        with (
            translate_errors(operation, container=container, permission="l"),
            bounded(operation, container=container),
        ):
            page = next(pages, None)
            # The page's items are in memory once its answer is parsed: no more requests.
            items = None if page is None else list(page)
        if items is None:
            return
        yield from items


def _container_client(_: Any, __: Any, value: Any) -> None:
    if not isinstance(value, ContainerClient):
        raise InvalidArgumentError(
            value,
            "is not an azure.storage.blob.ContainerClient (build one with "
            "BlobServiceClient.get_container_client, or use from_connection_string, "
            "from_container_url or from_account_url)",
            subject="container_client",
        )


def _service_client(value: object) -> BlobServiceClient:
    if not isinstance(value, BlobServiceClient):
        raise InvalidArgumentError(
            value, "is not an azure.storage.blob.BlobServiceClient", subject="service_client"
        )
    return value


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
        return self._upload(name, data, len(data), _content_settings(name, charset=encoding))

    def save_bytes(self, kind: K, data: bytes, destination: str) -> OutputFileReference:
        """Store *data* as the output *destination* of *kind*."""
        name = self.blob_name(kind, destination)
        return self._upload(name, bytes(data), len(data), _content_settings(name))

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
        """Save many files in parallel (threads, one client), each under its relative path.

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
        for name, path in zip(names, paths, strict=True):
            check_source(_source_path(path, base_dir), name)
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
        prefix = self.output_prefix(kind) + "/"
        return (reference for _, reference in self._list(prefix))

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

    def _list(
        self, prefix: str | None, wanted: Callable[[BlobLocation], bool] | None = None
    ) -> Iterator[tuple[BlobLocation, OutputFileReference]]:
        """List blobs under *prefix*, lazily, skipping (with a warning) unconventional names
        and, before building anything, the locations *wanted* rejects."""
        container_client = self.container_client
        operation = "list outputs in"
        with translate_errors(operation, container=self.container_name, permission="l"):
            pages = container_client.list_blobs(name_starts_with=prefix).by_page()
        for properties in _bounded_pages(pages, operation, self.container_name):
            name = properties.name
            try:
                # Lenient (rule RB-1): names .NET writes are read too.
                location = read_blob_name(name)
            except InvalidBlobNameError as error:
                _log.warning("skipping blob that breaks the conventions: %s", error)
                continue
            if wanted is not None and not wanted(location):
                continue
            # No BlobClient per blob (44 µs and ~30 KB each): the reference makes one
            # from the container client when it is used. Each name is parsed once.
            reference = OutputFileReference.in_container(
                container_client,
                name,
                location,
                size=properties.size,
                last_modified=properties.last_modified,
                content_md5=properties.content_settings.content_md5,
                etag=properties.etag,
            )
            yield location, reference

    def _get(self, blob_name: str) -> OutputFileReference:
        blob_client = self.container_client.get_blob_client(blob_name)
        with (
            translate_errors(
                "get output", container=self.container_name, blob=blob_name, permission="r"
            ),
            bounded("get output", container=self.container_name, blob=blob_name),
        ):
            properties = blob_client.get_blob_properties()
        return OutputFileReference.from_properties(blob_client, properties)

    def _upload(
        self,
        blob_name: str,
        data: bytes | IO[bytes],
        size: int,
        settings: ContentSettings,
        max_concurrency: int = 1,
    ) -> OutputFileReference:
        """Upload a block blob that carries its Content-MD5 (rule IG-1).

        Bytes in memory: the MD5 goes with the upload. A file: hashed while the SDK
        streams it (no second read); a single Put Blob gets its MD5 computed by the
        service, which must equal ours; a file larger than one Put Blob is staged in
        blocks and committed with its MD5 in the block list itself (:func:`_upload_blocks`).
        With *max_concurrency* > 1 the blocks are sent in parallel, but the source is read
        (through the ``HashingReader``) in order, on one thread."""
        blob_client = self.container_client.get_blob_client(blob_name)
        reader: HashingReader | None = None
        md5: bytes | None = None
        if isinstance(data, bytes):
            md5 = hashlib.md5(data, usedforsecurity=False).digest()
            settings.content_md5 = bytearray(md5)
            body: bytes | IO[bytes] = data
        else:
            reader = upload_reader(data, size)  # a large file: hashed on its own thread
            body = cast(IO[bytes], reader)
        try:
            return self._send(
                blob_client, blob_name, body, reader, md5, size, settings, max_concurrency
            )
        finally:
            if reader is not None:
                reader.stop()

    def _send(
        self,
        blob_client: BlobClient,
        blob_name: str,
        body: bytes | IO[bytes],
        reader: HashingReader | None,
        md5: bytes | None,
        size: int,
        settings: ContentSettings,
        max_concurrency: int,
    ) -> OutputFileReference:
        """:meth:`_upload`'s request(s): the upload, then the MD5 settled (rule IG-1)."""
        with translate_errors(
            "save output", container=self.container_name, blob=blob_name, permission="w"
        ):
            if reader is not None and size > _single_put_limit(blob_client):
                response = _upload_blocks(blob_client, reader, size, settings, max_concurrency)
                md5 = reader.digest()
                _log.debug("saved %s in blocks (%d bytes, md5 %s)", blob_name, size, md5.hex())
                return OutputFileReference.in_container(
                    self.container_client,
                    blob_name,
                    parse_blob_name(blob_name),
                    size=size,
                    last_modified=response.get("last_modified"),
                    content_md5=md5,
                    etag=response.get("etag"),
                )
            response = blob_client.upload_blob(
                body,
                length=size,
                overwrite=True,
                content_settings=settings,
                max_concurrency=max_concurrency,
            )
            if reader is not None:
                stored = response.get("content_md5")
                md5 = None if stored is None else bytes(stored)
                if reader.read_bytes != size:
                    raise StorageError(
                        f"saving blob {blob_name!r} in container {self.container_name!r}: "
                        f"read {reader.read_bytes} of {size} bytes of the source",
                        container=self.container_name,
                        blob=blob_name,
                    )
                if md5 != reader.digest():
                    # A service that computed nothing: record the streamed MD5.
                    # A single put whose MD5 differs would be overwritten here, then caught
                    # by every download (IntegrityError).
                    md5 = reader.digest()
                    settings.content_md5 = bytearray(md5)
                    response = blob_client.set_http_headers(content_settings=settings)
        _log.debug("saved %s (%d bytes, md5 %s)", blob_name, size, md5.hex() if md5 else None)
        # Without the client (save_many keeps one reference per file): made when used.
        return OutputFileReference.in_container(
            self.container_client,
            blob_name,
            parse_blob_name(blob_name),
            size=size,
            last_modified=response.get("last_modified"),
            content_md5=md5,
            etag=response.get("etag"),
        )

    def _save_file(
        self,
        blob_name: str,
        path: str | os.PathLike[str],
        base_dir: str | os.PathLike[str] | None,
        max_concurrency: int = 1,
    ) -> OutputFileReference:
        file, size = open_source(_source_path(path, base_dir), blob_name)
        with file:
            settings = _content_settings(blob_name)
            return self._upload(blob_name, file, size, settings, max_concurrency)


def _single_put_limit(blob_client: BlobClient) -> int:
    """The size above which azure-storage-blob would upload in blocks (its
    ``max_single_put_size``, 64 MiB by default)."""
    return int(getattr(blob_client._config, "max_single_put_size", 64 * 1024 * 1024))


def _upload_blocks(
    blob_client: BlobClient,
    reader: HashingReader,
    size: int,
    settings: ContentSettings,
    max_concurrency: int,
) -> dict[str, Any]:
    """Upload *size* bytes from *reader* as blocks (up to *max_concurrency* in flight),
    then commit them with the MD5 of what was read in the commit itself (rule IG-1): the
    committed blob never lacks its Content-MD5, whatever fails after."""
    block_size = int(getattr(blob_client._config, "max_block_size", 4 * 1024 * 1024))
    prefix = os.urandom(8).hex()
    block_ids: list[BlobBlock] = []

    def blocks() -> Iterator[Callable[[], object]]:
        # Read here, on the calling thread, in order: the MD5 is of the bytes in order.
        for index, _start in enumerate(range(0, size, block_size)):
            data = reader.read(block_size)
            if not data:
                break
            block_id = base64.b64encode(f"{prefix}-{index:06d}".encode()).decode()
            block_ids.append(BlobBlock(block_id))
            yield functools.partial(blob_client.stage_block, block_id, data, length=len(data))

    transfer.run_parallel(blocks(), max(1, max_concurrency), keep_results=False)
    if reader.read_bytes != size or reader.read(1):
        raise StorageError(
            f"saving blob {blob_client.blob_name!r} in container "
            f"{blob_client.container_name!r}: the source did not hold the {size} bytes it "
            f"had when the save started (read {reader.read_bytes})",
            container=blob_client.container_name,
            blob=blob_client.blob_name,
        )
    settings.content_md5 = bytearray(reader.digest())
    return dict(blob_client.commit_block_list(block_ids, content_settings=settings))


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


@attrs.define(eq=False, repr=False)
class TaskOutputStorage(_Storage[TaskOutputKind]):
    """The outputs of one task of one job: save, list and get them by kind.

    Holds a ``ContainerClient`` on the job's container (``container_client``) and the
    ``task_id``. A context manager: leaving it closes the client. Build it with a named
    constructor, e.g. :meth:`from_environment` inside a Batch task::

        with TaskOutputStorage.from_environment() as storage:
            ref = storage.save(TaskOutputKind.TASK_OUTPUT, "results/summary.csv")
            print(ref.blob_name)         # <task id>/$TaskOutput/results/summary.csv

    Only ``TaskOutputKind`` is accepted as a kind (rule KD-2).
    """

    task_id: str = attrs.field(validator=lambda _i, _a, value: check_task_id(value))

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_container_url(
        cls, container_url: str, task_id: str, *, job_id: str | None = None, **client_kwargs: Any
    ) -> TaskOutputStorage:
        """Storage on a container URL with SAS (``output_container_url``). A task needs ``acw``
        to save (``w`` to overwrite), ``l`` to list and ``r`` to read; tracked saves
        (:meth:`save_tracked`) need ``racw`` (``r`` to reconcile a retried append).

        Raises:
            ContainerMismatchError: *job_id* is given and the URL's container is not
                ``container_name(job_id)`` (one job, one container).
        """
        check_task_id(task_id)
        client = container_client_from_url(container_url, client_kwargs)
        return cls(_check_container(client, job_id, source="the container URL"), task_id)

    @classmethod
    def from_account_url(
        cls,
        account_url: str,
        job_id: str,
        task_id: str,
        *,
        credential: Any = None,
        **client_kwargs: Any,
    ) -> TaskOutputStorage:
        """Storage on the job's container of the account whose blob endpoint is *account_url*
        (``https://<account>.blob.core.windows.net``), signed in with *credential*.

        *credential* is anything azure-storage-blob accepts, typically an azure-identity
        ``TokenCredential`` such as ``ManagedIdentityCredential(client_id=...)``; ``None``
        means ``DefaultAzureCredential()`` (extra ``identity``). With Entra ID the identity
        needs the role Storage Blob Data Contributor on the account or container::

            storage = TaskOutputStorage.from_account_url(
                "https://myaccount.blob.core.windows.net", "my-job", "task-1",
                credential=ManagedIdentityCredential(client_id=pool_identity_client_id),
            )

        Raises:
            MissingDependencyError: *credential* is None and azure-identity is missing.
        """
        check_job_id(job_id)
        check_task_id(task_id)
        return cls(_account_container(account_url, job_id, credential, client_kwargs), task_id)

    @classmethod
    def from_service_client(
        cls, service_client: BlobServiceClient, job_id: str, task_id: str
    ) -> TaskOutputStorage:
        """Storage on the job's container (``container_name(job_id)``) of *service_client*.
        The container client shares the service client's pipeline (and its retry policy)."""
        check_task_id(task_id)
        service = _service_client(service_client)
        return cls(service.get_container_client(container_name(job_id)), task_id)

    @classmethod
    def from_connection_string(
        cls, connection_string: str, job_id: str, task_id: str, **client_kwargs: Any
    ) -> TaskOutputStorage:
        """Storage on the job's container of the account in *connection_string*."""
        check_task_id(task_id)
        client = container_client_from_connection_string(
            connection_string, container_name(job_id), client_kwargs
        )
        return cls(client, task_id)

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        allow_other_container: bool = False,
        **client_kwargs: Any,
    ) -> TaskOutputStorage:
        """Storage for the current Batch task.

        The job and task IDs come from ``AZ_BATCH_JOB_ID`` and ``AZ_BATCH_TASK_ID``; the
        container from the first that is set of:

        1. ``CONVENTIONS_CONTAINER_URL``: a container URL with SAS. Its container must be
           the job's (``container_name(job_id)``) unless *allow_other_container* is true;
        2. ``AZURE_STORAGE_CONNECTION_STRING``;
        3. ``CONVENTIONS_ACCOUNT_URL``: the account's blob endpoint, signed in with the
           user-assigned managed identity whose client id is in ``AZURE_CLIENT_ID`` (the
           pool's identity), or else with ``DefaultAzureCredential()`` (extra
           ``identity``); a ``credential=`` keyword replaces either.

        *environ* defaults to ``os.environ``.

        >>> TaskOutputStorage.from_environment({"AZ_BATCH_JOB_ID": "my-job"})
        Traceback (most recent call last):
        ...
        conventions.errors.MissingEnvironmentVariableError: ... AZ_BATCH_TASK_ID is not set: ...

        Raises:
            MissingEnvironmentVariableError: a variable is missing; the message names it
                (for the container: all three).
            ContainerMismatchError: ``CONVENTIONS_CONTAINER_URL`` is another job's container.
        """
        env = os.environ if environ is None else environ
        hint = "from_environment() runs inside a Batch task (not its start task)"
        job_id = check_job_id(_env(env, JOB_ID_ENV, hint))
        task_id = check_task_id(_env(env, TASK_ID_ENV, hint))
        container = _container_from_environment(
            env, job_id, client_kwargs, allow_other_container=allow_other_container
        )
        return cls(container, task_id)

    # -- names --------------------------------------------------------------------------------

    def output_prefix(self, kind: TaskOutputKind) -> str:
        """The kind's folder, ``<task id>/$<kind>``, without ``/`` (like .NET
        ``GetOutputStoragePath``; rule BP-1)."""
        return task_prefix(self.task_id, kind)

    def blob_name(self, kind: TaskOutputKind, path: str) -> str:
        """The blob name for *path* under *kind* (rule BN-1); raises for a bad path."""
        return task_blob_name(self.task_id, kind, path)

    def save_tracked(
        self,
        source: str | os.PathLike[str],
        *,
        kind: TaskOutputKind = TaskOutputKind.TASK_LOG,
        destination: str | None = None,
        flush_interval: float = 60.0,
        on_error: Callable[[Exception], object] | None = None,
        overwrite: bool = False,
        lifetime: float = DEFAULT_LIFETIME,
        max_blocks: int = MAX_APPEND_BLOCKS,
    ) -> TrackedFile:
        """Stream the growing file *source* (a log) to an append blob while it is written.

        Returns a :class:`~conventions.tracked.TrackedFile`, not yet started: use it as a
        context manager (or ``start()``/``close()``). Every *flush_interval* seconds a
        background thread appends exactly what the file gained; closing uploads the rest,
        so that the blob is then byte-identical to the file. Background flushes spend the
        blob's *max_blocks* so that it streams for *lifetime* seconds (180 days, a Batch
        task's longest life): *flush_interval* while the budget allows, then less often.
        The stored path is
        *destination*, or else *source* as a relative path (``destination_path`` rules).
        With a SAS, tracked saves need ``racw``: ``r`` to reconcile an append retried after
        its response was lost (without it, that case raises ``AccessDeniedError``)::

            with storage.save_tracked("stdout.txt", flush_interval=15):
                run_the_simulation()     # writes stdout.txt; readable in storage as it grows

        Raises:
            InvalidPathError: the stored path is empty, absolute or escapes (pass
                *destination* for an absolute *source*).
            conventions.tracked.TrackingError: from ``start()``/``close()``, see there.
        """
        name = self._stored_name(kind, source, destination)
        return TrackedFile(
            self.container_client,
            name,
            # Resolved now: the background thread must not depend on a later chdir.
            Path(source).absolute(),
            flush_interval=flush_interval,
            on_error=on_error,
            overwrite=overwrite,
            lifetime=lifetime,
            max_blocks=max_blocks,
        )


@attrs.define(eq=False, repr=False)
class JobOutputStorage(_Storage[JobOutputKind]):
    """A job's container: job-level outputs by ``JobOutputKind``, and every task's outputs.

    Saving and listing job outputs mirrors :class:`TaskOutputStorage`. To read a whole
    job (client side)::

        with JobOutputStorage.from_service_client(service_client, "my-job") as job:
            for ref in job.list_task_outputs(TaskOutputKind.TASK_OUTPUT):
                print(ref.task_id, ref.path, ref.size)
            job.download(TaskOutputKind.TASK_OUTPUT, "out/")   # out/<task id>/<path>
    """

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_container_url(
        cls, container_url: str, job_id: str | None = None, **client_kwargs: Any
    ) -> JobOutputStorage:
        """Storage on a container URL with SAS (``output_container_url``).

        *job_id*, positional as in :meth:`from_connection_string`, checks that the URL is
        that job's container.

        Raises:
            ContainerMismatchError: *job_id* is given and the URL's container is not
                ``container_name(job_id)`` (one job, one container).
        """
        client = container_client_from_url(container_url, client_kwargs)
        return cls(_check_container(client, job_id, source="the container URL"))

    @classmethod
    def from_account_url(
        cls, account_url: str, job_id: str, *, credential: Any = None, **client_kwargs: Any
    ) -> JobOutputStorage:
        """Storage on the job's container of the account whose blob endpoint is
        *account_url*, signed in with *credential* (``None``: ``DefaultAzureCredential()``,
        extra ``identity``); see :meth:`TaskOutputStorage.from_account_url`::

            with JobOutputStorage.from_account_url(account_url, "my-job") as job:
                job.download(TaskOutputKind.TASK_OUTPUT, "out/")
        """
        check_job_id(job_id)
        return cls(_account_container(account_url, job_id, credential, client_kwargs))

    @classmethod
    def from_service_client(
        cls, service_client: BlobServiceClient, job_id: str
    ) -> JobOutputStorage:
        """Storage on the job's container of *service_client* (shares its pipeline)."""
        service = _service_client(service_client)
        return cls(service.get_container_client(container_name(job_id)))

    @classmethod
    def from_connection_string(
        cls, connection_string: str, job_id: str, **client_kwargs: Any
    ) -> JobOutputStorage:
        """Storage on the job's container of the account in *connection_string*."""
        return cls(
            container_client_from_connection_string(
                connection_string, container_name(job_id), client_kwargs
            )
        )

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        allow_other_container: bool = False,
        **client_kwargs: Any,
    ) -> JobOutputStorage:
        """Storage for the current Batch job (``AZ_BATCH_JOB_ID``); the container as for
        :meth:`TaskOutputStorage.from_environment`."""
        env = os.environ if environ is None else environ
        job_id = check_job_id(_env(env, JOB_ID_ENV, "from_environment() runs inside a Batch task"))
        return cls(
            _container_from_environment(
                env, job_id, client_kwargs, allow_other_container=allow_other_container
            )
        )

    # -- job outputs --------------------------------------------------------------------------

    def output_prefix(self, kind: JobOutputKind) -> str:
        """The kind's folder, ``$<kind>``, without ``/`` (rule BP-1)."""
        return job_prefix(kind)

    def blob_name(self, kind: JobOutputKind, path: str) -> str:
        """The blob name for *path* under *kind* (rule BN-1)."""
        return job_blob_name(kind, path)

    # -- the whole job ------------------------------------------------------------------------

    def task_ids(self) -> Iterator[str]:
        """Iterate over the IDs of the tasks that have outputs here (top-level folders that
        are valid task IDs), in blob-name order."""
        operation = "list tasks in"
        with translate_errors(operation, container=self.container_name, permission="l"):
            pages = self.container_client.walk_blobs(delimiter="/").by_page()
        for item in _bounded_pages(pages, operation, self.container_name):
            name = str(item.name)
            if not name.endswith("/"):
                continue  # a blob at the top level, not a folder
            folder = name[:-1]
            try:
                yield check_task_id(folder)
            except ConventionsError:
                continue  # "$JobOutput" and anything else that is not a task

    def task(self, task_id: str) -> TaskOutputStorage:
        """The storage of one task; it borrows this storage's container client.

        It is a context manager like any storage, but its ``close()`` (and leaving a
        ``with`` block) leaves the shared client open: the job storage owns it and closes
        it.

        Raises:
            InvalidIdError: *task_id* is not a Batch task ID.
        """
        return TaskOutputStorage(self.container_client, task_id, owns_client=False)

    def list_all(self) -> Iterator[OutputFileReference]:
        """Iterate lazily over every output in the container: job outputs and every
        task's, of every kind, in blob-name order (one listing of the container).

        Blobs whose names the conventions never produce are skipped with a warning.
        """
        return (reference for _, reference in self._list(None))

    def list_task_outputs(
        self, kind: TaskOutputKind, task_ids: Iterable[str] | None = None
    ) -> Iterator[OutputFileReference]:
        """Iterate lazily over the outputs of *kind* of every task (or of *task_ids*).

        Without *task_ids*, one listing of the whole container, filtered by kind;
        with them, one listing per task under ``<task id>/$<kind>/``.
        """
        _task_kind(kind)  # a job kind raises here, listed or not (rule KD-2)
        _check_task_id_list(task_ids)
        if task_ids is not None:
            prefixes = [task_prefix(task_id, kind) + "/" for task_id in task_ids]
            return (ref for prefix in prefixes for _, ref in self._list(prefix))

        def wanted(location: BlobLocation) -> bool:
            return location.task_id is not None and location.kind == kind

        return (ref for _, ref in self._list(None, wanted))

    def download(
        self,
        kind: JobOutputKind | TaskOutputKind,
        dest_dir: str | os.PathLike[str],
        *,
        task_ids: Iterable[str] | None = None,
        overwrite: bool = False,
        max_concurrency: int = _DEFAULT_CONCURRENCY,
        chunk_concurrency: int | None = None,
        progress: ProgressCallback | None = None,
        on_bytes: BytesCallback | None = None,
    ) -> DownloadSummary:
        """Download every output of *kind* into *dest_dir*, in parallel; skip the ones
        whose local copy is already identical.

        Task kinds go to ``<dest_dir>/<task id>/<path>`` (all tasks, or *task_ids*); job
        kinds to ``<dest_dir>/<path>``. Each file is streamed and written atomically.
        Local paths are built from the parsed blob name, so no blob name can write
        outside *dest_dir*: names the conventions never produce (such as
        ``t/$TaskOutput/../../x``) are skipped with a warning. Below *dest_dir*, every
        directory is opened relative to its parent without following symbolic links, so
        a symlink inside *dest_dir* is never followed, even one another process swaps in
        while the download runs (rules LP-1 to LP-3).

        Incremental (rules IN-1 to IN-4): an output whose local file has the blob's size
        and MD5 (or, for a blob without an MD5, the blob's last-modified time as its
        mtime, stamped at download) is skipped, so running the same download again
        transfers only what is new, changed, missing or edited locally; *overwrite*
        downloads everything. Every download is checked against the blob's stored
        Content-MD5 (``IntegrityError``, rule IG-2).

        *progress*, if given, is called as ``progress(files_done, bytes_done)`` from the
        calling thread after each file (skipped files count, with their size). *on_bytes*,
        if given, is called as ``on_bytes(output, nbytes)`` from the download threads as
        each chunk is written (4 MiB after the first 32 MiB with azure's defaults): it
        must be thread-safe.

        *max_concurrency* files download at once; a file larger than 32 MiB comes in
        chunks, *chunk_concurrency* at once (default ``max(1, 32 // max_concurrency)``:
        files x chunks in flight stay within 32; see ``conventions._transport``).

        One output's failure does not stop the others: everything that can be downloaded
        is, then ``DownloadError`` reports the rest::

            try:
                job.download(TaskOutputKind.TASK_OUTPUT, "out/")
            except DownloadError as error:
                for failure in error.failures:      # output, local_path, error
                    print(failure)

        Raises:
            InvalidKindError: *task_ids* given with a job kind.
            ContainerNotFoundError, AccessDeniedError (``l`` to list), StorageError: the
                listing failed, or the container vanished: at once.
            DownloadError: some outputs were not downloaded (``LocalPathError``,
                ``OutputNotFoundError`` when deleted meanwhile, ``AccessDeniedError`` without
                ``r``, ``IntegrityError``, ``StorageError``); its ``failures`` name each
                blob, local path and error, its ``summary`` what was written.
            LocalPathError: *dest_dir* cannot be made or opened.
        """
        # Both settings are checked before the listing's first request.
        chunks_per_file(transfer.check_concurrency(max_concurrency), chunk_concurrency)
        return self.download_outputs(
            self.find_outputs(kind, task_ids),
            dest_dir,
            overwrite=overwrite,
            max_concurrency=max_concurrency,
            chunk_concurrency=chunk_concurrency,
            progress=progress,
            on_bytes=on_bytes,
        )

    def download_outputs(
        self,
        outputs: Iterable[OutputFileReference],
        dest_dir: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        max_concurrency: int = _DEFAULT_CONCURRENCY,
        chunk_concurrency: int | None = None,
        progress: ProgressCallback | None = None,
        on_bytes: BytesCallback | None = None,
    ) -> DownloadSummary:
        """Download the given *outputs* (e.g. from a listing you already made) into *dest_dir*.

        The same layout, atomicity, containment, skipping, *progress* and *on_bytes* as
        :meth:`download`, which lists a kind and calls this; use it to avoid listing
        twice, or to download a filtered selection.
        """
        return transfer.download_outputs(
            outputs,
            dest_dir,
            overwrite=overwrite,
            max_concurrency=max_concurrency,
            chunk_concurrency=chunk_concurrency,
            progress=progress,
            on_bytes=on_bytes,
        )

    def iter_download(
        self,
        outputs: Iterable[OutputFileReference],
        dest_dir: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        max_concurrency: int = _DEFAULT_CONCURRENCY,
        chunk_concurrency: int | None = None,
        on_bytes: BytesCallback | None = None,
    ) -> Generator[DownloadedOutput | DownloadFailure, None, None]:
        """Download *outputs* like :meth:`download_outputs`, yielding each one's
        :class:`DownloadedOutput` (fetched or skipped) or :class:`DownloadFailure` as it
        finishes, on the calling thread, in completion order. Closing the generator early
        starts nothing new and lets the running downloads end.

        Raises (while iterating): ``ContainerNotFoundError`` at once; ``LocalPathError``
        when *dest_dir* cannot be made or opened. Bad settings, and an item of *outputs*
        that is not an ``OutputFileReference``, raise here, before any request.
        """
        chunks_per_file(transfer.check_concurrency(max_concurrency), chunk_concurrency)
        if isinstance(outputs, (list, tuple)):
            transfer.check_references(outputs)
        return transfer.iter_download(
            outputs,
            dest_dir,
            overwrite=overwrite,
            max_concurrency=max_concurrency,
            chunk_concurrency=chunk_concurrency,
            on_bytes=on_bytes,
        )

    def watch(
        self,
        kind: JobOutputKind | TaskOutputKind,
        dest_dir: str | os.PathLike[str],
        *,
        task_ids: Iterable[str] | None = None,
        interval: float = 10.0,
        idle_exit: float | None = None,
        overwrite: bool = False,
        max_concurrency: int = _DEFAULT_CONCURRENCY,
        on_bytes: BytesCallback | None = None,
    ) -> Generator[DownloadedOutput | DownloadFailure, None, None]:
        """Download the outputs of *kind* as they appear: list every *interval* seconds
        and yield each new or changed output as it is fetched (results as tasks finish).

        The first round is a normal incremental download (identical local copies are
        yielded as skipped). Later rounds consider only blobs that are new or whose ETag
        changed since they were last handled, so an unchanged output is not hashed again;
        a failed output is retried next round. Runs until *idle_exit* seconds pass with
        nothing new or changed (``None``: forever; stop it with Ctrl-C or by closing the
        generator)::

            for result in job.watch(TaskOutputKind.TASK_OUTPUT, "out/", idle_exit=600):
                print(result)

        Raises (while iterating): as :meth:`download`'s listing (``ContainerNotFoundError``,
        ``AccessDeniedError``...); per-output failures are yielded, not raised. Raises
        ``InvalidSettingError`` here, before any request, for an *interval* that is not a
        finite number of seconds in ``(0, threading.TIMEOUT_MAX]``, an *idle_exit* that
        is not ``None`` or finite and at least 0, or a *max_concurrency* that is not a
        whole number of at least 1.
        """
        transfer.check_watch(interval, idle_exit, max_concurrency)
        chosen = None if task_ids is None else list(task_ids)
        return transfer.watch(
            lambda: self.find_outputs(kind, chosen),
            dest_dir,
            interval=interval,
            idle_exit=idle_exit,
            overwrite=overwrite,
            max_concurrency=max_concurrency,
            on_bytes=on_bytes,
        )

    # -- clean-up -----------------------------------------------------------------------------

    def find_outputs(
        self,
        kind: JobOutputKind | TaskOutputKind | None = None,
        task_ids: Iterable[str] | None = None,
    ) -> Iterator[OutputFileReference]:
        """Iterate over the outputs of *kind* (every kind if ``None``), of every task or of
        *task_ids*: what :meth:`download` downloads and :meth:`delete` deletes. A job kind
        with *task_ids* raises ``InvalidKindError``; with no kind and no *task_ids*, every
        output of the job."""
        _check_task_id_list(task_ids)
        if isinstance(kind, JobOutputKind):
            if task_ids is not None:
                raise InvalidKindError(kind, "is a job kind; task_ids applies to task kinds")
            return self.list_outputs(kind)
        if kind is not None:
            return self.list_task_outputs(kind, task_ids)
        if task_ids is None:
            return self.list_all()
        prefixes = [check_task_id(task_id) + "/" for task_id in task_ids]
        return (ref for prefix in prefixes for _, ref in self._list(prefix))

    def delete_outputs(
        self, outputs: Iterable[OutputFileReference], *, max_concurrency: int = 8
    ) -> DeleteSummary:
        """Delete the given *outputs* (e.g. a listing you showed the user first), in Blob
        Batch requests of up to 256 (:func:`conventions.cleanup.delete_blobs`), taken from
        *outputs* (which may be a lazy listing) only as requests finish::

            try:
                summary = job.delete_outputs(job.find_outputs(TaskOutputKind.TASK_LOG))
            except DeleteError as error:
                for failure in error.failures:  # each names its blob, and why
                    print(failure)

        Returns a ``DeleteSummary`` (``deleted``, ``missing``: already gone, ``failed``).

        Raises:
            DeleteError: after every output was tried, if any was not deleted: its
                ``failures`` list each (``AccessDeniedError`` when a SAS lacks ``d``: sign
                one with ``output_container_url(..., permissions="racwdl")`` or
                ``batch-conventions sas --permissions racwdl``), its ``summary`` what was
                done. Also when the listing fails after deletes were sent: it says how
                many were deleted before.
            ContainerNotFoundError, AccessDeniedError, StorageError: the listing failed
                before any delete was sent.
            InvalidArgumentError: an item of *outputs* is not an ``OutputFileReference``
                (a list is checked whole before any request; a lazy iterable as it is
                taken, before its batch is sent).
        """
        transfer.check_concurrency(max_concurrency)
        if isinstance(outputs, (list, tuple)):  # else checked as taken, before its batch
            transfer.check_references(outputs)
        names = (transfer.check_reference(reference).blob_name for reference in outputs)
        return delete_blobs(self.container_client, names, max_concurrency=max_concurrency)

    def delete(
        self,
        kind: JobOutputKind | TaskOutputKind | None = None,
        *,
        task_ids: Iterable[str] | None = None,
    ) -> DeleteSummary:
        """Delete the outputs of *kind* (every kind if ``None``) of every task or of
        *task_ids* (see :meth:`find_outputs`); other kinds and tasks stay::

            job.delete(TaskOutputKind.TASK_INTERMEDIATE)              # every task's
            job.delete(TaskOutputKind.TASK_LOG, task_ids=["t1", "t2"])

        Blobs whose names break the conventions are not touched (see
        :meth:`delete_container` for everything). Needs SAS ``l`` and ``d``. Returns and
        raises as :meth:`delete_outputs`.
        """
        return self.delete_outputs(self.find_outputs(kind, task_ids))

    def delete_container(self) -> None:
        """Delete the job's container and everything in it (not only conventions-named
        blobs). Needs the account key or an Entra ID credential: a container SAS cannot.

        Raises:
            ContainerNotFoundError: it does not exist.
            AccessDeniedError, StorageError: from storage.
        """
        with translate_errors("delete", container=self.container_name):
            self.container_client.delete_container()
        _log.info("deleted container %s", self.container_name)


def _check_task_id_list(task_ids: object) -> None:
    # A str is an iterable of one-character "IDs": "t1" would list tasks "t" and "1".
    if isinstance(task_ids, (str, bytes)):
        raise InvalidIdError(
            task_ids,
            f"must be an iterable of task IDs, not one string; write [{task_ids!r}]",
            subject="task_ids",
        )
