"""Bounded time and no secrets: timeouts, retries, the CLI's --timeout/--retries, log redaction.

Storage behaviour runs against Azurite, faults through tests/faultproxy.py; the leak
check (tests/leakcheck.py) applies to every test here.
"""

from __future__ import annotations

import logging
import socket
import time
import traceback
from collections.abc import Iterator

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient
from click.testing import CliRunner

from conventions import ConventionsError, InvalidOutputFileError, StorageError, TaskOutputKind
from conventions.cli import main
from conventions.containers import container_name
from conventions.network import (
    DEFAULT_CONNECTION_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    TransferLimits,
    budgeted_client_kwargs,
)
from conventions.output_files import OutputFile
from conventions.sas import output_container_url
from conventions.storage import JobOutputStorage, TaskOutputStorage
from conventions.urls import redact_sas, redact_value
from scripts.azurite import StorageEndpoint

from .faultproxy import Fault, FaultProxy, ProxiedRequest
from .leakcheck import find_secrets


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _is_list(request: ProxiedRequest) -> bool:
    return request.query.get("comp") == "list"


@pytest.fixture
def seeded(blob_service_client: BlobServiceClient, job_id: str) -> Iterator[str]:
    container = blob_service_client.create_container(container_name(job_id))
    container.upload_blob("t1/$TaskOutput/a.txt", b"hello")
    yield job_id
    container.delete_container()


def _transport_timeouts(client: ContainerClient) -> tuple[float, float]:
    config = getattr(client._pipeline._transport, "connection_config")  # noqa: B009 - untyped
    return config.timeout, config.read_timeout


# -- per-request timeouts and retries in the Python API -----------------------------------------


def test_the_library_sets_default_timeouts_when_it_builds_the_client(
    azurite: StorageEndpoint,
) -> None:
    with JobOutputStorage.from_connection_string(azurite.connection_string, "j") as job:
        assert _transport_timeouts(job.container_client) == (
            DEFAULT_CONNECTION_TIMEOUT,
            DEFAULT_READ_TIMEOUT,
        )


def test_callers_client_kwargs_win(azurite: StorageEndpoint) -> None:
    with TaskOutputStorage.from_connection_string(
        azurite.connection_string, "j", "t", connection_timeout=3, read_timeout=4
    ) as storage:
        assert _transport_timeouts(storage.container_client) == (3, 4)


def test_read_timeout_passes_through_and_cuts_a_stall(
    seeded: str, proxied_endpoint: StorageEndpoint, fault_proxy: FaultProxy
) -> None:
    fault_proxy.inject(Fault.hang(60), times=None, when=_is_list)
    with JobOutputStorage.from_connection_string(
        proxied_endpoint.connection_string, seeded, read_timeout=1, retry_total=0
    ) as job:
        started = time.monotonic()
        with pytest.raises(StorageError, match="did not answer"):
            list(job.list_all())
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(("retry_total", "succeeds"), [(0, False), (2, True)])
def test_retry_total_passes_through(
    retry_total: int,
    succeeds: bool,
    seeded: str,
    proxied_endpoint: StorageEndpoint,
    fault_proxy: FaultProxy,
) -> None:
    fault_proxy.inject(Fault.refuse(503), times=2, when=_is_list)
    with JobOutputStorage.from_connection_string(
        proxied_endpoint.connection_string,
        seeded,
        retry_total=retry_total,
        initial_backoff=0,
        increment_base=0,
        random_jitter_range=0,
    ) as job:
        if succeeds:
            assert [ref.path for ref in job.list_all()] == ["a.txt"]
        else:
            with pytest.raises(StorageError, match="503"):
                list(job.list_all())


def test_connection_timeout_passes_through(azurite: StorageEndpoint) -> None:
    # 10.255.255.1 is not routed from a sandbox: connecting waits for the timeout.
    url = f"http://127.0.0.1:{_closed_port()}/devstoreaccount1/job-x?sv=2020-02-10&sig=abc"
    with JobOutputStorage.from_container_url(url, connection_timeout=1, retry_total=0) as job:
        assert _transport_timeouts(job.container_client)[0] == 1
        with pytest.raises(StorageError, match=r"endpoint 127\.0\.0\.1:\d+ did not answer"):
            list(job.list_all())


