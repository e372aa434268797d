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
    read_blob_name,
    task_blob_name,
    task_prefix,
)
from .containers import container_name, is_valid_container_name
from .errors import (
    AccessDeniedError,
    AppendBlobLimitError,
    AppendConflictError,
    BlobChangedError,
    ContainerMismatchError,
    ContainerNotFoundError,
    ConventionsError,
    CredentialError,
    DeleteError,
    DownloadError,
    FollowTimeoutError,
    IntegrityError,
    InvalidArgumentError,
    InvalidBlobNameError,
    InvalidIdError,
    InvalidKindError,
    InvalidOutputFileError,
    InvalidPathError,
    InvalidSettingError,
    InvalidTrackingOptionError,
    LocalPathError,
    MissingDependencyError,
    MissingEnvironmentVariableError,
    NoMatchingFilesError,
    OutputNotFoundError,
    SasError,
    StorageError,
    TrackedBlobExistsError,
    TrackedFileChangedError,
    TrackedFileMissingError,
    TrackedFileReplacedError,
    TrackedFileTruncatedError,
    TrackedSourceError,
    TrackingError,
    WriterGoneError,
)
from .kinds import JobOutputKind, TaskOutputKind
from .output_files import (
    OutputFile,
    UploadCondition,
    default_condition,
    has_wildcard,
    job_output_file,
    std_logs,
    task_output_file,
)
from .paths import destination_path, local_relative_path
from .planner import PlannedUpload, plan_uploads, upload_planned

__version__ = "0.1.0.dev0"

__all__ = [
    "AccessDeniedError",
    "AppendBlobLimitError",
    "AppendConflictError",
    "BlobChangedError",
    "BlobLocation",
    "ContainerMismatchError",
    "ContainerNotFoundError",
    "ConventionsError",
    "CredentialError",
    "DeleteError",
    "DownloadError",
    "FollowTimeoutError",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidBlobNameError",
    "InvalidIdError",
    "InvalidKindError",
    "InvalidOutputFileError",
    "InvalidPathError",
    "InvalidSettingError",
    "InvalidTrackingOptionError",
    "JobOutputKind",
    "LocalPathError",
    "MissingDependencyError",
    "MissingEnvironmentVariableError",
    "NoMatchingFilesError",
    "OutputFile",
    "OutputNotFoundError",
    "PlannedUpload",
    "SasError",
    "StorageError",
    "TaskOutputKind",
    "TrackedBlobExistsError",
    "TrackedFileChangedError",
    "TrackedFileMissingError",
    "TrackedFileReplacedError",
    "TrackedFileTruncatedError",
    "TrackedSourceError",
    "TrackingError",
    "UploadCondition",
    "WriterGoneError",
    "__version__",
    "container_name",
    "default_condition",
    "destination_path",
    "has_wildcard",
    "is_valid_container_name",
    "job_blob_name",
    "job_output_file",
    "job_prefix",
    "local_relative_path",
    "parse_blob_name",
    "plan_uploads",
    "read_blob_name",
    "std_logs",
    "task_blob_name",
    "task_output_file",
    "task_prefix",
    "upload_planned",
]
