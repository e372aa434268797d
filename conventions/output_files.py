"""OutputFile lists for the Batch service, following the conventions (rules OF-1 to OF-7).

A task hands the Batch service a list of OutputFiles; the service uploads the files that
match each pattern when the task's process exits. The builders here put every file under
its kind's folder (``<task id>/$<kind>`` or ``$<kind>``), so the portal and the storage
layer of this library find them.

Pure: stdlib, attrs and the pure rule modules only. ``azure.batch`` is imported lazily by
:meth:`OutputFile.to_batch_model`.
"""

from __future__ import annotations

import datetime
import enum
import fnmatch
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._output_file_checks import (
    Header,
    check_container_url,
    check_headers,
    check_identity,
    check_path,
    check_pattern,
    has_wildcard,
    redacted_repr,
    sas_fields,
    to_headers,
)
from .blobs import job_prefix, task_prefix
from .errors import (
    InvalidArgumentError,
    InvalidOutputFileError,
)
from .kinds import JobOutputKind, TaskOutputKind, check_writable
from .paths import destination_path
from .urls import redact_sas, sas_expiry

if TYPE_CHECKING:
    from azure.batch import models as batch_models

__all__ = [
    "OutputFile",
    "UploadCondition",
    "default_condition",
    "has_wildcard",
    "job_output_file",
    "std_logs",
    "task_output_file",
]

#: The pattern of the task's standard output and error, next to its working directory.
STD_LOGS_PATTERN = "../std*.txt"

class UploadCondition(str, enum.Enum):
    """When the Batch service uploads an OutputFile (rule OF-6).

    The values are the REST strings. Any casing parses (the docs and the service also
    write ``TaskCompletion``); the value is always lower case, like the SDKs emit.

    >>> UploadCondition("TaskSuccess")
    <UploadCondition.TASK_SUCCESS: 'tasksuccess'>
    >>> str(UploadCondition.TASK_COMPLETION)
    'taskcompletion'
    >>> UploadCondition.TASK_FAILURE.applies(exit_code=0)
    False
    """

    TASK_SUCCESS = "tasksuccess"
    """Upload only if the task's process exits with code 0."""
    TASK_FAILURE = "taskfailure"
    """Upload only if the task's process exits with a nonzero code."""
    TASK_COMPLETION = "taskcompletion"
    """Upload whatever the exit code."""

    @classmethod
    def _missing_(cls, value: object) -> UploadCondition | None:
        if isinstance(value, str):
            folded = value.lower()
            for member in cls:
                if member.value == folded:
                    return member
        return None

    def __str__(self) -> str:
        return self.value

    def applies(self, *, exit_code: int) -> bool:
        """Tell whether the service uploads under this condition after *exit_code*."""
        check_exit_code(exit_code)
        if self is UploadCondition.TASK_SUCCESS:
            return exit_code == 0
        if self is UploadCondition.TASK_FAILURE:
            return exit_code != 0
        return True


def check_exit_code(exit_code: object) -> int:
    """Return *exit_code* if it is an ``int`` (not a ``bool``), else raise.

    ``"0"`` would compare unequal to ``0`` and plan nothing for ``tasksuccess`` entries.
    """
    if not isinstance(exit_code, int) or isinstance(exit_code, bool):
        raise InvalidArgumentError(
            exit_code, "must be an int, the task's process exit code", subject="exit_code"
        )
    return exit_code


def default_condition(kind: JobOutputKind | TaskOutputKind) -> UploadCondition:
    """Return the upload condition an output of *kind* gets when none is given (decision D-42).

    Outputs upload on task success: a failed task's partial files must not appear where
    its results are read. Logs (``TaskLog``) upload on completion: they are most wanted
    when the task failed. The builders, :func:`std_logs` and the CLI all use this.

    >>> print(default_condition(TaskOutputKind.TASK_OUTPUT))
    tasksuccess
    >>> print(default_condition(TaskOutputKind.TASK_LOG))
    taskcompletion
    """
    if kind == TaskOutputKind.TASK_LOG:
        return UploadCondition.TASK_COMPLETION
    return UploadCondition.TASK_SUCCESS


def _default_condition_for_path(path: str | None) -> UploadCondition:
    # An OutputFile knows its kind only through its path: '<task id>/$TaskLog[/...]'.
    if path is not None and path.split("/")[1:2] == ["$" + TaskOutputKind.TASK_LOG.text]:
        return UploadCondition.TASK_COMPLETION
    return UploadCondition.TASK_SUCCESS