def test_transfer_limits_check_their_values() -> None:
    with pytest.raises(ValueError, match="grace"):
        TransferLimits(grace=0)
    with pytest.raises(ValueError, match="minimum_rate"):
        TransferLimits(minimum_rate=-1)
    assert TransferLimits(grace=1, minimum_rate=100).bound(250) == 3.5


def test_the_retry_budget_stops_retrying_after_its_time(azurite: StorageEndpoint) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/devstoreaccount1/job-x"
    kwargs = budgeted_client_kwargs(timeout=3, retries=10)
    with JobOutputStorage.from_container_url(url, **kwargs) as job:
        started = time.monotonic()
        with pytest.raises(StorageError):
            list(job.list_all())
    # 10 retries would back off for minutes; the budget stops them at about 3 s.
    assert time.monotonic() - started < 4


# -- the CLI: --timeout, --retries, an unreachable endpoint in <= 15 s -------------------------


def _connection_string(azurite: StorageEndpoint, port: int) -> str:
    return azurite.connection_string.replace(
        azurite.blob_endpoint.split("/")[2], f"127.0.0.1:{port}"
    )


def _cli(*args: str) -> tuple[int, str, float]:
    started = time.monotonic()
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output, time.monotonic() - started


def test_cli_reports_a_closed_port_in_one_line_within_15_seconds(azurite: StorageEndpoint) -> None:
    port = _closed_port()
    code, output, seconds = _cli(
        "list", "job-x", "--connection-string", _connection_string(azurite, port)
    )
    assert code == 1
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert f"127.0.0.1:{port}" in lines[0]
    assert seconds <= 15


def test_cli_reports_a_stalling_endpoint_within_15_seconds(
    seeded: str, azurite: StorageEndpoint, fault_proxy: FaultProxy
) -> None:
    fault_proxy.inject(Fault.hang(60), times=None)
    code, output, seconds = _cli(
        "list", seeded, "--connection-string", _connection_string(azurite, fault_proxy.port)
    )
    assert code == 1
    assert len(output.strip().splitlines()) == 1, output
    assert f"127.0.0.1:{fault_proxy.port}" in output
    assert seconds <= 15


def test_cli_timeout_and_retries_shorten_and_lengthen_it(
    seeded: str, azurite: StorageEndpoint, fault_proxy: FaultProxy
) -> None:
    fault_proxy.inject(Fault.hang(60), times=None)
    conn = ["--connection-string", _connection_string(azurite, fault_proxy.port)]
    code, _, seconds = _cli("list", seeded, "--timeout", "1", "--retries", "0", *conn)
    assert code == 1
    assert seconds < 4
    fault_proxy.clear()
    fault_proxy.inject(Fault.refuse(503), times=2)
    code, output, _ = _cli("list", seeded, "--retries", "0", *conn)
    assert code == 1
    assert "503" in output
    fault_proxy.clear()
    fault_proxy.inject(Fault.refuse(503), times=2)
    code, output, _ = _cli("list", seeded, "--retries", "2", "--json", *conn)
    assert code == 0, output
    assert "a.txt" in output


