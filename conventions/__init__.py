"""Azure Batch File Conventions for Python.

The pure naming rules live here and import no Azure module; storage lives in
submodules that import azure-storage-blob.

>>> import conventions
>>> conventions.container_name("MyTerrificJob")
'job-myterrificjob'
>>> conventions.task_blob_name("t1", conventions.TaskOutputKind.TASK_LOG, "stdout.txt")
't1/$TaskLog/stdout.txt'
"""

from __future__ import annotations

from .blobs import (
    BlobLocation,
    job_blob_name,
    job_prefix,
    parse_blob_name,
    task_blob_name,
    task_prefix,
)
from .containers import container_name, is_valid_container_name
from .errors import (
    AccessDeniedError,
    ContainerNotFoundError,
    ConventionsError,
    InvalidBlobNameError,
    InvalidIdError,
    InvalidKindError,
    InvalidOutputFileError,
    InvalidPathError,
    MissingDependencyError,
    OutputNotFoundError,
    StorageError,
)
from .kinds import JobOutputKind, TaskOutputKind
from .paths import destination_path

__version__ = "0.1.0.dev0"

__all__ = [
    "AccessDeniedError",
    "BlobLocation",
    "ContainerNotFoundError",
    "ConventionsError",
    "InvalidBlobNameError",
    "InvalidIdError",
    "InvalidKindError",
    "InvalidOutputFileError",
    "InvalidPathError",
    "JobOutputKind",
    "MissingDependencyError",
    "OutputNotFoundError",
    "StorageError",
    "TaskOutputKind",
    "__version__",
    "container_name",
    "destination_path",
    "is_valid_container_name",
    "job_blob_name",
    "job_prefix",
    "parse_blob_name",
    "task_blob_name",
    "task_prefix",
]
