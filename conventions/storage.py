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

import functools
import glob
import logging
import mimetypes
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Generic, TypeVar

import attrs
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings

from ._azure_errors import translate_errors
from .blobs import (
    BlobLocation,
    _task_kind,
    job_blob_name,
    job_prefix,
    parse_blob_name,
    task_blob_name,
    task_prefix,
)
from .containers import container_name
from .errors import (
    ContainerMismatchError,
    ConventionsError,
    InvalidBlobNameError,
    InvalidKindError,
    InvalidPathError,
    MissingEnvironmentVariableError,
)
from .identity import CLIENT_ID_ENV, storage_credential
from .ids import check_job_id, check_task_id
from .kinds import JobOutputKind, TaskOutputKind
from .output_files import has_wildcard
from .references import OutputFileReference
from .tracked import TrackedFile
from .urls import redact_sas

__all__ = [
    "ACCOUNT_URL_ENV",
    "CLIENT_ID_ENV",
    "CONNECTION_STRING_ENV",
    "CONTAINER_URL_ENV",
    "JOB_ID_ENV",
    "TASK_ID_ENV",
    "DownloadSummary",
    "JobOutputStorage",
    "MissingEnvironmentVariableError",
    "ProgressCallback",
    "TaskOutputStorage",
]

_log = logging.getLogger("conventions")

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

#: ``progress(files_done, bytes_done)``, called from the calling thread after each file.
ProgressCallback = Callable[[int, int], None]

_DEFAULT_CONCURRENCY = 8

_T = TypeVar("_T")
_S = TypeVar("_S", bound="_Storage[Any]")
K = TypeVar("K", JobOutputKind, TaskOutputKind)


@attrs.frozen
class DownloadSummary:
    """What a download did: how many files, how many bytes, how long it took.

    >>> DownloadSummary(files=2, bytes=7, seconds=0.25)
    DownloadSummary(files=2, bytes=7, seconds=0.25)
    """

    files: int
    bytes: int
    seconds: float


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
        client = ContainerClient.from_container_url(url, **client_kwargs)
        checked_job = None if allow_other_container else job_id
        return _check_container(client, checked_job, source=CONTAINER_URL_ENV)
    connection_string = environ.get(CONNECTION_STRING_ENV)
    if connection_string:
        return ContainerClient.from_connection_string(
            connection_string, container_name(job_id), **client_kwargs
        )
    account_url = environ.get(ACCOUNT_URL_ENV)
    if account_url:
        kwargs = dict(client_kwargs)
        credential = kwargs.pop("credential", None)
        if credential is None:
            credential = storage_credential(environ.get(CLIENT_ID_ENV) or None)
        return ContainerClient(
            account_url, container_name(job_id), credential=credential, **kwargs
        )
    raise MissingEnvironmentVariableError(
        CONTAINER_URL_ENV,
        f"set one of {CONTAINER_URL_ENV} (the job's container URL with SAS), "
        f"{CONNECTION_STRING_ENV}, or {ACCOUNT_URL_ENV} (the account's blob endpoint, "
        f"signing in with the managed identity whose client id is in {CLIENT_ID_ENV}, "
        "else DefaultAzureCredential)",
    )


def _account_container(
    account_url: str, job_id: str, credential: Any, client_kwargs: dict[str, Any]
) -> ContainerClient:
    if credential is None:
        credential = storage_credential()
    return ContainerClient(
        account_url, container_name(job_id), credential=credential, **client_kwargs
    )


def _content_settings(name: str, *, charset: str | None = None) -> ContentSettings:
    content_type = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
    if charset and content_type.startswith("text/"):
        content_type += f"; charset={charset}"
    return ContentSettings(content_type=content_type)


def _run_parallel(
    work: Iterable[Callable[[], _T]],
    max_concurrency: int,
    on_done: Callable[[_T], None] | None = None,
) -> list[_T]:
    """Run the callables on a thread pool, results in input order; first error wins."""
    if max_concurrency < 1:
        raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency}")
    with ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="conventions") as pool:
        futures: list[Future[_T]] = [pool.submit(job) for job in work]
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in done:
                    result = future.result()  # raises the first error
                    if on_done is not None:
                        on_done(result)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return [future.result() for future in futures]


