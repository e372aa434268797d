"""How the CLI reaches storage: precedence of options over the environment, one source only,
one job one container, and a managed identity (through a real token endpoint) for the client
and task commands. Against Azurite, in-process (click's runner)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from azure.core.credentials import TokenCredential
from azure.storage.blob import BlobServiceClient
from click.testing import CliRunner, Result

from conventions import JobOutputKind, TaskOutputKind, container_name
from conventions.cli import main
from conventions.sas import output_container_url, prepare_output_storage
from conventions.storage import JobOutputStorage, TaskOutputStorage
from scripts.azurite import StorageEndpoint
from tests.tokenendpoint import TokenEndpoint

_NO_CONNECTION = {
    "AZURE_STORAGE_CONNECTION_STRING": "",
    "CONVENTIONS_CONTAINER_URL": "",
    "CONVENTIONS_ACCOUNT_URL": "",
    "AZURE_CLIENT_ID": "",
}


def _invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env={**_NO_CONNECTION, **(env or {})})


def _oauth_env(endpoint: StorageEndpoint) -> dict[str, str]:
    """Trust the OAuth Azurite's self-signed certificate (requests reads this variable)."""
    assert endpoint.cert_path is not None
    return {"REQUESTS_CA_BUNDLE": endpoint.cert_path}


@pytest.fixture
def oauth_job(
    azurite_oauth: StorageEndpoint, oauth_credential: TokenCredential, job_id: str
) -> str:
    with BlobServiceClient(
        azurite_oauth.blob_endpoint, credential=oauth_credential, **azurite_oauth.client_kwargs
    ) as service:
        prepare_output_storage(service, job_id)
        JobOutputStorage.from_service_client(service, job_id).save_text(
            JobOutputKind.JOB_OUTPUT, "from the oauth account", "where.txt"
        )
    return job_id


# -- precedence: an explicit option beats the environment --------------------------------------


def test_an_explicit_account_url_beats_the_environments_connection_string(
    azurite: StorageEndpoint,
    azurite_oauth: StorageEndpoint,
    blob_service_client: BlobServiceClient,
    token_endpoint: TokenEndpoint,
    job_id: str,
) -> None:
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        **_oauth_env(azurite_oauth),
    }
    client_id = str(uuid.uuid4())
    result = _invoke(
        "prepare",
        job_id,
        "--account-url",
        azurite_oauth.blob_endpoint,
        "--client-id",
        client_id,
        env=env,
    )
    assert result.exit_code == 0, result.output
    # Created where the option said, not in the environment's account.
    assert not blob_service_client.get_container_client(container_name(job_id)).exists()
    assert token_endpoint.client_ids == [client_id]
    listed = _invoke(
        "list", job_id, "--json", "--account-url", azurite_oauth.blob_endpoint, env=env
    )
    assert (listed.exit_code, listed.stdout.strip()) == (0, "[]"), listed.output


