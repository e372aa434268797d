"""How the CLI reaches storage: a connection string, an account URL, or a container URL."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import click
from azure.storage.blob import BlobServiceClient

from conventions.errors import InvalidKindError, MissingDependencyError
from conventions.kinds import JobOutputKind, TaskOutputKind
from conventions.storage import JobOutputStorage

from ._network import client_kwargs

__all__ = [
    "KIND_HELP",
    "Connection",
    "connection_options",
    "parse_duration",
    "parse_kind",
    "parse_task_kind",
]

_JOB_PREFIX = "job:"
#: The --kind help of every command that reads a kind (rule KD-4).
_KIND_NAMES = [k.text for k in TaskOutputKind.standard()] + [
    k.text for k in JobOutputKind.standard()
]
KIND_HELP = (
    "Output kind, any case: "
    + ", ".join(_KIND_NAMES)
    + "; custom:<text> for a custom task kind, job:custom:<text> for a custom job kind."
)
_DURATION = re.compile(r"(\d+)([smhd])", re.ASCII)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_kind(text: str, param_hint: str = "--kind") -> JobOutputKind | TaskOutputKind:
    """The kind a ``--kind`` value names (rule KD-4), or a usage error (exit 2).

    Standard kinds in any case (``taskoutput``, ``JobPreview``); ``custom:<text>`` is a
    custom task kind and ``job:custom:<text>`` a custom job kind; ``job:<standard>`` is
    accepted too. Anything else is refused with a "did you mean" suggestion, so a typo
    never lists or downloads nothing with exit 0.
    """
    job_texts = {kind.text.lower() for kind in JobOutputKind.standard()}
    try:
        if text[: len(_JOB_PREFIX)].lower() == _JOB_PREFIX:
            return JobOutputKind.parse(text[len(_JOB_PREFIX) :])
        if text.strip().lower() in job_texts:
            return JobOutputKind.parse(text)
        return TaskOutputKind.parse(text)
    except InvalidKindError as error:
        names = _KIND_NAMES
        close = difflib.get_close_matches(text.lower(), [n.lower() for n in names], n=1)
        hint = ""
        if close:
            hint = f"did you mean {names[[n.lower() for n in names].index(close[0])]!r}? "
        elif not text.lower().startswith(("custom:", _JOB_PREFIX)):
            hint = f"for a custom kind write 'custom:{text}'. "
        lowered = text.lower()
        if lowered.startswith(_JOB_PREFIX) and not lowered[len(_JOB_PREFIX) :].startswith(
            "custom:"
        ):
            raise click.BadParameter(
                f"{text!r} is not a job kind; write JobOutput, JobPreview or "
                f"job:custom:{text[len(_JOB_PREFIX) :]}",
                param_hint=param_hint,
            ) from None
        if lowered.startswith(("custom:", _JOB_PREFIX)):
            raise click.BadParameter(f"{error}", param_hint=param_hint) from None
        raise click.BadParameter(
            f"{text!r} is not a kind; {hint}Valid: {', '.join(names)} (any case), "
            "custom:<text> or job:custom:<text>",
            param_hint=param_hint,
        ) from None


def parse_task_kind(text: str, param_hint: str = "--kind") -> TaskOutputKind:
    """A task kind, as :func:`parse_kind` reads it; a job kind is a usage error (exit 2)."""
    kind = parse_kind(text, param_hint)
    if not isinstance(kind, TaskOutputKind):
        raise click.BadParameter(
            f"{kind.text} is a job kind; {param_hint} takes task kinds "
            "(TaskOutput, TaskPreview, TaskLog, TaskIntermediate or custom:<text>)",
            param_hint=param_hint,
        )
    return kind


def parse_duration(text: str) -> timedelta:
    """``7d``, ``12h``, ``30m``, ``90s``."""
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise click.BadParameter(f"{text!r} is not a duration such as 7d, 12h, 30m or 90s")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class Connection:
    """The storage options given on the command line (or by environment variables)."""

    def __init__(
        self, connection_string: str | None, account_url: str | None, container_url: str | None
    ) -> None:
        self.connection_string = connection_string
        self.account_url = account_url
        self.container_url = container_url

    def service_client(self) -> BlobServiceClient:
        """A service client: what ``prepare`` and ``sas`` need (a SAS cannot do that)."""
        if self.connection_string:
            return BlobServiceClient.from_connection_string(
                self.connection_string, **client_kwargs()
            )
        if self.account_url:
            try:
                from azure.identity import DefaultAzureCredential
            except ImportError as error:
                raise MissingDependencyError(
                    "--account-url signs in with azure-identity: "
                    "pip install 'batch-file-conventions[identity]'"
                ) from error
            return BlobServiceClient(
                self.account_url, credential=DefaultAzureCredential(), **client_kwargs()
            )
        raise click.UsageError(
            "this command needs --connection-string (or AZURE_STORAGE_CONNECTION_STRING) "
            "or --account-url"
        )

    def job_storage(self, job_id: str) -> JobOutputStorage:
        """The job's output storage, from whichever option was given."""
        if self.container_url:
            return JobOutputStorage.from_container_url(self.container_url, **client_kwargs())
        if self.connection_string:
            return JobOutputStorage.from_connection_string(
                self.connection_string, job_id, **client_kwargs()
            )
        if self.account_url:
            return JobOutputStorage.from_service_client(self.service_client(), job_id)
        raise click.UsageError(
            "give --connection-string (or AZURE_STORAGE_CONNECTION_STRING), "
            "--account-url or --container-url"
        )


def connection_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add the storage options; the command receives them as one ``connection``."""

    @functools.wraps(function)
    def command(
        *args: Any,
        connection_string: str | None,
        account_url: str | None,
        container_url: str | None,
        **kwargs: Any,
    ) -> Any:
        connection = Connection(connection_string, account_url, container_url)
        return function(*args, connection=connection, **kwargs)

    options = [
        click.option(
            "--connection-string",
            envvar="AZURE_STORAGE_CONNECTION_STRING",
            help="Storage connection string [env AZURE_STORAGE_CONNECTION_STRING].",
        ),
        click.option(
            "--account-url",
            help="Blob endpoint; signs in with DefaultAzureCredential (extra 'identity').",
        ),
        click.option(
            "--container-url",
            help="The job's container URL with a SAS (listing and reading need 'rl').",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command