@attrs.define(eq=False)
class _Storage(Generic[K]):
    """What both storages share: the container client, its lifetime, listing, and the
    save/list/get methods, written once for either kind type ``K``; the subclasses name
    the blobs (``output_prefix``, ``blob_name``)."""

    #: The job's container. Closed by :meth:`close` (a client made by
    #: ``BlobServiceClient.get_container_client`` does not close its parent's transport).
    container_client: ContainerClient

    @property
    def container_name(self) -> str:
        """The container's name (never its URL, which may carry a SAS)."""
        return str(self.container_client.container_name)

    def close(self) -> None:
        """Close the container client."""
        self.container_client.close()

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
            if field.name != "container_client"
        )
        return f"{type(self).__name__}(container_url={url!r}{extra})"


    # -- names (the subclasses' part) ---------------------------------------------------------

    def output_prefix(self, kind: K) -> str:
        """The kind's folder, without a trailing ``/`` (rule BP-1)."""
        raise NotImplementedError

    def blob_name(self, kind: K, path: str) -> str:
        """The blob name for *path* under *kind* (rule BN-1); raises for a bad path."""
        raise NotImplementedError

    def _stored_name(
        self, kind: K, path: str | os.PathLike[str], destination: str | None
    ) -> str:
        return self.blob_name(kind, destination if destination is not None else os.fspath(path))

    # -- saving -------------------------------------------------------------------------------

    def save(
        self,
        kind: K,
        path: str | os.PathLike[str],
        *,
        destination: str | None = None,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> OutputFileReference:
        """Upload the file *path* as an output of *kind*, overwriting any earlier one.

        A relative *path* is read relative to *base_dir* (default: the current
        directory) and is also the stored path, unless *destination* is given; either
        goes through ``destination_path`` (``..\\x`` is stored as ``x``). The content
        type is guessed from the name.

        Raises:
            InvalidPathError: the stored path is empty, absolute or escapes (before any
                request); pass *destination* for an absolute *path*.
            InvalidKindError: a kind of the other type (rule KD-2).
            ContainerNotFoundError, AccessDeniedError, StorageError: from storage.
        """
        return self._save_file(self._stored_name(kind, path, destination), path, base_dir)

    def save_text(
        self, kind: K, text: str, destination: str, *, encoding: str = "utf-8"
    ) -> OutputFileReference:
        """Store *text* (encoded as *encoding*) as the output *destination* of *kind*."""
        name = self.blob_name(kind, destination)
        data = text.encode(encoding)
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
    ) -> list[OutputFileReference]:
        """Save many files in parallel (threads, one client), each under its relative path.

        *paths_or_glob* is a list of paths or one glob pattern (``**`` recurses), both
        relative to *base_dir* (default: the current directory). Every path is checked
        before the first upload. Returns the references in input (or sorted glob) order;
        the first failure is raised once running uploads finish.
        """
        paths = _expand(paths_or_glob, base_dir)
        names = [self.blob_name(kind, path) for path in paths]  # validate all first
        work = [
            functools.partial(self._save_file, name, path, base_dir)
            for name, path in zip(names, paths, strict=True)
        ]
        return _run_parallel(work, max_concurrency)

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

    # -- plumbing -----------------------------------------------------------------------------

    def _list(self, prefix: str | None) -> Iterator[tuple[BlobLocation, OutputFileReference]]:
        """List blobs under *prefix*, lazily, skipping (with a warning) unconventional names."""
        with translate_errors("list outputs in", container=self.container_name, permission="l"):
            pages = self.container_client.list_blobs(name_starts_with=prefix)
            iterator = iter(pages)
        while True:
            with translate_errors(
                "list outputs in", container=self.container_name, permission="l"
            ):
                properties = next(iterator, None)
            if properties is None:
                return
            try:
                location = parse_blob_name(properties.name)
            except InvalidBlobNameError as error:
                _log.warning("skipping blob that breaks the conventions: %s", error)
                continue
            blob_client = self.container_client.get_blob_client(properties.name)
            # Built from the location parsed above: each name is parsed once.
            reference = OutputFileReference.from_location(
                blob_client,
                location,
                size=properties.size,
                last_modified=properties.last_modified,
            )
            yield location, reference

    def _get(self, blob_name: str) -> OutputFileReference:
        blob_client = self.container_client.get_blob_client(blob_name)
        with translate_errors(
            "get output", container=self.container_name, blob=blob_name, permission="r"
        ):
            properties = blob_client.get_blob_properties()
        return OutputFileReference.from_properties(blob_client, properties)

    def _upload(
        self, blob_name: str, data: bytes | IO[bytes], size: int, settings: ContentSettings
    ) -> OutputFileReference:
        blob_client = self.container_client.get_blob_client(blob_name)
        with translate_errors(
            "save output", container=self.container_name, blob=blob_name, permission="w"
        ):
            response = blob_client.upload_blob(
                data, length=size, overwrite=True, content_settings=settings
            )
        _log.debug("saved %s (%d bytes)", blob_name, size)
        return OutputFileReference.from_blob(
            blob_client, size=size, last_modified=response.get("last_modified")
        )

    def _save_file(
        self,
        blob_name: str,
        path: str | os.PathLike[str],
        base_dir: str | os.PathLike[str] | None,
    ) -> OutputFileReference:
        source = Path(path)
        if not source.is_absolute():
            source = Path(base_dir if base_dir is not None else os.getcwd()) / source
        with open(source, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            return self._upload(blob_name, file, size, _content_settings(blob_name))


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
        matches = sorted(glob.glob(pattern, root_dir=root, recursive=True))
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
        client = ContainerClient.from_container_url(container_url, **client_kwargs)
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
        return cls(service_client.get_container_client(container_name(job_id)), task_id)

    @classmethod
    def from_connection_string(
        cls, connection_string: str, job_id: str, task_id: str, **client_kwargs: Any
    ) -> TaskOutputStorage:
        """Storage on the job's container of the account in *connection_string*."""
        check_task_id(task_id)
        client = ContainerClient.from_connection_string(
            connection_string, container_name(job_id), **client_kwargs
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
    ) -> TrackedFile:
        """Stream the growing file *source* (a log) to an append blob while it is written.

        Returns a :class:`~conventions.tracked.TrackedFile`, not yet started: use it as a
        context manager (or ``start()``/``close()``). Every *flush_interval* seconds a
        background thread appends exactly what the file gained; closing uploads the rest,
        so that the blob is then byte-identical to the file. The stored path is
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
        cls, container_url: str, *, job_id: str | None = None, **client_kwargs: Any
    ) -> JobOutputStorage:
        """Storage on a container URL with SAS (``output_container_url``).

        Raises:
            ContainerMismatchError: *job_id* is given and the URL's container is not
                ``container_name(job_id)`` (one job, one container).
        """
        client = ContainerClient.from_container_url(container_url, **client_kwargs)
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
        return cls(service_client.get_container_client(container_name(job_id)))

    @classmethod
    def from_connection_string(
        cls, connection_string: str, job_id: str, **client_kwargs: Any
    ) -> JobOutputStorage:
        """Storage on the job's container of the account in *connection_string*."""
        return cls(
            ContainerClient.from_connection_string(
                connection_string, container_name(job_id), **client_kwargs
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
        with translate_errors("list tasks in", container=self.container_name, permission="l"):
            iterator = iter(self.container_client.walk_blobs(delimiter="/"))
        while True:
            with translate_errors("list tasks in", container=self.container_name, permission="l"):
                item = next(iterator, None)
            if item is None:
                return
            name = str(item.name)
            if not name.endswith("/"):
                continue  # a blob at the top level, not a folder
            folder = name[:-1]
            try:
                yield check_task_id(folder)
            except ConventionsError:
                continue  # "$JobOutput" and anything else that is not a task

    def task(self, task_id: str) -> TaskOutputStorage:
        """The storage of one task; it shares this storage's container client.

        Closing it closes the shared client too; close only the job storage instead.
        """
        return TaskOutputStorage(self.container_client, task_id)

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
        if task_ids is not None:
            prefixes = [task_prefix(task_id, kind) + "/" for task_id in task_ids]
            return (ref for prefix in prefixes for _, ref in self._list(prefix))
        return (
            ref
            for location, ref in self._list(None)
            if location.task_id is not None and location.kind == kind
        )

    def download(
        self,
        kind: JobOutputKind | TaskOutputKind,
        dest_dir: str | os.PathLike[str],
        *,
        task_ids: Iterable[str] | None = None,
        max_concurrency: int = _DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
    ) -> DownloadSummary:
        """Download every output of *kind* into *dest_dir*, in parallel.

        Task kinds go to ``<dest_dir>/<task id>/<path>`` (all tasks, or *task_ids*); job
        kinds to ``<dest_dir>/<path>``. Each file is streamed and written atomically.
        Local paths are built from the parsed blob name, so no blob name can write
        outside *dest_dir*: names the conventions never produce (such as
        ``t/$TaskOutput/../../x``) are skipped with a warning, and every target is
        checked to resolve inside *dest_dir*. *progress*, if given, is called as
        ``progress(files_done, bytes_done)`` from the calling thread after each file.

        Raises:
            InvalidKindError: *task_ids* given with a job kind.
            ContainerNotFoundError, AccessDeniedError (``l`` to list, ``r`` to read),
            OutputNotFoundError (deleted meanwhile), StorageError: the first failure,
                after the running downloads finish; files already written stay.
        """
        if isinstance(kind, JobOutputKind):
            if task_ids is not None:
                raise InvalidKindError(kind, "is a job kind; task_ids applies to task kinds")
            outputs: Iterable[OutputFileReference] = self.list_outputs(kind)
        else:
            outputs = self.list_task_outputs(kind, task_ids)
        return self.download_outputs(
            outputs, dest_dir, max_concurrency=max_concurrency, progress=progress
        )

    def download_outputs(
        self,
        outputs: Iterable[OutputFileReference],
        dest_dir: str | os.PathLike[str],
        *,
        max_concurrency: int = _DEFAULT_CONCURRENCY,
        progress: ProgressCallback | None = None,
    ) -> DownloadSummary:
        """Download the given *outputs* (e.g. from a listing you already made) into *dest_dir*.

        The same layout, atomicity, containment and *progress* as :meth:`download`, which
        lists a kind and calls this; use it to avoid listing twice, or to download a
        filtered selection.
        """
        started = time.monotonic()
        root = Path(dest_dir)
        root.mkdir(parents=True, exist_ok=True)
        resolved_root = root.resolve()
        totals = [0, 0]  # files, bytes; updated only on the calling thread

        def plan(reference: OutputFileReference) -> Callable[[], int]:
            def run() -> int:
                # On the worker: resolving the path costs system calls.
                target = _local_target(resolved_root, reference)
                reference.download_to_file(target)
                return reference.size or target.stat().st_size

            return run

        def done(size: int) -> None:
            totals[0] += 1
            totals[1] += size
            if progress is not None:
                progress(totals[0], totals[1])

        _run_parallel((plan(ref) for ref in outputs), max_concurrency, done)
        return DownloadSummary(
            files=totals[0], bytes=totals[1], seconds=time.monotonic() - started
        )


def _local_target(root: Path, reference: OutputFileReference) -> Path:
    """Where *reference* goes under *root* (already resolved); never outside it."""
    parts = reference.path.split("/")
    if reference.task_id is not None:
        parts.insert(0, reference.task_id)
    # parse_blob_name already rejected '..', '.', empty segments and '\\'; check the
    # result too, against anything the local file system treats specially.
    target = root.joinpath(*parts)
    # Resolved before any directory is made, so a symlink pointing out is caught first.
    if not target.resolve().is_relative_to(root) or target == root:
        raise InvalidPathError(
            reference.blob_name, f"would be written outside {str(root)!r}", subject="blob name"
        )
    return target
