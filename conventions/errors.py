"""The exceptions that ``conventions`` raises on purpose.

Every class derives from :class:`ConventionsError`, so one ``except`` catches them
all, and also from the built-in exception it resembles (``ValueError``,
``LookupError``...), so code written against the built-ins keeps working.

Each error keeps the offending ``value`` and the ``rule`` it broke as attributes;
both survive pickling (``BaseException.__reduce__`` carries ``__dict__``).
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "ContainerNotFoundError",
    "ConventionsError",
    "InvalidBlobNameError",
    "InvalidIdError",
    "InvalidKindError",
    "InvalidOutputFileError",
    "InvalidPathError",
    "MissingDependencyError",
    "OutputNotFoundError",
    "StorageError",
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
