"""The exceptions that ``conventions`` raises on purpose.

Every class derives from :class:`ConventionsError`, so one ``except`` catches them
all, and also from the built-in exception it resembles (``ValueError``,
``LookupError``...), so code written against the built-ins keeps working.

Each error keeps the offending ``value`` and the ``rule`` it broke as attributes;
both survive pickling (``BaseException.__reduce__`` carries ``__dict__``).
"""

from __future__ import annotations

import errno as errno_module
from collections.abc import Sequence
from typing import Any

__all__ = [
    "AccessDeniedError",
    "AppendBlobLimitError",
    "AppendConflictError",
    "BlobChangedError",
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
    "LocalPathError",
    "MissingDependencyError",
    "MissingEnvironmentVariableError",
    "NoMatchingFilesError",
    "OutputNotFoundError",
    "SasError",
    "StorageError",
    "TrackedBlobExistsError",
    "TrackedFileChangedError",
    "TrackedFileMissingError",
    "TrackedFileReplacedError",
    "TrackedFileTruncatedError",
    "TrackedSourceError",
    "TrackingError",
    "WriterGoneError",
]


class ConventionsError(Exception):
    """Base class for every error raised on purpose by ``conventions``."""


class _RuleError(ConventionsError, ValueError):
    """A value that breaks one of the rules in ``spec/README.md``.

    The message is built from the value (``repr``, so that blanks and control
    characters show) and the rule, e.g.
    ``task id 'a b' must be 1-64 ASCII letters, digits, '-' or '_' (rule ID-2)``.
    """

    #: What kind of value this error is about, e.g. ``"task id"``.
    subject: str = "value"

    def __init__(self, value: object, rule: str, *, subject: str | None = None) -> None:
        self.value = value
        self.rule = rule
        if subject is not None:
            self.subject = subject
        super().__init__(f"{self.subject} {value!r} {rule}")

    def __reduce__(self) -> tuple[object, ...]:
        # Rebuild through __init__ so that value, rule and subject come back.
        return (_rebuild, (type(self), self.value, self.rule, self.subject))


def _rebuild(cls: type[_RuleError], value: object, rule: str, subject: str) -> _RuleError:
    return cls(value, rule, subject=subject)


class InvalidArgumentError(_RuleError, TypeError):
    """An argument has the wrong type, e.g. a ``str`` exit code or a naive datetime."""

    subject = "argument"


class InvalidIdError(_RuleError):
    """A job or task ID breaks the Batch ID rules (spec rules ID-1, ID-2)."""

    subject = "id"


class InvalidKindError(_RuleError):
    """An output kind is not of the expected type, or its text breaks rule KD-1."""

    subject = "kind"


class InvalidPathError(_RuleError):
    """A relative path is empty, absolute, escapes its kind, or breaks a blob-name limit."""

    subject = "path"


class InvalidBlobNameError(_RuleError):
    """:func:`~conventions.parse_blob_name` was given a name the conventions never produce."""

    subject = "blob name"


class InvalidOutputFileError(_RuleError):
    """An OutputFile's pattern, container URL, SAS or identity breaks rule OF-n."""

    subject = "output file"


class InvalidSettingError(_RuleError):
    """An option's value is out of range, e.g. ``max_concurrency=0`` or a negative timeout."""

    subject = "setting"


class MissingDependencyError(ConventionsError, ImportError):
    """An optional extra is needed for this call; the message names the pip command."""


class StorageError(ConventionsError):
    """A storage operation failed.

    The message names the container and blob, never a SAS signature; both are also
    kept as attributes. The Azure exception is chained as ``__cause__``.
    """

    def __init__(self, message: str, *, container: str | None = None, blob: str | None = None):
        super().__init__(message)
        self.container = container
        self.blob = blob


class ContainerNotFoundError(StorageError, LookupError):
    """The job's container does not exist: call ``prepare_output_storage`` first."""


class OutputNotFoundError(StorageError, LookupError):
    """No stored output at that kind and path."""


class BlobChangedError(StorageError):
    """The blob changed (was appended to, or replaced) while it was being read.

    azure-storage-blob pins every request after a download's first to that response's
    ETag, so a download never returns a mix of two versions; downloads to a file and to
    bytes read the new version again a few times before raising this. To read a log that
    is still being written, use ``OutputFileReference.follow()``.
    """


