"""How the CLI words a failure: one line, ``error: <what failed>: <why>. <what to do>``.

The library's messages are written for Python callers (they may name API functions);
the CLI renders its own line from the error's structured fields where the words differ,
and otherwise tidies the library's message: no exception class names, no ``(HTTP None)``,
no doubled words, no SAS signature. Exit codes: 0 success, 1 a failure while running,
2 a usage error (an unknown option, or a value that breaks a rule), 3 a followed log
whose writer stopped without completing it.
"""

from __future__ import annotations

import errno
import re

import click

from conventions.errors import (
    ContainerNotFoundError,
    ConventionsError,
    MissingEnvironmentVariableError,
    WriterGoneError,
)
from conventions.urls import redact_sas

__all__ = [
    "EXIT_CODES_HELP",
    "INTERRUPTED",
    "RUNTIME_FAILURE",
    "SUCCESS",
    "USAGE_ERROR",
    "WRITER_GONE",
    "exit_code",
    "render",
    "render_usage",
]

SUCCESS = 0
RUNTIME_FAILURE = 1
USAGE_ERROR = 2
#: Ended by Ctrl-C (SIGINT), as shells report it: 128 + 2.
INTERRUPTED = 130
#: ``logs --follow``: the log's writer stopped without completing it.
WRITER_GONE = 3

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 a failure while running (storage, files, network); "
    "2 a usage error (an unknown option; a missing connection or environment variable; "
    "an invalid ID, kind, path, condition, permission or duration); 3 logs --follow: the "
    "log's writer stopped without completing it; 130 interrupted (Ctrl-C)."
)

_BATCH_SETS_IT = "The Batch service sets it in a task; outside one, set it yourself"
_NEEDS_A_CONTAINER = (
    "Set CONVENTIONS_CONTAINER_URL to the job's container URL with a SAS (print one with: "
    "batch-conventions sas JOB_ID --permissions racwl), or AZURE_STORAGE_CONNECTION_STRING"
)
_ENV_HINTS = {
    "AZ_BATCH_JOB_ID": _BATCH_SETS_IT,
    "AZ_BATCH_TASK_ID": _BATCH_SETS_IT,
    "CONVENTIONS_CONTAINER_URL": _NEEDS_A_CONTAINER,
    "AZURE_STORAGE_CONNECTION_STRING": _NEEDS_A_CONTAINER,
}

_HTTP_NONE = re.compile(r" ?\(HTTP None(?:, [^)]*)?\)")
# "create append blob blob 'x'": the same word twice in a row, as composed messages can say.
_DOUBLED_WORD = re.compile(r"\b([A-Za-z]+)(?: \1\b)+", re.IGNORECASE)
_LEADING_ERROR = re.compile(r"^(?:error:\s*)+", re.IGNORECASE)


def exit_code(error: BaseException) -> int:
    """2 for a value that breaks a rule (the library raises those as ``ValueError``) and for
    a missing environment variable (set-up, as a missing connection is), 3 for a followed
    log whose writer is gone, else 1."""
    if isinstance(error, WriterGoneError):
        return WRITER_GONE
    if isinstance(error, ConventionsError) and isinstance(error, ValueError):
        return USAGE_ERROR
    if isinstance(error, MissingEnvironmentVariableError):
        return USAGE_ERROR
    return RUNTIME_FAILURE


def render(error: BaseException, *, job_id: str | None = None) -> str:
    """The one line (without the ``error: `` prefix) that says what failed, why, and what to do.

    *job_id* is the JOB_ID the command was given, if any, so that a missing container can
    be put in the CLI user's words.
    """
    if isinstance(error, ContainerNotFoundError):
        text = _container_not_found(error, job_id)
    elif isinstance(error, MissingEnvironmentVariableError):
        text = f"environment variable {error.name} is not set. {_ENV_HINTS.get(error.name, '')}"
    elif isinstance(error, ConventionsError):
        text = str(error)
    elif isinstance(error, OSError) and error.strerror:
        text = _os_error(error)
    else:
        # Not ours (azure-core, a malformed connection string...): Azure messages span
        # lines (error code, request id...), keep the first; never the class name.
        lines = str(error).strip().splitlines()
        text = lines[0] if lines else "unexpected failure (run with --verbose for details)"
        if "connection string" in text.lower():
            text = (
                f"the storage connection string is unusable: {_sentence(text)}. "
                "Check --connection-string or AZURE_STORAGE_CONNECTION_STRING"
            )
    return tidy(text)


def render_usage(error: click.UsageError) -> str:
    """A usage error on one line, with where to read the usage."""
    message = error.format_message()
    message = message[:1].lower() + message[1:]
    ctx = error.ctx
    # The program's own name, whatever argv[0] was (python -m conventions, a test runner).
    where = " ".join(["batch-conventions", *(ctx.command_path.split(" ")[1:] if ctx else [])])
    return tidy(f"{_sentence(message)}. See '{where} --help'")


def tidy(text: str) -> str:
    """One line, no ``(HTTP None)``, no doubled word, no leading ``error:``, no signature."""
    text = " ".join(text.split())
    text = _HTTP_NONE.sub("", text)
    text = _DOUBLED_WORD.sub(r"\1", text)
    text = _LEADING_ERROR.sub("", text)
    return redact_sas(text)


def _sentence(text: str) -> str:
    return text.strip().rstrip(".")


def _container_not_found(error: ContainerNotFoundError, job_id: str | None) -> str:
    container = error.container
    # The library's message starts "could not <operation> <where>: ..."; keep that part.
    head = str(error).split(": ", 1)[0]
    what = head if head.startswith("could not ") else "could not reach the job's outputs"
    if job_id is not None:
        return (
            f"{what}: job {job_id!r} has no output container ({container!r}). "
            f"A typo in the job ID is the likelier cause; if the ID is right, create the "
            f"container with: batch-conventions prepare {job_id}"
        )
    return (
        f"{what}: the container {container!r} does not exist. Check the job ID "
        "(AZ_BATCH_JOB_ID) and the container URL; if they are right, create the container "
        "with: batch-conventions prepare JOB_ID"
    )


def _os_error(error: OSError) -> str:
    name = error.filename
    where = f"{name}" if name is not None else "a local file"
    if error.errno == errno.ENOENT:
        return f"could not open {where}: no such file or directory. Check the path"
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"could not open {where}: permission denied. Check the file's permissions"
    return f"could not use {where}: {error.strerror}"
