"""How the CLI reaches storage: a connection string, an account URL, or a container URL."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import click
from azure.storage.blob import BlobServiceClient

from conventions.errors import MissingDependencyError
from conventions.kinds import JobOutputKind, TaskOutputKind
from conventions.storage import JobOutputStorage

from ._network import client_kwargs

__all__ = ["Connection", "connection_options", "parse_duration", "parse_kind"]

_JOB_KINDS = {kind.text: kind for kind in (JobOutputKind.JOB_OUTPUT, JobOutputKind.JOB_PREVIEW)}
_DURATION = re.compile(r"(\d+)([smhd])", re.ASCII)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_kind(text: str) -> JobOutputKind | TaskOutputKind:
    """``JobOutput``/``JobPreview`` and ``job:<custom>`` are job kinds; the rest task kinds."""
    if text in _JOB_KINDS:
        return _JOB_KINDS[text]
    if text.startswith("job:"):
        return JobOutputKind.custom(text[4:])
    return TaskOutputKind.custom(text)


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