class AccessDeniedError(StorageError, PermissionError):
    """The credential or SAS does not allow the operation; ``permission`` names the SAS letter."""

    def __init__(
        self,
        message: str,
        *,
        container: str | None = None,
        blob: str | None = None,
        permission: str | None = None,
    ):
        super().__init__(message, container=container, blob=blob)
        self.permission = permission


class LocalPathError(ConventionsError, OSError):
    """A local file or directory cannot be used as the operation needs (rules LP-n).

    A save's source that is missing or is not a regular file (a FIFO, device, socket or
    directory), or a download's target that cannot be written: a symbolic link inside the
    destination (never followed), a file where a directory is needed or the reverse, a name
    too long for the file system. ``path`` is the local path, ``blob`` the blob name (when
    there is one), ``errno`` the OS error number (``errno.ENAMETOOLONG``...) or ``None``.
    """

    def __init__(
        self, message: str, *, path: str, blob: str | None = None, errno: int | None = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.blob = blob
        # Only errno, never strerror/filename: OSError's str() would then ignore the message.
        self.errno = errno

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_local, (type(self), str(self), self.path, self.blob, self.errno))


class NoMatchingFilesError(LocalPathError):
    """A save or a plan matched no file, which is never reported as success.

    ``path`` is the directory the patterns are relative to, ``patterns`` the patterns
    that matched nothing. Pass ``allow_empty=True`` (the CLI's ``--allow-empty``) where no
    file is a fine outcome.
    """

    def __init__(self, message: str, *, path: str, patterns: Sequence[str] = ()) -> None:
        super().__init__(message, path=path, errno=errno_module.ENOENT)
        self.patterns = tuple(patterns)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_no_match, (str(self), self.path, self.patterns))


def _rebuild_no_match(message: str, path: str, patterns: tuple[str, ...]) -> NoMatchingFilesError:
    return NoMatchingFilesError(message, path=path, patterns=patterns)


def _rebuild_local(
    cls: type[LocalPathError], message: str, path: str, blob: str | None, errno: int | None
) -> LocalPathError:
    return cls(message, path=path, blob=blob, errno=errno)


class DownloadError(ConventionsError):
    """Some outputs of a whole-job download failed; the others were downloaded.

    ``failures`` holds one ``conventions.storage.DownloadFailure`` (``output``,
    ``local_path``, ``error``) per output not downloaded, in input order; ``summary`` is the
    ``DownloadSummary`` of what was written. The message counts the failures and groups
    them by cause, with one example each, so that 1,000 identical refusals stay readable.
    Pickling keeps the message and summary, not ``failures`` (they hold live clients).
    """

    def __init__(
        self, message: str, *, failures: Sequence[Any] = (), summary: Any = None
    ) -> None:
        super().__init__(message)
        self.failures: tuple[Any, ...] = tuple(failures)
        self.summary = summary

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_download, (type(self), str(self), self.summary))


def _rebuild_download(cls: type[DownloadError], message: str, summary: Any) -> DownloadError:
    return cls(message, summary=summary)


class DeleteError(StorageError):
    """Some outputs were not deleted; the others were (or the listing of what to delete
    failed midway, after some deletes).

    ``failures`` holds one ``StorageError`` per blob not deleted (its ``blob`` names it;
    ``AccessDeniedError`` when a SAS lacks ``d``), in input order, then the listing's
    error if the listing failed; ``summary`` is the ``DeleteSummary`` of what was done
    (``deleted``, ``missing``, ``failed``). The message counts the failures and groups them
    by cause, with one example each. Pickling keeps all of it.
    """

    def __init__(
        self,
        message: str,
        *,
        container: str | None = None,
        failures: Sequence[ConventionsError] = (),
        summary: Any = None,
    ) -> None:
        super().__init__(message, container=container)
        self.failures: tuple[ConventionsError, ...] = tuple(failures)
        self.summary = summary

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_delete,
            (type(self), str(self), self.container, self.failures, self.summary),
        )


def _rebuild_delete(
    cls: type[DeleteError],
    message: str,
    container: str | None,
    failures: Sequence[ConventionsError],
    summary: Any,
) -> DeleteError:
    return cls(message, container=container, failures=failures, summary=summary)


