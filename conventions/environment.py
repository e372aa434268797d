"""The environment table of ``from_environment``: which variable says where storage is.

A pure decision (stdlib and attrs; no Azure, no I/O): given the environment as a mapping,
:func:`read_environment` returns the job and task IDs and the one source of the job's
container that wins, as a value; ``conventions.storage`` then builds the client from it.
The table (first match wins; README "Saving from a task", spec/vectors/environment.json):

1. ``CONVENTIONS_CONTAINER_URL``: a container URL with SAS, checked to be the job's
   container unless ``allow_other_container``;
2. ``AZURE_STORAGE_CONNECTION_STRING``, on the container ``container_name(job_id)``;
3. ``CONVENTIONS_ACCOUNT_URL``: the account's blob endpoint, signed in with the managed
   identity whose client id is ``AZURE_CLIENT_ID`` (if set), else the default chain.

>>> env = read_environment(
...     {"AZ_BATCH_JOB_ID": "my-job", "AZURE_STORAGE_CONNECTION_STRING": "AccountName=a"},
...     task=False,
... )
>>> env.source.variable, env.source.container
('AZURE_STORAGE_CONNECTION_STRING', 'job-my-job')
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from .containers import container_name
from .errors import MissingEnvironmentVariableError
from .ids import check_job_id, check_task_id

__all__ = [
    "ACCOUNT_URL_ENV",
    "CLIENT_ID_ENV",
    "CONNECTION_STRING_ENV",
    "CONTAINER_URL_ENV",
    "JOB_ID_ENV",
    "TASK_ID_ENV",
    "ContainerSource",
    "StorageEnvironment",
    "read_environment",
]

#: The Batch service sets these for every task except the start task.
JOB_ID_ENV = "AZ_BATCH_JOB_ID"
TASK_ID_ENV = "AZ_BATCH_TASK_ID"
#: A container URL with SAS (``output_container_url``), for ``from_environment``.
CONTAINER_URL_ENV = "CONVENTIONS_CONTAINER_URL"
#: The Azure SDKs' usual variable, used by ``from_environment`` when there is no container URL.
CONNECTION_STRING_ENV = "AZURE_STORAGE_CONNECTION_STRING"
#: The account's blob endpoint, for ``from_environment`` with a managed identity (whose
#: client id is in ``AZURE_CLIENT_ID``) or else ``DefaultAzureCredential``.
ACCOUNT_URL_ENV = "CONVENTIONS_ACCOUNT_URL"
#: The client id of the pool's user-assigned managed identity (azure-identity's variable).
CLIENT_ID_ENV = "AZURE_CLIENT_ID"

_TASK_HINT = "from_environment() runs inside a Batch task (not its start task)"
_JOB_HINT = "from_environment() runs inside a Batch task"
_NO_CONTAINER_HINT = (
    f"set one of {CONTAINER_URL_ENV} (the job's container URL with SAS), "
    f"{CONNECTION_STRING_ENV}, or {ACCOUNT_URL_ENV} (the account's blob endpoint, "
    f"signing in with the managed identity whose client id is in {CLIENT_ID_ENV}, "
    "else DefaultAzureCredential)"
)


@attrs.frozen
class ContainerSource:
    """Where the job's container is: the winning *variable* and its *value*.

    ``value`` is a URL that may carry a SAS, or a connection string: never in the repr.
    """

    #: ``CONTAINER_URL_ENV``, ``CONNECTION_STRING_ENV`` or ``ACCOUNT_URL_ENV``.
    variable: str
    value: str = attrs.field(repr=False)
    #: The job's container, ``container_name(job_id)``.
    container: str
    #: For a container URL: the job whose container it must be (``None``: any container,
    #: ``allow_other_container``). ``None`` for the other sources, which name the container.
    required_job: str | None = None
    #: For an account URL: the managed identity's client id, ``None`` for the default chain.
    client_id: str | None = None


@attrs.frozen
class StorageEnvironment:
    """What ``from_environment`` reads: the IDs and the container's source."""

    job_id: str
    #: ``None`` for a job storage.
    task_id: str | None
    source: ContainerSource


def _variable(environ: Mapping[str, str], name: str, hint: str) -> str:
    value = environ.get(name)
    if not value:
        raise MissingEnvironmentVariableError(name, hint)
    return value


def read_environment(
    environ: Mapping[str, str], *, task: bool, allow_other_container: bool = False
) -> StorageEnvironment:
    """Read the job ID (and with *task*, the task ID), then the first container source
    of the table that is set (an empty value counts as not set).

    Raises:
        MissingEnvironmentVariableError: an ID variable is missing, or all three container
            variables are (the message names all three).
        InvalidIdError: an ID is not a Batch ID.
    """
    hint = _TASK_HINT if task else _JOB_HINT
    job_id = check_job_id(_variable(environ, JOB_ID_ENV, hint))
    task_id = check_task_id(_variable(environ, TASK_ID_ENV, hint)) if task else None
    source = container_source(environ, job_id, allow_other_container)
    return StorageEnvironment(job_id, task_id, source)


def container_source(
    environ: Mapping[str, str], job_id: str, allow_other_container: bool = False
) -> ContainerSource:
    """The first of the table's container variables that is set, as a value.

    >>> container_source({}, "j")
    Traceback (most recent call last):
    ...
    conventions.errors.MissingEnvironmentVariableError: ... CONVENTIONS_CONTAINER_URL ...
    """
    container = container_name(job_id)
    url = environ.get(CONTAINER_URL_ENV)
    if url:
        required = None if allow_other_container else job_id
        return ContainerSource(CONTAINER_URL_ENV, url, container, required_job=required)
    connection_string = environ.get(CONNECTION_STRING_ENV)
    if connection_string:
        return ContainerSource(CONNECTION_STRING_ENV, connection_string, container)
    account_url = environ.get(ACCOUNT_URL_ENV)
    if account_url:
        client_id = environ.get(CLIENT_ID_ENV) or None
        return ContainerSource(ACCOUNT_URL_ENV, account_url, container, client_id=client_id)
    raise MissingEnvironmentVariableError(CONTAINER_URL_ENV, _NO_CONTAINER_HINT)
