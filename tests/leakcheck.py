"""The secret-leak check applied to the storage, fault and CLI suites (see conftest.py).

A test fails if a SAS signature (``sig=`` with any value but ``REDACTED``) or the
account key shows up in:

- any log record, of any logger, captured at DEBUG (message and traceback);
- any exception caught by ``pytest.raises``: its text with every cause and context, and
  its ``repr``;
- any CLI output or exception from ``click.testing.CliRunner.invoke``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scripts.azurite import ACCOUNT_KEY

__all__ = ["LeakCheck", "find_secrets"]

# Any signature value that is not our redaction marker (URL-encoded '=' included).
_SIGNATURE = re.compile(r"(?i)(?:\b|(?<=%3F)|(?<=%26))sig(?:=|%3D)(?!REDACTED)([^&#'\"\s<>]+)")
_KEYS = (ACCOUNT_KEY, ACCOUNT_KEY.replace("/", "%2F").replace("+", "%2B").replace("=", "%3D"))


#: Commands whose job is to print a SAS URL (for the user, or for the Batch service).
_PRINTS_SAS = ("sas", "output-files")


def find_secrets(text: str) -> list[str]:
    """The secrets visible in *text* (shortened, so the failure message leaks nothing)."""
    found = [f"sig={match.group(1)[:4]}..." for match in _SIGNATURE.finditer(text)]
    found += [f"account key {key[:4]}..." for key in _KEYS if key in text]
    return found


def _exception_text(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)) + repr(error)


class LeakCheck:
    """Collects every place a secret was seen during one test."""

    def __init__(self) -> None:
        self.leaks: list[str] = []

    def scan(self, where: str, text: str) -> None:
        for secret in find_secrets(text):
            self.leaks.append(f"{secret} in {where}")

    def scan_records(self, records: list[logging.LogRecord]) -> None:
        for record in records:
            text = record.getMessage()
            if record.exc_text:
                text += record.exc_text
            elif record.exc_info and record.exc_info[1] is not None:
                text += _exception_text(record.exc_info[1])
            self.scan(f"log record of {record.name}", text)


@pytest.fixture
def leak_check(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LeakCheck]:
    check = LeakCheck()
    caplog.set_level(logging.DEBUG)
    original_raises = pytest.raises

    def raises(*args: Any, **kwargs: Any) -> Any:
        context = original_raises(*args, **kwargs)
        if not hasattr(context, "__exit__"):
            return context  # the callable form already ran

        class Checked:
            def __enter__(self) -> Any:
                self.info = context.__enter__()
                return self.info

            def __exit__(self, *exc: Any) -> Any:
                suppressed = context.__exit__(*exc)
                if exc[1] is not None:
                    check.scan("an exception (with causes) or its repr", _exception_text(exc[1]))
                return suppressed

        return Checked()

    original_invoke = CliRunner.invoke

    def invoke(self: CliRunner, *args: Any, **kwargs: Any) -> Result:
        result = original_invoke(self, *args, **kwargs)
        words = list(kwargs.get("args") or (args[1] if len(args) > 1 else []) or [])
        command = next((word for word in words if not str(word).startswith("-")), None)
        if command not in _PRINTS_SAS:
            check.scan("CLI output", result.stdout)
        with contextlib.suppress(ValueError):  # stderr mixed into output
            check.scan("CLI stderr", result.stderr)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            check.scan("CLI exception", _exception_text(result.exception))
        return result

    monkeypatch.setattr(pytest, "raises", raises)
    monkeypatch.setattr(CliRunner, "invoke", invoke)
    yield check
    check.scan_records(caplog.records)
    if check.leaks:
        pytest.fail("secret leaked: " + "; ".join(sorted(set(check.leaks))), pytrace=False)
