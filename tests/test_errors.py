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
        (conventions.MissingDependencyError, ImportError),
        (conventions.ContainerNotFoundError, LookupError),
        (conventions.OutputNotFoundError, LookupError),
        (conventions.AccessDeniedError, PermissionError),
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
