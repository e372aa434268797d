"""translate_errors, the one place Azure errors become ours (the Azurite tests cover the HTTP
cases; these cover what a live service rarely shows)."""

from __future__ import annotations

import re
import traceback

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError

from conventions import InvalidSettingError, StorageError
from conventions._azure_errors import translate_errors


def test_azure_text_is_redacted_and_chained() -> None:
    original = HttpResponseError(message="failed for https://x/c/b?sv=1&sig=SECRET%2B\nmore")
    with pytest.raises(StorageError) as caught, translate_errors("read", container="c", blob="b"):
        raise original
    message = str(caught.value)
    assert "SECRET" not in message
    assert "sig=REDACTED" in message
    assert re.search(r"sig=(?!REDACTED)", message) is None
    assert "'b'" in message
    assert "'c'" in message
    # The Azure error shows the signature: it is dropped, not chained (issue 10).
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert (caught.value.container, caught.value.blob) == ("c", "b")


def test_a_clean_azure_error_stays_chained() -> None:
    original = HttpResponseError(message="The specified blob does not exist.")
    with pytest.raises(StorageError) as caught, translate_errors("read", container="c", blob="b"):
        raise original
    assert caught.value.__cause__ is original


def test_a_signature_deep_in_the_cause_chain_drops_the_cause() -> None:
    try:
        raise ValueError("Failed to parse: http://h/c?sv=1&sig=DEEPSECRET")
    except ValueError as inner:
        original = ServiceRequestError("could not send", error=inner)
        original.__cause__ = inner
    with pytest.raises(StorageError) as caught, translate_errors("list", container="c"):
        raise original
    text = "".join(traceback.format_exception(caught.value))
    assert "DEEPSECRET" not in text
    assert caught.value.__cause__ is None


def test_connection_errors_become_storage_errors() -> None:
    with pytest.raises(StorageError, match="could not list"), translate_errors(
        "list", container="c"
    ):
        raise ServiceRequestError("connection refused")


def test_local_and_library_errors_pass_through() -> None:
    with pytest.raises(OSError, match="disk full"), translate_errors("read", container="c"):
        raise OSError("disk full")
    with pytest.raises(InvalidSettingError), translate_errors("read", container="c"):
        raise InvalidSettingError(0, "must be at least 1", subject="n")


@pytest.mark.parametrize(
    "error",
    [KeyError("x"), ValueError("Required Content-Range response header is missing"),
     AttributeError("'NoneType' object has no attribute 'service_endpoint'")],
)
def test_an_answer_the_sdk_could_not_parse_is_a_storage_error(error: Exception) -> None:
    # What azure-storage-blob raises on an answer cut inside its head (issue 19 item 2).
    with pytest.raises(StorageError, match="could not be read") as caught, translate_errors(
        "read", container="c", blob="b"
    ):
        raise error
    assert caught.value.container == "c"
    assert caught.value.blob == "b"
    assert caught.value.__cause__ is error
