"""How the CLI reaches storage: a connection string, an account URL, or a container URL."""

from __future__ import annotations

import difflib
import functools
import logging
import os
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import click
from azure.core.credentials import TokenCredential
from azure.storage.blob import BlobServiceClient

from conventions.errors import InvalidKindError
from conventions.identity import CLIENT_ID_ENV, storage_credential
from conventions.kinds import JobOutputKind, TaskOutputKind
from conventions.storage import (
    ACCOUNT_URL_ENV,
    CONNECTION_STRING_ENV,
    CONTAINER_URL_ENV,
    JOB_ID_ENV,
    TASK_ID_ENV,
    JobOutputStorage,
    TaskOutputStorage,
)

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
_TASK_KIND_NAMES = [k.text for k in TaskOutputKind.standard()]
KIND_HELP = (
    "Output kind, any case: "
    + ", ".join(_KIND_NAMES)
    + "; custom:<text> for a custom task kind, job:custom:<text> for a custom job kind."
)
_DURATION = re.compile(r"(\d+)([smhd])", re.ASCII)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _suggestion(text: str, names: list[str]) -> str:
    """``did you mean 'TaskOutput'? `` (or two names when both are as close), or ``""``."""
    folded = [name.lower() for name in names]
    close = difflib.get_close_matches(text.lower().strip(), folded, n=2)
    if not close:
        return ""
    ratios = [difflib.SequenceMatcher(None, text.lower(), match).ratio() for match in close]
    chosen = [names[folded.index(match)] for match, ratio in zip(close, ratios, strict=True)
              if ratio >= ratios[0] - 0.1]  # fmt: skip
    return f"did you mean {' or '.join(repr(name) for name in chosen)}? "


def parse_kind(
    text: str, param_hint: str = "--kind", *, task_only: bool = False
) -> JobOutputKind | TaskOutputKind:
    """The kind a ``--kind`` value names (rule KD-4), or a usage error (exit 2).

    Standard kinds in any case (``taskoutput``, ``JobPreview``); ``custom:<text>`` is a
    custom task kind and ``job:custom:<text>`` a custom job kind; ``job:<standard>`` is
    accepted too. Anything else is refused with a "did you mean" suggestion, so a typo
    never lists or downloads nothing with exit 0. With *task_only* (a command that takes
    task kinds), only task kinds are suggested.
    """
    job_texts = {kind.text.lower() for kind in JobOutputKind.standard()}
    try:
        if text[: len(_JOB_PREFIX)].lower() == _JOB_PREFIX:
            return JobOutputKind.parse(text[len(_JOB_PREFIX) :])
        if text.strip().lower() in job_texts:
            return JobOutputKind.parse(text)
        return TaskOutputKind.parse(text)
    except InvalidKindError as error:
        names = _TASK_KIND_NAMES if task_only else _KIND_NAMES
        hint = _suggestion(text, names)
        if not hint and not text.lower().startswith(("custom:", _JOB_PREFIX)):
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
        others = "custom:<text>" if task_only else "custom:<text> or job:custom:<text>"
        raise click.BadParameter(
            f"{text!r} is not a {'task ' if task_only else ''}kind; {hint}Valid: "
            f"{', '.join(names)} (any case), {others}",
            param_hint=param_hint,
        ) from None


def parse_task_kind(text: str, param_hint: str = "--kind") -> TaskOutputKind:
    """A task kind, as :func:`parse_kind` reads it; a job kind is a usage error (exit 2)."""
    kind = parse_kind(text, param_hint, task_only=True)
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


#: Each option and its variable, in ``from_environment``'s order of precedence.
_SOURCES = (
    ("--container-url", CONTAINER_URL_ENV),
    ("--connection-string", CONNECTION_STRING_ENV),
    ("--account-url", ACCOUNT_URL_ENV),
)
_MISSING = (
    "give one of --container-url, --connection-string or --account-url [--client-id], "
    f"or set {CONTAINER_URL_ENV}, {CONNECTION_STRING_ENV} or {ACCOUNT_URL_ENV} "
    f"[{CLIENT_ID_ENV}]"
)


def _quiet_identity_logs() -> None:
    """Keep azure-identity's own logging off the terminal: when the chain fails it logs
    every credential's reason as a warning, which Python's last-resort handler would print
    (dozens of lines) before our one-line error. The error chains azure-identity's, which
    ``--verbose`` shows."""
    identity_log = logging.getLogger("azure.identity")
    if not identity_log.handlers:
        identity_log.addHandler(logging.NullHandler())


def _credential(client_id: str | None) -> TokenCredential:
    _quiet_identity_logs()
    return storage_credential(client_id)


