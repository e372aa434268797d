"""The exception hierarchy: one base, built-in mixins, messages, pickling."""

from __future__ import annotations

import pickle

import pytest

import conventions
from conventions import errors


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_is_a_conventions_error(name: str) -> None:
    assert issubclass(getattr(errors, name), conventions.ConventionsError)
    assert getattr(conventions, name) is getattr(errors, name)


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (conventions.InvalidIdError, ValueError),
        (conventions.InvalidKindError, ValueError),
        (conventions.InvalidPathError, ValueError),
        (conventions.InvalidBlobNameError, ValueError),
        (conventions.InvalidOutputFileError, ValueError),
        (conventions.InvalidArgumentError, TypeError),
        (conventions.MissingDependencyError, ImportError),
        (conventions.ContainerNotFoundError, LookupError),
        (conventions.OutputNotFoundError, LookupError),
        (conventions.AccessDeniedError, PermissionError),
        (conventions.LocalPathError, OSError),
        (conventions.CredentialError, PermissionError),
        (conventions.ContainerMismatchError, ValueError),
    ],
)
def test_errors_subclass_the_builtin_they_resemble(
    error: type[Exception], builtin: type[Exception]
) -> None:
    assert issubclass(error, builtin)


def test_rule_errors_name_value_and_rule_and_pickle() -> None:
    with pytest.raises(conventions.InvalidIdError) as info:
        conventions.task_prefix("bad id", conventions.TaskOutputKind.TASK_LOG)
    error = info.value
    assert str(error) == (
        "task id 'bad id' must be 1-64 ASCII letters, digits, '-' or '_' (rule ID-2)"
    )
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is conventions.InvalidIdError
    assert (copy.value, copy.rule, copy.subject, str(copy)) == (
        error.value,
        error.rule,
        error.subject,
        str(error),
    )


def test_storage_errors_keep_container_blob_and_permission_through_pickle() -> None:
    error = conventions.AccessDeniedError(
        "listing job-x needs 'l'", container="job-x", blob=None, permission="l"
    )
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.container, copy.blob, copy.permission) == (
        "listing job-x needs 'l'",
        "job-x",
        None,
        "l",
    )


def _rule_error(cls: type[errors._RuleError]) -> Exception:
    return cls("bad value\n", "must be good (rule XX-1)", subject="thing")


def _storage_error(cls: type[errors.StorageError]) -> Exception:
    return cls("saving 'b' to 'job-x' failed", container="job-x", blob="t1/$TaskLog/b")


# How to build one of each class in errors.__all__, and the attributes that must survive.
_EXAMPLES: dict[str, tuple[object, tuple[str, ...]]] = {
    "ConventionsError": (lambda cls: cls("something failed"), ()),
    "MissingDependencyError": (lambda cls: cls("pip install 'x[batch]'"), ()),
    "SasError": (lambda cls: cls("expiry must be more than zero"), ()),
    "InvalidTrackingOptionError": (lambda cls: cls("flush_interval must be > 0"), ()),
    "MissingEnvironmentVariableError": (
        lambda cls: cls("AZ_BATCH_JOB_ID", "run inside a task: a b"),
        ("name",),
    ),
    "LocalPathError": (
        lambda cls: cls("cannot save 'p'", path="/x/p", blob="t1/$TaskLog/p", errno=21),
        ("path", "blob", "errno"),
    ),
    "NoMatchingFilesError": (
        lambda cls: cls("nothing saved: no file matches '*.csv'", path="/x", patterns=["*.csv"]),
        ("path", "patterns", "errno"),
    ),
    "DownloadError": (
        lambda cls: cls("1 of 2 outputs were not downloaded", summary=("files", 1)),
        ("summary",),
    ),
    "IntegrityError": (
        lambda cls: cls(
            "blob 'b' differs from its MD5",
            container="job-x",
            blob="t1/$TaskOutput/b",
            expected="00",
            actual="ff",
        ),
        ("container", "blob", "expected", "actual"),
    ),
    "AccessDeniedError": (
        lambda cls: cls("listing needs 'l'", container="job-x", blob="t1/b", permission="l"),
        ("container", "blob", "permission"),
    ),
    **dict.fromkeys(
        (
            "InvalidArgumentError",
            "InvalidIdError",
            "InvalidKindError",
            "InvalidPathError",
            "InvalidBlobNameError",
            "InvalidOutputFileError",
            "InvalidSettingError",
        ),
        (_rule_error, ("value", "rule", "subject")),
    ),
    "DeleteError": (
        lambda cls: cls(
            "1 of 3 outputs were not deleted",
            container="job-x",
            failures=[_storage_error(errors.AccessDeniedError)],
            summary=("deleted", 2),
        ),
        ("container", "summary"),
    ),
    "ContainerMismatchError": (
        lambda cls: cls("job-a", "b", "job-b", source="--container-url"),
        ("container", "job_id", "expected", "source"),
    ),
    **dict.fromkeys(
        (
            "StorageError",
            "ContainerNotFoundError",
            "OutputNotFoundError",
            "BlobChangedError",
            "FollowTimeoutError",
            "WriterGoneError",
            "CredentialError",
        ),
        (_storage_error, ("container", "blob")),
    ),
    **dict.fromkeys(
        (
            "TrackingError",
            "TrackedFileTruncatedError",
            "TrackedFileChangedError",
            "TrackedSourceError",
            "TrackedFileReplacedError",
            "TrackedFileMissingError",
            "TrackedBlobExistsError",
            "AppendBlobLimitError",
            "AppendConflictError",
        ),
        (_storage_error, ("container", "blob", "errors")),
    ),
}


def test_the_pickling_examples_cover_every_error() -> None:
    assert sorted(_EXAMPLES) == sorted(errors.__all__)


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_pickles_with_its_message_and_attributes(name: str) -> None:
    cls = getattr(errors, name)
    make, attributes = _EXAMPLES[name]
    error = make(cls)  # type: ignore[operator]
    assert type(error) is cls
    if "errors" in attributes:
        error.errors = (error, ValueError("second"))
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert str(copy) == str(error)
    assert copy.args == error.args
    for attribute in attributes:
        original, copied = getattr(error, attribute), getattr(copy, attribute)
        if attribute == "errors":
            assert [(type(e), str(e)) for e in copied] == [(type(e), str(e)) for e in original]
            assert copied[0] is copy  # the error itself comes first, as close() sets it
        else:
            assert copied == original
            assert copied is not None
