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

The classes live in small modules (``_storage_base``: what both share; ``_task_storage``;
``_job_storage`` and ``_job_reading``; ``_opening``: the constructors, written once for
both; ``_uploads``: the saves' requests), with their decisions in pure modules
(``environment``, ``listing``, ``upload_plan``); this module is where they are imported
from. Imports azure-storage-blob; ``import conventions`` does not load this module.
"""

from __future__ import annotations

# Importing any of these installs the log filter that redacts SAS signatures: from now on
# no log record of urllib3, azure or conventions shows one (conventions._log_redaction).
from . import _uploads
from ._job_storage import JobOutputStorage
from ._task_storage import TaskOutputStorage
from .environment import (
    ACCOUNT_URL_ENV,
    CLIENT_ID_ENV,
    CONNECTION_STRING_ENV,
    CONTAINER_URL_ENV,
    JOB_ID_ENV,
    TASK_ID_ENV,
)
from .errors import MissingEnvironmentVariableError
from .transfer import (
    BytesCallback,
    DownloadedOutput,
    DownloadFailure,
    DownloadSummary,
    ProgressCallback,
)

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

# conventions.planner imports it from here.
_content_settings = _uploads.content_settings