def test_an_explicit_container_url_beats_the_environment(
    azurite: StorageEndpoint, blob_service_client: BlobServiceClient, job_id: str
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    JobOutputStorage.from_service_client(blob_service_client, job_id).save_text(
        JobOutputKind.JOB_OUTPUT, "x", "x.txt"
    )
    url = output_container_url(blob_service_client, job_id)
    dead = "http://127.0.0.1:9/devstoreaccount1"
    env = {"CONVENTIONS_ACCOUNT_URL": dead, "AZURE_STORAGE_CONNECTION_STRING": "UseBogus=true"}
    result = _invoke("list", job_id, "--json", "--container-url", url, env=env)
    assert result.exit_code == 0, result.output
    assert '"x.txt"' in result.stdout


@pytest.mark.parametrize(
    ("command", "flags"),
    [
        ("list", ("--connection-string", "--account-url")),
        ("prepare", ("--container-url", "--connection-string")),
        ("save", ("--account-url", "--container-url")),
    ],
)
def test_two_explicit_connections_are_a_usage_error(command: str, flags: tuple[str, str]) -> None:
    values = {
        "--connection-string": "UseDevelopmentStorage=true",
        "--account-url": "https://acct.blob.core.windows.net",
        "--container-url": "https://acct.blob.core.windows.net/job-j?sv=1&sig=secret",
    }
    args = [command, "a.txt" if command == "save" else "j"]
    for flag in flags:
        args += [flag, values[flag]]
    # A process with a deadline: before the fix, one of the two was used, and its requests
    # (to hosts that do not answer) were retried for minutes.
    env = {**os.environ, **_NO_CONNECTION, "AZ_BATCH_JOB_ID": "j", "AZ_BATCH_TASK_ID": "t"}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "conventions", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("not refused before any request")
    assert result.returncode == 2, result
    assert all(flag in result.stderr for flag in flags)
    assert "secret" not in result.stderr + result.stdout


def test_a_client_id_without_an_account_url_is_a_usage_error() -> None:
    result = _invoke(
        "list", "j", "--connection-string", "UseDevelopmentStorage=true", "--client-id", "abc"
    )
    assert result.exit_code == 2
    assert "--client-id goes with --account-url" in result.stderr


def test_nothing_configured_names_every_option_and_variable() -> None:
    result = _invoke("list", "j")
    assert result.exit_code == 2
    for name in (
        "--container-url",
        "--connection-string",
        "--account-url",
        "CONVENTIONS_ACCOUNT_URL",
    ):
        assert name in result.stderr


# -- one job, one container ---------------------------------------------------------------------


def test_a_container_url_of_another_job_is_refused_unless_allowed(
    blob_service_client: BlobServiceClient, job_id: str, tmp_path: Path
) -> None:
    prepare_output_storage(blob_service_client, job_id)
    JobOutputStorage.from_service_client(blob_service_client, job_id).task("t1").save_text(
        TaskOutputKind.TASK_OUTPUT, "render-big's", "frame.png"
    )
    url = output_container_url(blob_service_client, job_id)
    for args in (
        ("list", "other-job"),
        ("download", "other-job", "--kind", "TaskOutput", str(tmp_path / "out")),
    ):
        result = _invoke(*args, "--container-url", url)
        assert result.exit_code == 2, result.output  # a usage error: the wrong URL for JOB_ID
        assert container_name(job_id) in result.stderr
        assert container_name("other-job") in result.stderr
        assert "--allow-other-container" in result.stderr
        assert "sig=" not in result.output
    assert not (tmp_path / "out").exists()
    allowed = _invoke(
        "list", "other-job", "--json", "--container-url", url, "--allow-other-container"
    )
    assert allowed.exit_code == 0, allowed.output
    assert "frame.png" in allowed.stdout
    # The same through the environment, for the task side.
    env = {
        "AZ_BATCH_JOB_ID": "other-job",
        "AZ_BATCH_TASK_ID": "t1",
        "CONVENTIONS_CONTAINER_URL": url,
    }
    (tmp_path / "a.txt").write_text("a")
    saved = _invoke("save", "--destination", "a.txt", str(tmp_path / "a.txt"), env=env)
    assert saved.exit_code != 0
    assert container_name(job_id) in saved.stderr


# -- a managed identity, client and task side ---------------------------------------------------


def test_sas_with_a_managed_identity_is_a_user_delegation_sas(
    azurite_oauth: StorageEndpoint, token_endpoint: TokenEndpoint, oauth_job: str
) -> None:
    client_id = str(uuid.uuid4())
    result = _invoke(
        "sas",
        oauth_job,
        "--expiry",
        "1h",
        "--account-url",
        azurite_oauth.blob_endpoint,
        "--client-id",
        client_id,
        env=_oauth_env(azurite_oauth),
    )
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert "skoid=" in url  # signed with a user delegation key, not an account key
    with TaskOutputStorage.from_container_url(url, "t1", **azurite_oauth.client_kwargs) as task:
        task.save_text(TaskOutputKind.TASK_OUTPUT, "via delegation", "d.txt")
    assert set(token_endpoint.client_ids) == {client_id}


def test_save_and_run_inside_a_task_with_the_pools_identity(
    azurite_oauth: StorageEndpoint,
    token_endpoint: TokenEndpoint,
    oauth_job: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client_id = str(uuid.uuid4())
    env = {
        "AZ_BATCH_JOB_ID": oauth_job,
        "AZ_BATCH_TASK_ID": "t1",
        "CONVENTIONS_ACCOUNT_URL": azurite_oauth.blob_endpoint,
        "AZURE_CLIENT_ID": client_id,
        **_oauth_env(azurite_oauth),
    }
    monkeypatch.chdir(tmp_path)
    Path("result.csv").write_text("1,2\n")
    saved = _invoke("save", "--json", "result.csv", env=env)
    assert saved.exit_code == 0, saved.output
    ran = _invoke(
        "run",
        "--flush-interval",
        "0.05",
        "--log-dir",
        "logs",
        "--",
        sys.executable,
        "-c",
        "print('simulated')",
        env=env,
    )
    assert ran.exit_code == 0, ran.output
    with TaskOutputStorage.from_environment(env, **azurite_oauth.client_kwargs) as task:
        assert task.get_output(TaskOutputKind.TASK_OUTPUT, "result.csv").download_text() == "1,2\n"
        log = task.get_output(TaskOutputKind.TASK_LOG, "stdout.txt").download_text()
        assert log == "simulated\n"
    assert token_endpoint.client_ids
    assert set(token_endpoint.client_ids) == {client_id}


@pytest.mark.parametrize("with_client_id", [True, False])
def test_a_refused_identity_is_at_most_three_lines_in_bounded_time(
    azurite_oauth: StorageEndpoint,
    token_endpoint: TokenEndpoint,
    oauth_job: str,
    with_client_id: bool,
) -> None:
    token_endpoint.refuse = True
    client_id = ["--client-id", str(uuid.uuid4())] if with_client_id else []
    # A real process: what the user's terminal shows, logging included.
    env = {**os.environ, **_NO_CONNECTION, **_oauth_env(azurite_oauth)}
    command = [sys.executable, "-m", "conventions", "list", oauth_job]
    command += ["--account-url", azurite_oauth.blob_endpoint, *client_id]
    started = time.monotonic()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 3, result.stderr
    assert "could not get a storage token" in result.stderr
    assert "AZURE_CLIENT_ID" in result.stderr
    assert result.stdout == ""
    assert elapsed < 30, elapsed
    assert token_endpoint.requests  # the real credential did ask the endpoint


def test_run_with_a_refused_identity_says_so_in_one_line(
    azurite_oauth: StorageEndpoint,
    token_endpoint: TokenEndpoint,
    oauth_job: str,
    tmp_path: Path,
) -> None:
    token_endpoint.refuse = True
    env = {
        "AZ_BATCH_JOB_ID": oauth_job,
        "AZ_BATCH_TASK_ID": "t1",
        "CONVENTIONS_ACCOUNT_URL": azurite_oauth.blob_endpoint,
        "AZURE_CLIENT_ID": "0000-pool-identity",
        **_oauth_env(azurite_oauth),
    }
    command = [sys.executable, "-m", "conventions", "run", "--log-dir", str(tmp_path), "--"]
    command += [sys.executable, "-c", "print(1)"]
    full_env = {**os.environ, **_NO_CONNECTION, **env}
    started = time.monotonic()
    result = subprocess.run(command, env=full_env, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 30
    assert result.returncode == 1, result
    assert len(result.stderr.strip().splitlines()) <= 3, result.stderr
    assert "0000-pool-identity" in result.stderr