class IntegrityError(ConventionsError):
    """A downloaded blob's bytes do not match the Content-MD5 stored with it.

    The content changed behind the stored MD5 (or was damaged on the way): nothing was
    written locally. ``expected`` and ``actual`` are the two MD5s (hex); ``container``
    and ``blob`` name the blob.
    """

    def __init__(
        self, message: str, *, container: str, blob: str, expected: str, actual: str
    ) -> None:
        super().__init__(message)
        self.container = container
        self.blob = blob
        self.expected = expected
        self.actual = actual

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_integrity, (type(self), str(self), self.__dict__))


def _rebuild_integrity(
    cls: type[IntegrityError], message: str, state: dict[str, str]
) -> IntegrityError:
    return cls(message, **state)
class CredentialError(StorageError, PermissionError):
    """No Entra ID token for storage: the managed identity or credential chain could not
    sign in. One line naming the credential and what to set; the azure-identity error is
    chained as ``__cause__``."""


class ContainerMismatchError(ConventionsError, ValueError):
    """A container URL names another container than the job's (one job, one container).

    ``container`` is the URL's container, ``expected`` is ``container_name(job_id)``.
    Pass ``allow_other_container=True`` (CLI: ``--allow-other-container``) to use it anyway.
    """

    def __init__(self, container: str, job_id: str, expected: str, *, source: str) -> None:
        super().__init__(
            f"{source} names container {container!r}, but the outputs of job {job_id!r} "
            f"belong in container {expected!r}; give that job's container URL, or pass "
            "allow_other_container=True (CLI: --allow-other-container) to use it anyway"
        )
        self.container = container
        self.job_id = job_id
        self.expected = expected
        self.source = source

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_mismatch, (self.container, self.job_id, self.expected, self.source))


def _rebuild_mismatch(
    container: str, job_id: str, expected: str, source: str
) -> ContainerMismatchError:
    return ContainerMismatchError(container, job_id, expected, source=source)


class SasError(ConventionsError, ValueError):
    """A container SAS cannot be made as asked: bad expiry or permissions, or a client
    whose credential can sign nothing."""


class MissingEnvironmentVariableError(ConventionsError, LookupError):
    """``from_environment`` needs an environment variable that is not set; ``name`` names it."""

    def __init__(self, name: str, hint: str) -> None:
        super().__init__(f"environment variable {name} is not set: {hint}")
        self.name = name

    def __reduce__(self) -> tuple[object, ...]:
        hint = str(self).split(": ", 1)[1]
        return (type(self), (self.name, hint))


class TrackingError(StorageError):
    """A tracked save failed. The message names the container, blob and file.

    Subclasses say why; a plain ``TrackingError`` is raised for misuse (flush before
    ``start`` or after ``close``). When ``TrackedFile.close()`` raises, the error's
    ``errors`` holds every error kept, itself first.
    """

    #: Set by ``TrackedFile.close()`` on the error it raises: all the errors kept.
    errors: tuple[Exception, ...] = ()


class TrackedFileTruncatedError(TrackingError):
    """The tracked file shrank below what was uploaded, or its uploaded bytes changed."""


class TrackedFileChangedError(TrackedFileTruncatedError):
    """Bytes of the tracked file that were already uploaded changed (an in-place rewrite,
    or a truncation that grew back): the blob holds what the file held before."""


class TrackedSourceError(TrackingError, ValueError):
    """The tracked source is not a regular file (a directory, FIFO, device or socket)."""


class InvalidTrackingOptionError(ConventionsError, ValueError):
    """A tracked-save option is out of range (``flush_interval``, ``block_size``...)."""


class TrackedFileReplacedError(TrackingError):
    """The tracked file was replaced (another inode) or removed after it appeared."""


class TrackedFileMissingError(TrackingError, FileNotFoundError):
    """The tracked file did not exist yet when the tracking was closed."""


class TrackedBlobExistsError(TrackingError):
    """The blob already exists and ``overwrite`` was not set (decision D-33)."""


class AppendBlobLimitError(TrackingError):
    """The next append would pass an append-blob limit (50,000 blocks or ~195 GiB)."""


class AppendConflictError(TrackingError):
    """The blob's length is not what this tracker wrote: someone else changed the blob."""


class FollowTimeoutError(StorageError, TimeoutError):
    """``OutputFileReference.follow(timeout=...)`` ran out of time before the log was
    marked complete; what was read so far was already yielded."""


class WriterGoneError(StorageError):
    """``OutputFileReference.follow`` found that the log's writer stopped without
    completing it: it marked the log incomplete, or it promised to show life every so
    often and has been silent for longer (node lost, process killed). What was stored
    was already yielded."""