def _to_condition(value: UploadCondition | str) -> UploadCondition:
    try:
        return UploadCondition(value)
    except ValueError:
        raise InvalidOutputFileError(
            value,
            "must be 'tasksuccess', 'taskfailure' or 'taskcompletion', in any casing (rule OF-6)",
            subject="upload condition",
        ) from None


@attrs.frozen
class OutputFile:
    """One entry of a task's ``outputFiles``: what to upload, where, and when.

    Validated at construction (rules OF-1 to OF-7). Its ``repr`` and ``str`` never show
    a SAS signature. Build it with :func:`task_output_file`, :func:`job_output_file` or
    :func:`std_logs` rather than by hand.

    >>> url = "https://acct.blob.core.windows.net/job-abc?sv=2023-11-03&sp=cw&sig=s3cr3t"
    >>> of = OutputFile("../std*.txt", url, "t1/$TaskLog")
    >>> of  # doctest: +NORMALIZE_WHITESPACE
    OutputFile(file_pattern='../std*.txt',
        container_url='https://acct.blob.core.windows.net/job-abc?sv=2023-11-03&sp=cw&sig=REDACTED',
        path='t1/$TaskLog', upload_condition=<UploadCondition.TASK_COMPLETION: 'taskcompletion'>,
        identity=None, headers=())
    >>> OutputFile.from_dict(of.to_dict()) == of
    True
    >>> OutputFile("out.txt", "https://acct.blob.core.windows.net/job-abc", "t1/out.txt")
    Traceback (most recent call last):
    ...
    conventions.errors.InvalidOutputFileError: container url '...' has neither a SAS ... (rule OF-3)
    """

    file_pattern: str = attrs.field(validator=check_pattern)
    """Which files to upload, relative to the task's working directory (rule OF-1)."""
    container_url: str = attrs.field(validator=check_container_url, repr=redacted_repr)
    """The container, with a SAS that grants write unless :attr:`identity` is set."""
    path: str | None = attrs.field(default=None, validator=check_path)
    """The blob name (no wildcard) or virtual directory (wildcard); ``None``: the root."""
    upload_condition: UploadCondition = attrs.field(
        default=attrs.Factory(lambda self: _default_condition_for_path(self.path), takes_self=True),
        converter=_to_condition,
    )
    """When the service uploads (rule OF-6); by default on task success, and on task
    completion for a ``$TaskLog`` path (decision D-42)."""
    identity: str | None = attrs.field(default=None, validator=check_identity)
    """ARM resource ID of the pool's user-assigned identity that writes to the container."""
    headers: tuple[Header, ...] = attrs.field(
        default=(), converter=to_headers, validator=check_headers
    )
    """Put Blob request headers, as ``(name, value)`` pairs, sent with every upload."""

    def __attrs_post_init__(self) -> None:
        fields = sas_fields(self.container_url)
        signed = bool(fields.get("sig", [""])[0])
        if not signed and self.identity is None:
            raise InvalidOutputFileError(
                redact_sas(self.container_url),
                "has neither a SAS ('sig=') nor a managed identity; the service fails with "
                "FileUploadMiscError (rule OF-3)",
                subject="container url",
            )
        if signed:
            permissions = fields.get("sp")
            if permissions is None and "si" in fields:
                return  # the permissions are in a stored access policy (decision D-13)
            if permissions is None or "w" not in permissions[0]:
                raise InvalidOutputFileError(
                    redact_sas(self.container_url),
                    "has a SAS without write ('w') permission; the service cannot upload "
                    "(rule OF-3)",
                    subject="container url",
                )

    def to_dict(self) -> dict[str, Any]:
        """Return the REST JSON of this OutputFile, as the Batch service and SDKs write it.

        >>> url = "https://acct.blob.core.windows.net/job-abc?sp=w&sig=x"
        >>> OutputFile("out.txt", url, "t1/$TaskOutput/out.txt", "TaskSuccess").to_dict()
        ... # doctest: +NORMALIZE_WHITESPACE
        {'filePattern': 'out.txt', 'destination': {'container':
            {'containerUrl': 'https://acct.blob.core.windows.net/job-abc?sp=w&sig=x',
             'path': 't1/$TaskOutput/out.txt'}},
         'uploadOptions': {'uploadCondition': 'tasksuccess'}}
        """
        container: dict[str, Any] = {"containerUrl": self.container_url}
        if self.path is not None:
            container["path"] = self.path
        if self.identity is not None:
            container["identityReference"] = {"resourceId": self.identity}
        if self.headers:
            container["uploadHeaders"] = [
                {"name": name} if value is None else {"name": name, "value": value}
                for name, value in self.headers
            ]
        return {
            "filePattern": self.file_pattern,
            "destination": {"container": container},
            "uploadOptions": {"uploadCondition": self.upload_condition.value},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutputFile:
        """Return the OutputFile of the REST JSON *data* (as :meth:`to_dict` or the service gives).

        The upload condition may be in any casing; unknown keys are ignored.

        Raises:
            InvalidOutputFileError: a required field is missing, or a value breaks a rule.
        """
        try:
            container = data["destination"]["container"]
            pattern = data["filePattern"]
            url = container["containerUrl"]
            condition = data["uploadOptions"]["uploadCondition"]
            identity = (container.get("identityReference") or {}).get("resourceId")
            headers = [
                (header["name"], header.get("value"))
                for header in (container.get("uploadHeaders") or [])
            ]
        except (KeyError, TypeError, AttributeError):
            raise InvalidOutputFileError(
                _redacted_keys(data),
                "lacks filePattern, destination.container.containerUrl, "
                "uploadOptions.uploadCondition or an upload header's name (rule OF-1)",
                subject="output file JSON",
            ) from None
        return cls(
            file_pattern=pattern,
            container_url=url,
            path=container.get("path"),
            upload_condition=condition,
            identity=identity,
            headers=headers,
        )

    def to_batch_model(self) -> batch_models.OutputFile:
        """Return this OutputFile as the ``azure.batch.models.OutputFile`` of the installed SDK.

        Both azure-batch lines are served, chosen by what the installed package offers
        (decision D-91): 15.x builds it from the REST JSON (``OutputFile(d)``, for
        ``BatchTaskCreateOptions``), 14.x deserializes it (``OutputFile.deserialize(d)``,
        for ``TaskAddParameter``; e.g. under Apache Airflow's ``azure-batch<15``). The
        model is checked to give back exactly :meth:`to_dict`, so an SDK that drops a
        field (an identity, an upload header) raises instead.

        Raises:
            MissingDependencyError: azure-batch is missing, or is neither 14.x nor 15.x,
                or cannot hold this entry; the message names the version found.
        """
        # Imported here: azure.batch is optional, and loaded only when a model is asked for.
        from ._batch import output_file_model

        return output_file_model(self.to_dict(), "OutputFile.to_batch_model()")


def _redacted_keys(data: object) -> object:
    # Name what was given without echoing a container URL (and its SAS) into the message.
    return sorted(data) if isinstance(data, Mapping) else type(data).__name__


def _check_not_expired(container_url: str, now: datetime.datetime | None = None) -> None:
    """Raise if the SAS of *container_url* has expired (``se`` in the past).

    The service would fail the upload with an authentication error after the task ran,
    when nothing can be done about it.
    """
    expiry_text = sas_fields(container_url).get("se", [None])[0]
    try:
        expiry = sas_expiry(container_url)  # the same reading as storage errors' (urls)
    except ValueError:
        raise InvalidOutputFileError(
            redact_sas(container_url),
            f"has a SAS expiry 'se={expiry_text}' that is not an ISO 8601 time (rule OF-3)",
            subject="container url",
        ) from None
    if expiry is None:
        return
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if expiry <= now:
        raise InvalidOutputFileError(
            redact_sas(container_url),
            f"has a SAS that expired at {expiry_text}; the service could upload nothing. "
            "Sign a new URL (output_container_url) that outlives the task (rule OF-3)",
            subject="container url",
        )


_STD_LOG_NAMES = ("stdout.txt", "stderr.txt")


def _check_std_logs_location(file_pattern: str) -> None:
    """Raise if a TaskLog pattern names the std logs in the working directory.

    ``stdout.txt`` and ``stderr.txt`` live in the task directory, one level above the
    working directory the patterns are relative to; the service would upload nothing.
    """
    segments = [s for s in file_pattern.replace("\\", "/").split("/") if s not in ("", ".")]
    if len(segments) != 1 or not segments[0].startswith("std"):
        return
    if any(fnmatch.fnmatchcase(name, segments[0]) for name in _STD_LOG_NAMES):
        raise InvalidOutputFileError(
            file_pattern,
            f"names the task's std logs in its working directory, but stdout.txt and "
            f"stderr.txt are one level up: use '../{segments[0]}' (or std_logs()) (rule OF-8)",
            subject="file pattern",
        )


def _build(
    container_url: str,
    prefix: str,
    file_pattern: str,
    condition: UploadCondition | str,
    identity: str | None,
    headers: Mapping[str, str | None] | Iterable[Header] | None,
) -> OutputFile:
    check_pattern(None, None, file_pattern)
    check_container_url(None, None, container_url)
    _check_not_expired(container_url)
    # A wildcard makes 'path' a virtual directory; otherwise it is the blob name.
    path = prefix if has_wildcard(file_pattern) else f"{prefix}/{destination_path(file_pattern)}"
    return OutputFile(
        file_pattern=file_pattern,
        container_url=container_url,
        path=path,
        upload_condition=condition,
        identity=identity,
        headers=headers,
    )


def task_output_file(
    container_url: str,
    task_id: str,
    kind: TaskOutputKind,
    file_pattern: str,
    *,
    condition: UploadCondition | str | None = None,
    identity: str | None = None,
    headers: Mapping[str, str | None] | Iterable[Header] | None = None,
) -> OutputFile:
    r"""Return an OutputFile that uploads *file_pattern* under ``<task id>/$<kind>`` (rule OF-5).

    Without *condition*, outputs upload on task success and ``TaskLog`` on task
    completion (:func:`default_condition`, decision D-42). A ``TaskLog`` pattern that
    names ``stdout.txt``/``stderr.txt`` without ``../`` raises: they live one level
    above the working directory.

    A pattern with a wildcard gets the kind's folder as its virtual directory; a pattern
    without one gets the full blob name, the folder plus :func:`destination_path` of the
    pattern, as the storage layer would name the file.

    >>> url = "https://acct.blob.core.windows.net/job-abc?sp=cw&sig=x"
    >>> task_output_file(url, "t1", TaskOutputKind.TASK_OUTPUT, "out/**/*.csv").path
    't1/$TaskOutput'
    >>> task_output_file(url, "t1", TaskOutputKind.TASK_OUTPUT, r"..\out.txt").path
    't1/$TaskOutput/out.txt'

    Raises:
        InvalidOutputFileError: a rule OF-1 to OF-8 is broken, the SAS has expired, or
            the blob name breaks BN-2.
        InvalidIdError, InvalidKindError, InvalidPathError: the task ID, kind, or a
            pattern without wildcard breaks the naming rules.
    """
    prefix = task_prefix(task_id, kind)
    check_writable(kind)
    if kind == TaskOutputKind.TASK_LOG:
        _check_std_logs_location(file_pattern)
    if condition is None:
        condition = default_condition(kind)
    return _build(container_url, prefix, file_pattern, condition, identity, headers)


def job_output_file(
    container_url: str,
    kind: JobOutputKind,
    file_pattern: str,
    *,
    condition: UploadCondition | str | None = None,
    identity: str | None = None,
    headers: Mapping[str, str | None] | Iterable[Header] | None = None,
) -> OutputFile:
    """Return an OutputFile that uploads *file_pattern* under ``$<kind>``, for a job manager task.

    Same path rule as :func:`task_output_file` (rule OF-5); without *condition*, on task
    success (decision D-42).

    >>> url = "https://acct.blob.core.windows.net/job-abc?sp=cw&sig=x"
    >>> job_output_file(url, JobOutputKind.JOB_OUTPUT, "merged.csv", condition="TaskSuccess").path
    '$JobOutput/merged.csv'
    """
    prefix = job_prefix(kind)
    check_writable(kind)
    if condition is None:
        condition = default_condition(kind)
    return _build(container_url, prefix, file_pattern, condition, identity, headers)


def std_logs(
    container_url: str,
    task_id: str,
    *outputs: str,
    identity: str | None = None,
    headers: Mapping[str, str | None] | Iterable[Header] | None = None,
) -> list[OutputFile]:
    """Return the usual OutputFile list of a task: its logs always, its outputs on success.

    ``../std*.txt`` (``stdout.txt`` and ``stderr.txt``, next to the working directory)
    goes to ``TaskLog`` on task completion; each pattern in *outputs* goes to
    ``TaskOutput`` on task success (rule OF-8), as .NET's Azure-Samples
    ``RunWithConventions`` does.

    >>> url = "https://acct.blob.core.windows.net/job-abc?sp=cw&sig=x"
    >>> for f in std_logs(url, "t1", "results/*.csv"):
    ...     print(f.file_pattern, f.path, f.upload_condition)
    ../std*.txt t1/$TaskLog taskcompletion
    results/*.csv t1/$TaskOutput tasksuccess
    """
    files = [
        task_output_file(
            container_url,
            task_id,
            TaskOutputKind.TASK_LOG,
            STD_LOGS_PATTERN,
            condition=default_condition(TaskOutputKind.TASK_LOG),
            identity=identity,
            headers=headers,
        )
    ]
    files.extend(
        task_output_file(
            container_url,
            task_id,
            TaskOutputKind.TASK_OUTPUT,
            pattern,
            condition=default_condition(TaskOutputKind.TASK_OUTPUT),
            identity=identity,
            headers=headers,
        )
        for pattern in outputs
    )
    return files