@pytest.mark.parametrize("command", ["prepare", "sas", "list", "download", "save", "run"])
def test_every_storage_command_has_timeout_and_retries(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert "--timeout SECONDS" in result.output
    assert "--retries" in result.output


# -- no secret in any output --------------------------------------------------------------------


def test_debug_logs_of_urllib3_show_no_signature(
    seeded: str, blob_service_client: BlobServiceClient, caplog: pytest.LogCaptureFixture
) -> None:
    url = output_container_url(blob_service_client, seeded, permissions="rl")
    caplog.set_level(logging.DEBUG)
    with JobOutputStorage.from_container_url(url) as job:
        assert [ref.path for ref in job.list_all()] == ["a.txt"]
        job.task("t1").get_output(TaskOutputKind.TASK_OUTPUT, "a.txt").download_bytes()
    request_lines = [
        record.getMessage() for record in caplog.records if record.name.startswith("urllib3")
    ]
    assert any("sig=REDACTED" in line for line in request_lines), request_lines
    assert not any(find_secrets(line) for line in request_lines)


def test_without_the_filter_urllib3_would_log_the_signature(
    seeded: str, blob_service_client: BlobServiceClient, caplog: pytest.LogCaptureFixture
) -> None:
    # Shows that the filter is what keeps the signature out, and that the leak check sees it.
    from conventions import _log_redaction

    url = output_container_url(blob_service_client, seeded, permissions="rl")
    pool_logger = logging.getLogger("urllib3.connectionpool")
    pool_logger.removeFilter(_log_redaction._FILTER)
    try:
        caplog.set_level(logging.DEBUG)
        with JobOutputStorage.from_container_url(url) as job:
            list(job.list_all())
        leaked = [find_secrets(record.getMessage()) for record in caplog.records]
    finally:
        pool_logger.addFilter(_log_redaction._FILTER)
        caplog.clear()  # what this test provoked on purpose is not a leak
    assert any(leaked)


def test_a_traceback_logged_with_a_signature_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    import conventions.storage  # noqa: F401 - installs the filter

    caplog.set_level(logging.DEBUG)
    try:
        raise ValueError("Failed to parse: http://h/c?sv=1&sig=TOPSECRET")
    except ValueError:
        logging.getLogger("urllib3.connectionpool").debug("failed", exc_info=True)
    assert "TOPSECRET" not in caplog.text


def test_a_url_urllib3_cannot_parse_is_refused_redacted_before_any_request() -> None:
    # On main this reached urllib3, whose parse error (chained) quoted the whole URL.
    url = "http://127.0.0.1:99999/devstoreaccount1/job-x?sv=2020-02-10&sig=TOPSECRET"
    with pytest.raises(ConventionsError) as caught:
        JobOutputStorage.from_container_url(url, retry_total=0)
    text = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
    assert "TOPSECRET" not in text
    assert "sig=REDACTED" in str(caught.value)


def test_a_storage_error_keeps_a_clean_cause(
    seeded: str, proxied_endpoint: StorageEndpoint, fault_proxy: FaultProxy
) -> None:
    fault_proxy.inject(Fault.refuse(503), times=None, when=_is_list)
    with JobOutputStorage.from_connection_string(
        proxied_endpoint.connection_string, seeded, retry_total=0
    ) as job, pytest.raises(StorageError) as caught:
        list(job.list_all())
    assert caught.value.__cause__ is not None  # kept for debugging: it shows no secret


@pytest.mark.parametrize(
    "url",
    [
        b"https://a.blob.core.windows.net/job-x?sp=w&sig=TOPSECRET",
        "https://a.blob.core.windows.net/job-x?sp=w&sig=TOP SECRET",
        "https://a.blob.core.windows.net/job-x?sp=w&sig=TOPSECRET\x00",
    ],
)
def test_invalid_output_file_error_redacts_bytes_and_spaces(url: str | bytes) -> None:
    with pytest.raises(InvalidOutputFileError) as caught:
        OutputFile("out.txt", url, "t1/out.txt")  # type: ignore[arg-type]
    text = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
    assert "SECRET" not in text


def test_redaction_helpers() -> None:
    assert redact_sas("x?sig=a b&sv=1") == "x?sig=REDACTED&sv=1"
    inner = "u=https%3A%2F%2Fh%2Fc%3Fsig%3D"
    assert redact_sas(inner + "abc") == inner + "REDACTED"
    assert redact_value(bytearray(b"?sig=abc")) == b"?sig=REDACTED"
    assert find_secrets("sig=REDACTED sig=%3D") == ["sig=%3D..."]


# -- the transfer watchdog ----------------------------------------------------------------------


def test_the_watchdog_fires_an_earlier_deadline_scheduled_after_a_later_one() -> None:
    # schedule() wakes the thread only for a new earliest deadline; this is that case.
    from conventions.network import _Watchdog

    watchdog = _Watchdog()
    fired: list[str] = []
    now = time.monotonic()
    watchdog.schedule(now + 60, lambda: fired.append("late"))
    watchdog.schedule(now + 0.2, lambda: fired.append("early"))
    cancelled = watchdog.schedule(now + 0.1, lambda: fired.append("cancelled"))
    watchdog.schedule(now + 0.3, lambda: fired.append("after"))  # not the earliest
    watchdog.cancel(cancelled)
    deadline = time.monotonic() + 5
    while len(fired) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fired == ["early", "after"]
    assert time.monotonic() - now < 2