class Connection:
    """How a command reaches storage: the explicit options, else the environment.

    An explicit option beats every environment variable; two explicit sources are a usage
    error. Without one, the variables are read in ``from_environment``'s order:
    ``CONVENTIONS_CONTAINER_URL``, ``AZURE_STORAGE_CONNECTION_STRING``,
    ``CONVENTIONS_ACCOUNT_URL``. An account URL signs in with the managed identity
    ``--client-id`` (default ``$AZURE_CLIENT_ID``), else with ``DefaultAzureCredential``.
    """

    def __init__(
        self,
        connection_string: str | None,
        account_url: str | None,
        container_url: str | None,
        client_id: str | None = None,
        *,
        allow_other_container: bool = False,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.environ = os.environ if environ is None else environ
        self.allow_other_container = allow_other_container
        given = {
            "--container-url": container_url,
            "--connection-string": connection_string,
            "--account-url": account_url,
        }
        explicit = [(flag, value) for flag, value in given.items() if value]
        if len(explicit) > 1:
            names = " and ".join(flag for flag, _ in explicit)
            raise click.UsageError(f"give one connection, not {names}")
        #: The source in use: (flag, value), or None when nothing is configured.
        self.source: tuple[str, str] | None = explicit[0] if explicit else None
        self._from_environment = not explicit
        if not explicit:
            self.source = self._environment_source(skip_container_url=False)
        if client_id and (self.source is None or self.source[0] != "--account-url"):
            raise click.UsageError(
                "--client-id goes with --account-url (or CONVENTIONS_ACCOUNT_URL): "
                "it names the managed identity that signs in to the account"
            )
        self.client_id = client_id or self.environ.get(CLIENT_ID_ENV) or None

    def _environment_source(self, *, skip_container_url: bool) -> tuple[str, str] | None:
        for flag, variable in _SOURCES:
            if skip_container_url and flag == "--container-url":
                continue
            value = self.environ.get(variable)
            if value:
                return flag, value
        return None

    def _service_source(self) -> tuple[str, str]:
        source = self.source
        if source is not None and source[0] == "--container-url" and self._from_environment:
            # A SAS cannot create containers or sign: look further down the table.
            source = self._environment_source(skip_container_url=True)
        if source is None or source[0] == "--container-url":
            raise click.UsageError(
                "this command needs --connection-string or --account-url "
                f"(or {CONNECTION_STRING_ENV} or {ACCOUNT_URL_ENV}): "
                "a container URL cannot create containers or sign a SAS"
            )
        return source

    def service_client(self) -> BlobServiceClient:
        """A service client: what ``prepare`` and ``sas`` need (a SAS cannot do that)."""
        flag, value = self._service_source()
        if flag == "--connection-string":
            return BlobServiceClient.from_connection_string(value, **client_kwargs())
        return BlobServiceClient(
            value, credential=_credential(self.client_id), **client_kwargs()
        )

    def job_storage(self, job_id: str) -> JobOutputStorage:
        """The job's output storage, from whichever source is in use.

        Raises:
            ContainerMismatchError: a container URL of another container than the job's,
                without ``--allow-other-container``.
        """
        if self.source is None:
            raise click.UsageError(_MISSING)
        flag, value = self.source
        if flag == "--container-url":
            checked = None if self.allow_other_container else job_id
            return JobOutputStorage.from_container_url(value, job_id=checked, **client_kwargs())
        if flag == "--connection-string":
            return JobOutputStorage.from_connection_string(value, job_id, **client_kwargs())
        return JobOutputStorage.from_account_url(
            value, job_id, credential=_credential(self.client_id), **client_kwargs()
        )

    def task_storage(self) -> TaskOutputStorage:
        """The current Batch task's storage (``AZ_BATCH_JOB_ID``, ``AZ_BATCH_TASK_ID``):
        exactly ``TaskOutputStorage.from_environment``, with an explicit option in place of
        the container variables."""
        if self.source is None:
            raise click.UsageError(_MISSING)
        flag, value = self.source
        environ = {
            name: self.environ[name] for name in (JOB_ID_ENV, TASK_ID_ENV) if name in self.environ
        }
        environ[dict(_SOURCES)[flag]] = value
        if self.client_id:
            environ[CLIENT_ID_ENV] = self.client_id
        _quiet_identity_logs()
        return TaskOutputStorage.from_environment(
            environ, allow_other_container=self.allow_other_container, **client_kwargs()
        )


def connection_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add the storage options; the command receives them as one ``connection``."""

    @functools.wraps(function)
    def command(
        *args: Any,
        connection_string: str | None,
        account_url: str | None,
        container_url: str | None,
        client_id: str | None,
        allow_other_container: bool,
        **kwargs: Any,
    ) -> Any:
        connection = Connection(
            connection_string,
            account_url,
            container_url,
            client_id,
            allow_other_container=allow_other_container,
        )
        return function(*args, connection=connection, **kwargs)

    options = [
        click.option(
            "--connection-string",
            help=f"Storage connection string [env {CONNECTION_STRING_ENV}].",
        ),
        click.option(
            "--account-url",
            help=(
                "The account's blob endpoint, signing in with Entra ID: the managed "
                "identity --client-id, else DefaultAzureCredential (extra 'identity') "
                f"[env {ACCOUNT_URL_ENV}]."
            ),
        ),
        click.option(
            "--client-id",
            help=(
                "Client id of the user-assigned managed identity (e.g. the pool's) that signs "
                f"in with --account-url [env {CLIENT_ID_ENV}]."
            ),
        ),
        click.option(
            "--container-url",
            help=(
                "The job's container URL with a SAS (listing and reading need 'rl') "
                f"[env {CONTAINER_URL_ENV}]."
            ),
        ),
        click.option(
            "--allow-other-container",
            is_flag=True,
            help="Use a container URL even if its container is not the job's.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command
