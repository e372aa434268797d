# Generated from conventions/aio/_job_storage.py by scripts/unasync.py: do not edit.
# ruff: noqa
"""A job's container: :class:`JobOutputStorage` (re-exported by ``conventions.storage``,
where its users import it). The whole-job reading it inherits is in
``conventions._job_reading``."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs
from azure.storage.blob import BlobServiceClient

from ._azure_errors import translate_errors
from .blobs import job_blob_name, job_prefix
from .ids import check_job_id
from .kinds import JobOutputKind, TaskOutputKind
from .listing import task_folder
from . import _opening, transfer
from ._backend import each
from ._job_reading import _JobReader
from ._storage_base import bounded_pages
from ._task_storage import TaskOutputStorage
from .cleanup import DeleteSummary, delete_blobs
from .references import OutputFileReference

__all__ = ["JobOutputStorage"]

_log = logging.getLogger("conventions")


@attrs.define(eq=False, repr=False)
class JobOutputStorage(_JobReader):
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
        return cls(_opening.from_container_url(container_url, job_id, client_kwargs))

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
        return cls(_opening.from_account_url(account_url, job_id, credential, client_kwargs))

    @classmethod
    def from_service_client(
        cls, service_client: BlobServiceClient, job_id: str
    ) -> JobOutputStorage:
        """Storage on the job's container of *service_client* (shares its pipeline)."""
        return cls(_opening.from_service_client(service_client, job_id))

    @classmethod
    def from_connection_string(
        cls, connection_string: str, job_id: str, **client_kwargs: Any
    ) -> JobOutputStorage:
        """Storage on the job's container of the account in *connection_string*."""
        return cls(_opening.from_connection_string(connection_string, job_id, client_kwargs))

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
        _, client = _opening.from_environment(
            os.environ if environ is None else environ,
            client_kwargs,
            task=False,
            allow_other_container=allow_other_container,
        )
        return cls(client)

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
        for item in bounded_pages(pages, operation, self.container_name):
            task_id = task_folder(str(item.name))
            if task_id is not None:
                yield task_id

    def task(self, task_id: str) -> TaskOutputStorage:
        """The storage of one task; it borrows this storage's container client.

        It is a context manager like any storage, but its ``close()`` (and leaving a
        ``with`` block) leaves the shared client open: the job storage owns it and closes
        it.

        Raises:
            InvalidIdError: *task_id* is not a Batch task ID.
        """
        return TaskOutputStorage(self.container_client, task_id, owns_client=False)

    # -- clean-up -----------------------------------------------------------------------------

    def delete_outputs(
        self,
        outputs: Iterable[OutputFileReference] | Iterable[OutputFileReference],
        *,
        max_concurrency: int = 8,
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
        names = (transfer.check_reference(ref).blob_name for ref in each(outputs))
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
