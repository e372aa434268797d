# Generated from conventions/aio/_task_storage.py by scripts/unasync.py: do not edit.
# ruff: noqa
"""The outputs of one task: :class:`TaskOutputStorage` (re-exported by
``conventions.storage``, where its users import it)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs
from azure.storage.blob import BlobServiceClient

from .blobs import task_blob_name, task_prefix
from .ids import check_job_id, check_task_id
from .kinds import TaskOutputKind
from . import _opening
from ._storage_base import _Storage
from ._tracked_saves import TrackedSaves

__all__ = ["TaskOutputStorage"]


@attrs.define(eq=False, repr=False)
class TaskOutputStorage(TrackedSaves, _Storage[TaskOutputKind]):
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
        return cls(_opening.from_container_url(container_url, job_id, client_kwargs), task_id)

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
        client = _opening.from_account_url(account_url, job_id, credential, client_kwargs)
        return cls(client, task_id)

    @classmethod
    def from_service_client(
        cls, service_client: BlobServiceClient, job_id: str, task_id: str
    ) -> TaskOutputStorage:
        """Storage on the job's container (``container_name(job_id)``) of *service_client*.
        The container client shares the service client's pipeline (and its retry policy)."""
        check_task_id(task_id)
        return cls(_opening.from_service_client(service_client, job_id), task_id)

    @classmethod
    def from_connection_string(
        cls, connection_string: str, job_id: str, task_id: str, **client_kwargs: Any
    ) -> TaskOutputStorage:
        """Storage on the job's container of the account in *connection_string*."""
        check_task_id(task_id)
        client = _opening.from_connection_string(connection_string, job_id, client_kwargs)
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
        env, client = _opening.from_environment(
            os.environ if environ is None else environ,
            client_kwargs,
            task=True,
            allow_other_container=allow_other_container,
        )
        return cls(client, str(env.task_id))

    # -- names --------------------------------------------------------------------------------

    def output_prefix(self, kind: TaskOutputKind) -> str:
        """The kind's folder, ``<task id>/$<kind>``, without ``/`` (like .NET
        ``GetOutputStoragePath``; rule BP-1)."""
        return task_prefix(self.task_id, kind)

    def blob_name(self, kind: TaskOutputKind, path: str) -> str:
        """The blob name for *path* under *kind* (rule BN-1); raises for a bad path."""
        return task_blob_name(self.task_id, kind, path)
