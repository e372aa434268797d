"""The async face: the same storages, references and helpers as the sync one, on asyncio.

Same names, same parameters, same behaviour as ``conventions.storage``, over
``azure.storage.blob.aio`` and ``azure.identity.aio``; what does I/O is awaited, listings
and downloads as they finish are ``async for``, storages are ``async with``. Needs the
``aio`` extra (aiohttp): ``pip install 'batch-file-conventions[aio]'``; ``import
conventions`` and the sync face never load it::

    import asyncio

    from conventions import TaskOutputKind
    from conventions.aio import JobOutputStorage

    async def main(connection_string: str) -> None:
        async with JobOutputStorage.from_connection_string(connection_string, "my-job") as job:
            summary = await job.download(TaskOutputKind.TASK_OUTPUT, "out/")
            print(summary.files, "files")
            async for ref in job.list_task_outputs(TaskOutputKind.TASK_LOG):
                print(ref.task_id, ref.path)

    asyncio.run(main("..."))

These modules are the only hand-written copy of the library's I/O sequencing: the sync
face is generated from them (``scripts/unasync.py``); what differs by face is in each
package's ``_backend``, ``_transport``, ``_fetch``, ``_follow_read`` and ``_tracked_run``.
"""

from __future__ import annotations

from .._download_plan import DEFAULT_CHUNK_CONCURRENCY
from ..environment import (
    ACCOUNT_URL_ENV,
    CLIENT_ID_ENV,
    CONNECTION_STRING_ENV,
    CONTAINER_URL_ENV,
    JOB_ID_ENV,
    TASK_ID_ENV,
)
from ..errors import MissingEnvironmentVariableError
from ._backend import DEFAULT_CONCURRENCY
from ._fetch import DownloadStream
from ._job_storage import JobOutputStorage
from ._task_storage import TaskOutputStorage
from .cleanup import DeleteSummary
from .identity import storage_credential
from .references import OutputFileReference
from .sas import output_container_url, prepare_output_storage
from .tracked import TrackedFile
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
    "DEFAULT_CHUNK_CONCURRENCY",
    "DEFAULT_CONCURRENCY",
    "JOB_ID_ENV",
    "TASK_ID_ENV",
    "BytesCallback",
    "DeleteSummary",
    "DownloadFailure",
    "DownloadStream",
    "DownloadSummary",
    "DownloadedOutput",
    "JobOutputStorage",
    "MissingEnvironmentVariableError",
    "OutputFileReference",
    "ProgressCallback",
    "TaskOutputStorage",
    "TrackedFile",
    "output_container_url",
    "prepare_output_storage",
    "storage_credential",
]
