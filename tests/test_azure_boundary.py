"""Azure exceptions are read in one module only, ``conventions._azure_errors`` (spec/README.md,
"Layers"): its predicates, the pure rules they ask (``conventions._error_rules``), and an AST
check that no other library module reads an exception's status or error code, or imports
the Azure exception classes that carry them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from azure.core.exceptions import (
    DeserializationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from hypothesis import given
from hypothesis import strategies as st

import conventions
from conventions._azure_errors import (
    already_exists,
    answer_detail,
    is_append_position_conflict,
    is_blob_missing,
    is_range_not_satisfiable,
)
from conventions._error_rules import (
    SubDelete,
    append_position_conflict,
    blob_missing,
    sub_delete,
)

PACKAGE = Path(conventions.__file__).parent
#: The one module that reads Azure exceptions.
READER = PACKAGE / "_azure_errors.py"
#: What another module may import from azure.core.exceptions, and why:
#: - AzureError: caught as a whole and handed, unread, to ``_azure_errors``;
#: - ClientAuthenticationError (identity.py only): the credential boundary turns a failed
#:   token request into CredentialError by its class and first line, never by status/code.
ALLOWED_IMPORTS = {"AzureError"}
ALLOWED_BY_MODULE = {"identity.py": {"ClientAuthenticationError"}}
READ_ATTRIBUTES = {"status_code", "error_code"}


def _problems(path: Path, source: str) -> list[str]:
    found = []
    allowed = ALLOWED_IMPORTS | ALLOWED_BY_MODULE.get(path.name, set())
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "azure.core.exceptions":
            found += [
                f"{path.name}:{node.lineno} imports {alias.name}"
                for alias in node.names
                if alias.name not in allowed
            ]
        elif isinstance(node, ast.Import):
            found += [
                f"{path.name}:{node.lineno} imports {alias.name}"
                for alias in node.names
                if alias.name == "azure.core.exceptions"
            ]
        elif isinstance(node, ast.Attribute) and node.attr in READ_ATTRIBUTES:
            found.append(f"{path.name}:{node.lineno} reads .{node.attr}")
        elif isinstance(node, ast.Constant) and node.value in READ_ATTRIBUTES:
            found.append(f"{path.name}:{node.lineno} names {node.value!r} (getattr?)")
    return found


def _library_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p != READER)


def test_no_module_but_azure_errors_reads_an_azure_exception() -> None:
    modules = _library_modules()
    assert len(modules) > 40  # the walk saw the package, sub-packages included
    problems = [p for path in modules for p in _problems(path, path.read_text("utf-8"))]
    assert not problems, problems


@pytest.mark.parametrize(
    "source",
    [
        "from azure.core.exceptions import HttpResponseError\n",
        "from azure.core.exceptions import AzureError, ResourceExistsError\n",
        "import azure.core.exceptions\n",
        "def f(e):\n    return e.status_code == 404\n",
        "def f(e):\n    return getattr(e, 'error_code', None)\n",
    ],
)
def test_the_check_sees_a_reading(source: str) -> None:
    assert _problems(Path("somewhere.py"), source)


def test_the_check_lets_a_catch_all_pass() -> None:
    source = (
        "from azure.core.exceptions import AzureError\n"
        "try:\n    pass\nexcept AzureError:\n    raise\n"
    )
    assert _problems(Path("somewhere.py"), source) == []


def test_the_reader_itself_reads() -> None:
    # Else the check above would pass because nobody reads anything.
    assert _problems(READER, READER.read_text("utf-8"))


# -- the predicates ------------------------------------------------------------------------------


def _answer(status: int | None, code: object = None) -> HttpResponseError:
    error = HttpResponseError(message="an answer")
    error.status_code = status
    error.error_code = code  # type: ignore[attr-defined]
    return error


class _CodeEnum(str):
    """Like azure-storage-blob's StorageErrorCode: a str with a ``value``."""

    @property
    def value(self) -> str:
        return str(self)


_STATUSES = st.one_of(st.none(), st.sampled_from([200, 400, 404, 409, 412, 416, 500]))
_CODES = st.sampled_from(
    ["", "BlobNotFound", "ContainerNotFound", "AppendPositionConditionNotMet", "ConditionNotMet"]
)


@given(status=_STATUSES, code=_CODES, as_enum=st.booleans())
def test_predicates_read_the_answer_and_ask_the_rules(
    status: int | None, code: str, as_enum: bool
) -> None:
    raw: object = (_CodeEnum(code) if as_enum else code) or None
    error = _answer(status, raw)
    assert is_blob_missing(error) is blob_missing(status, code)
    assert is_append_position_conflict(error) is append_position_conflict(code)
    assert is_range_not_satisfiable(error) is (status == 416)
    detail = answer_detail(error)
    assert detail is not None
    assert detail.startswith(f"(HTTP {status}")


@pytest.mark.parametrize(
    "error",
    [ServiceRequestError("connection refused"), DeserializationError("cut"), ValueError("x")],
)
def test_predicates_say_no_for_what_is_not_an_answer(error: Exception) -> None:
    assert not is_blob_missing(error)
    assert not is_append_position_conflict(error)
    assert not is_range_not_satisfiable(error)
    assert not already_exists(error)
    assert answer_detail(error) is None


def test_already_exists_is_azure_cores_resource_exists() -> None:
    assert already_exists(ResourceExistsError("exists"))
    assert not already_exists(ResourceNotFoundError("missing"))
    assert not already_exists(_answer(409, "BlobAlreadyExists"))  # as before: by class only


@given(status=_STATUSES, code=_CODES)
def test_a_blob_is_missing_only_for_404_blob_not_found(status: int | None, code: str) -> None:
    assert blob_missing(status, code) is (status == 404 and code == "BlobNotFound")


@given(code=_CODES)
def test_append_position_conflict_is_by_code_only(code: str) -> None:
    assert append_position_conflict(code) is (code == "AppendPositionConditionNotMet")


@given(status=st.integers(min_value=100, max_value=599))
def test_each_sub_answer_has_one_meaning(status: int) -> None:
    expected = (
        SubDelete.DELETED
        if 200 <= status < 300
        else SubDelete.MISSING
        if status == 404
        else SubDelete.FAILED
    )
    assert sub_delete(status) is expected


def test_the_rules_examples_run() -> None:
    import doctest

    import conventions._error_rules as module

    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
