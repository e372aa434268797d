# ruff: noqa: E501, N806 - a table: one bad input per line reads best
# mypy: disable-error-code="misc"
"""Only the library's errors: bad input to every public function, constructor, method and
CLI command gives a ``ConventionsError`` naming the value (or ``TypeError`` for a wrong
Python type), never a foreign exception, and is refused before any request.

The table is built from a few lists of bad values crossed with the calls that take them;
the storage calls use a client pointed at a closed port with no retries, so anything that
slips past validation shows up as a ``StorageError`` from the network ("accepted"),
not as a hang. Missing or directory sources for ``save`` are the local-side suite's.
"""

from __future__ import annotations

import datetime
import itertools
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import conventions
from conventions import (
    ConventionsError,
    JobOutputKind,
    OutputFile,
    StorageError,
    TaskOutputKind,
)
from conventions.cli import main
from scripts.azurite import ACCOUNT_KEY

from .face_fixtures import Face
from .face_support import sas_module

Call = Callable[[], object]

LONG = "x" * 65  # too long for a task ID only
BAD_IDS: list[Any] = ["", " ", "a b", LONG, "é", "a/b", "a\x00", "..", "a\nb", "$JobOutput"]
BAD_KIND_TEXT: list[Any] = ["", "a b", "$x", "a/b", "x" * 300, "Task\x00Log", "é"]
BAD_PATHS: list[Any] = [
    "",
    "/abs",
    "..",
    "../..",
    "a/../../b",
    "a\x00b",
    "a" * 1100,
    "x/" * 300,
    ".",
    "a/./b/../..",
]
BAD_BLOB_NAMES: list[Any] = [
    "",
    "x",
    "t1/TaskOutput/x",
    "t1/$TaskOutput",
    "$JobOutput",
    "t1/$TaskOutput/../x",
    "\x00",
    "t1//$TaskOutput/x",
]
SAS = "sv=2020-02-10&sp=w&sig=abc"
BAD_URLS: list[Any] = [
    "",
    "ftp://h/c?" + SAS,
    "file:///tmp/c?" + SAS,
    "not a url",
    "http://",
    "http://[::1/c?" + SAS,
    "https://h/c?sv=1&sp=r&sig=abc",  # no write permission
    "https://h/c",  # neither SAS nor identity
]
WRONG_TYPES: list[Any] = [None, 42, b"bytes", ["list"], 1.5]
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
BAD_CONNECTION_STRINGS: list[Any] = [
    "",
    "garbage",
    "AccountName=x",
    "AccountName=a;AccountKey=not base64!!;BlobEndpoint=http://127.0.0.1:1/a;",
    "DefaultEndpointsProtocol=ftp;AccountName=a;AccountKey=" + KEY + ";",
    "BlobEndpoint=file:///tmp/a;AccountName=a;AccountKey=" + KEY + ";",
    "BlobEndpoint=ftp://h/a;AccountName=a;AccountKey=" + KEY + ";",
]
BAD_CONTAINER_URLS: list[Any] = [
    "",
    "ftp://h/c?sig=x",
    "file:///tmp/c",
    "not a url",
    "http://",
    "http://[::1/c",
    "https://h",  # no container
]
BAD_COUNTS: list[Any] = [0, -1]
BAD_ENCODINGS: list[Any] = ["no-such-codec", "", "rot13"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PORT = _closed_port()
DEAD_URL = f"http://127.0.0.1:{PORT}/devstoreaccount1/job-x?sv=2020-02-10&sp=racwdl&sig=abc"
DEAD_CS = (
    f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={ACCOUNT_KEY};"
    f"BlobEndpoint=http://127.0.0.1:{PORT}/devstoreaccount1;"
)


BAD_KEY_CS = f"AccountName=devstoreaccount1;AccountKey=not base64!!;BlobEndpoint=http://127.0.0.1:{PORT}/devstoreaccount1;"


def _job(face: Face) -> Any:
    return face.JobOutputStorage.from_container_url(DEAD_URL, retry_total=0)


def _task(face: Face) -> Any:
    return face.TaskOutputStorage.from_container_url(DEAD_URL, "t1", retry_total=0)


def _service(face: Face, connection_string: str = DEAD_CS) -> Any:
    """A service client of the face's kind (never used for a request: nothing is opened)."""
    if not face.is_async:
        return BlobServiceClient.from_connection_string(connection_string, retry_total=0)
    from azure.storage.blob.aio import BlobServiceClient as AsyncBlobServiceClient

    return AsyncBlobServiceClient.from_connection_string(connection_string, retry_total=0)


def _cases(tmp: Path) -> Iterator[tuple[str, Call, bool]]:
    """(label, call, wrong_type): every bad input to a call that does no storage I/O (names,
    OutputFile) and the call that must refuse it."""
    T, J = TaskOutputKind.TASK_OUTPUT, JobOutputKind.JOB_OUTPUT
    for value in BAD_IDS:
        yield f"task_blob_name(task_id={value!r})", lambda v=value: conventions.task_blob_name(v, T, "p"), False
        yield f"task_prefix({value!r})", lambda v=value: conventions.task_prefix(v, T), False
        yield f"task_output_file(task_id={value!r})", lambda v=value: conventions.task_output_file(DEAD_URL, v, T, "*.txt"), False
    for value in BAD_KIND_TEXT:
        yield f"TaskOutputKind.custom({value!r})", lambda v=value: TaskOutputKind.custom(v), False
        yield f"JobOutputKind.custom({value!r})", lambda v=value: JobOutputKind.custom(v), False
    for label, call in [
        ("task_blob_name(job kind)", lambda: conventions.task_blob_name("t", J, "p")),  # type: ignore[arg-type]
        ("job_blob_name(task kind)", lambda: conventions.job_blob_name(T, "p")),  # type: ignore[arg-type]
        ("task_output_file(job kind)", lambda: conventions.task_output_file(DEAD_URL, "t", J, "*")),  # type: ignore[arg-type]
    ]:
        yield label, call, False
    for value in BAD_PATHS:
        yield f"task_blob_name(path={value!r})", lambda v=value: conventions.task_blob_name("t", T, v), False
        yield f"job_blob_name(path={value!r})", lambda v=value: conventions.job_blob_name(J, v), False
    for value in BAD_BLOB_NAMES:
        yield f"parse_blob_name({value!r})", lambda v=value: conventions.parse_blob_name(v), False
    for value in BAD_URLS:
        yield f"OutputFile(container_url={value!r})", lambda v=value: OutputFile("out.txt", v, "t/out.txt"), False
        yield f"task_output_file({value!r})", lambda v=value: conventions.task_output_file(v, "t", T, "*.txt"), False
        yield f"std_logs({value!r})", lambda v=value: conventions.std_logs(v, "t"), False
    for value in ["bogus", ""]:
        yield f"task_output_file(condition={value!r})", lambda v=value: conventions.task_output_file(DEAD_URL, "t", T, "*", condition=v), False
    for value in [{}, {"filePattern": "x"}, {"filePattern": "x", "destination": {}}]:
        yield f"OutputFile.from_dict({value!r})", lambda v=value: OutputFile.from_dict(v), False
    for value in WRONG_TYPES:
        yield f"container_name({value!r})", lambda v=value: conventions.container_name(v), True
        yield f"task_blob_name(path={value!r})", lambda v=value: conventions.task_blob_name("t", T, v), True
        yield f"parse_blob_name({value!r})", lambda v=value: conventions.parse_blob_name(v), True
        yield f"destination_path({value!r})", lambda v=value: conventions.destination_path(v), True
        yield f"TaskOutputKind.custom({value!r})", lambda v=value: TaskOutputKind.custom(v), True
        yield f"task_blob_name(kind={value!r})", lambda v=value: conventions.task_blob_name("t", v, "p"), True
        yield f"has_wildcard({value!r})", lambda v=value: conventions.has_wildcard(v), True


def _storage_cases(face: Face, tmp: Path) -> Iterator[tuple[str, Call, bool]]:
    """(label, call, wrong_type): every bad input to the storages and references of *face*
    and the call that must refuse it."""
    T, J = TaskOutputKind.TASK_OUTPUT, JobOutputKind.JOB_OUTPUT
    for value in BAD_IDS:
        yield f"TaskOutputStorage(task_id={value!r})", lambda v=value: face.TaskOutputStorage.from_container_url(DEAD_URL, v), False
        if value != LONG:  # a job ID has no length limit (rule ID-1)
            yield f"from_connection_string(job_id={value!r})", lambda v=value: face.JobOutputStorage.from_connection_string(DEAD_CS, v), False
        yield f"JobOutputStorage.task({value!r})", lambda v=value: _job(face).task(v), False
        yield f"list_task_outputs(task_ids=[{value!r}])", lambda v=value: list(_job(face).list_task_outputs(T, [v])), False
    for label, call in [
        ("task storage save(job kind)", lambda: _task(face).save_text(J, "x", "p")),
        ("job storage list_outputs(task kind)", lambda: list(_job(face).list_outputs(T))),
        ("list_task_outputs(job kind)", lambda: list(_job(face).list_task_outputs(J))),
        ("download(job kind, task_ids)", lambda: _job(face).download(J, tmp / "d", task_ids=["t"])),
    ]:
        yield label, call, False
    for value in BAD_PATHS:
        yield f"save_text(destination={value!r})", lambda v=value: _task(face).save_text(T, "x", v), False
        yield f"save_bytes(destination={value!r})", lambda v=value: _task(face).save_bytes(T, b"x", v), False
        yield f"get_output({value!r})", lambda v=value: _task(face).get_output(T, v), False
        yield f"save(destination={value!r})", lambda v=value: _task(face).save(T, __file__, destination=v), False
        yield f"job save_text({value!r})", lambda v=value: _job(face).save_text(J, "x", v), False
    for value in BAD_CONNECTION_STRINGS:
        yield f"JobOutputStorage.from_connection_string({value[:40]!r})", lambda v=value: face.JobOutputStorage.from_connection_string(v, "job"), False
        yield f"TaskOutputStorage.from_connection_string({value[:40]!r})", lambda v=value: face.TaskOutputStorage.from_connection_string(v, "job", "t"), False
    for value in BAD_CONTAINER_URLS:
        yield f"JobOutputStorage.from_container_url({value!r})", lambda v=value: face.JobOutputStorage.from_container_url(v), False
        yield f"TaskOutputStorage.from_container_url({value!r})", lambda v=value: face.TaskOutputStorage.from_container_url(v, "t"), False
    for value in BAD_COUNTS:
        yield f"save_many(max_concurrency={value})", lambda v=value: _task(face).save_many(T, [__file__], max_concurrency=v), False
        yield f"download(max_concurrency={value})", lambda v=value: _job(face).download(T, tmp / "d", max_concurrency=v), False
        yield f"download_outputs(max_concurrency={value})", lambda v=value: _job(face).download_outputs([], tmp / "d", max_concurrency=v), False
        yield f"download(chunk_concurrency={value})", lambda v=value: _job(face).download(T, tmp / "d", chunk_concurrency=v), False
        yield f"save(max_concurrency={value})", lambda v=value: _task(face).save(T, __file__, max_concurrency=v), False
        yield f"download_to_file(max_concurrency={value})", lambda v=value: _task(face).reference(T, "a").download_to_file(tmp / "f", max_concurrency=v), False
        yield f"download_bytes(max_concurrency={value})", lambda v=value: _task(face).reference(T, "a").download_bytes(max_concurrency=v), False
        yield f"delete_outputs(max_concurrency={value})", lambda v=value: _job(face).delete_outputs([], max_concurrency=v), False
        yield f"follow(interval={value})", lambda v=value: next(iter(_task(face).reference(T, "log.txt").follow(interval=v))), False
        yield f"follow(request_timeout={value})", lambda v=value: next(iter(_task(face).reference(T, "log.txt").follow(request_timeout=v))), False
        yield f"watch(interval={value})", lambda v=value: next(iter(_job(face).watch(T, tmp / "d", interval=v))), False
    yield "follow(timeout=-1)", lambda: next(iter(_task(face).reference(T, "log.txt").follow(timeout=-1))), False
    # Issue 19 item 7: refused at the call (a generator is not even started), before any request.
    for value in [1.5, None, True, "8"]:
        yield f"download(max_concurrency={value!r})", lambda v=value: _job(face).download(T, tmp / "d", max_concurrency=v), False
        yield f"download_outputs(max_concurrency={value!r})", lambda v=value: _job(face).download_outputs([], tmp / "d", max_concurrency=v), False
        yield f"iter_download(max_concurrency={value!r})", lambda v=value: _job(face).iter_download([], tmp / "d", max_concurrency=v), False
        yield f"watch(max_concurrency={value!r})", lambda v=value: _job(face).watch(T, tmp / "d", max_concurrency=v), False
        yield f"delete_outputs(max_concurrency={value!r})", lambda v=value: _job(face).delete_outputs([], max_concurrency=v), False
    for value in [float("inf"), 1e300, float("nan"), 0, -1, None, "10"]:
        yield f"watch(interval={value!r})", lambda v=value: _job(face).watch(T, tmp / "d", interval=v), False
    for value in [float("nan"), float("inf"), -1, "600"]:
        yield f"watch(idle_exit={value!r})", lambda v=value: _job(face).watch(T, tmp / "d", idle_exit=v), False
    for value in [None, "t1/$TaskOutput/a.txt", 42]:
        yield f"delete_outputs([{value!r}])", lambda v=value: _job(face).delete_outputs([v]), False
        yield f"delete_outputs(iter([{value!r}]))", lambda v=value: _job(face).delete_outputs(iter([v])), False
        yield f"iter_download([{value!r}])", lambda v=value: _job(face).iter_download([v], tmp / "d"), False
        yield f"download_outputs([{value!r}])", lambda v=value: _job(face).download_outputs([v], tmp / "d"), False
    yield "JobOutputStorage(None)", lambda: face.JobOutputStorage(None), False
    yield "TaskOutputStorage(None, 't1')", lambda: face.TaskOutputStorage(None, "t1"), False
    yield "JobOutputStorage.from_service_client(None)", lambda: face.JobOutputStorage.from_service_client(None, "job"), False
    yield "TaskOutputStorage.from_service_client(None)", lambda: face.TaskOutputStorage.from_service_client(None, "job", "t1"), False
    for value in [float("inf"), 1e300, float("nan"), -float("inf")]:
        yield f"follow(interval={value})", lambda v=value: next(iter(_task(face).reference(T, "log.txt").follow(interval=v))), False
        yield f"follow(request_timeout={value})", lambda v=value: next(iter(_task(face).reference(T, "log.txt").follow(request_timeout=v))), False
        yield f"save_tracked(lifetime={value})", lambda v=value: _task(face).save_tracked(__file__, lifetime=v), False
    yield "follow(request_timeout=1e-9)", lambda: next(iter(_task(face).reference(T, "log.txt").follow(request_timeout=1e-9))), False
    yield "follow(timeout=nan)", lambda: next(iter(_task(face).reference(T, "log.txt").follow(timeout=float("nan")))), False
    yield "save_tracked(lifetime=0)", lambda: _task(face).save_tracked(__file__, lifetime=0), False
    for value in BAD_ENCODINGS:
        yield f"save_text(encoding={value!r})", lambda v=value: _task(face).save_text(T, "x", "a.txt", encoding=v), False
    for value in WRONG_TYPES:
        yield f"save_text(text={value!r})", lambda v=value: _task(face).save_text(T, v, "a.txt"), True
        if not isinstance(value, bytes):
            yield f"save_bytes(data={value!r})", lambda v=value: _task(face).save_bytes(T, v, "a.bin"), True
        yield f"save_many(max_concurrency={value!r})", lambda v=value: _task(face).save_many(T, [__file__], max_concurrency=v), True


def _sas_cases(face: Face) -> Iterator[tuple[str, Call, bool]]:
    """(label, call, wrong_type): every bad input to the signing functions of *face*."""
    sas = sas_module(face)
    for value in BAD_IDS:
        if value != LONG:  # a job ID has no length limit (rule ID-1)
            yield f"prepare_output_storage({value!r})", lambda v=value: sas.prepare_output_storage(_service(face), v), False
        if value != LONG:  # a job ID has no length limit (rule ID-1)
            yield f"output_container_url({value!r})", lambda v=value: sas.output_container_url(_service(face), v), False
    yield "prepare_output_storage(None)", lambda: sas.prepare_output_storage(None, "job"), False
    yield "output_container_url(None)", lambda: sas.output_container_url(None, "job"), False
    yield "output_container_url(a key that is not base64)", lambda: sas.output_container_url(_service(face, BAD_KEY_CS), "job"), False
    for value in [datetime.timedelta(0), datetime.timedelta(days=-1)]:
        yield f"output_container_url(expiry={value})", lambda v=value: sas.output_container_url(_service(face), "job", expiry=v), False
    for value in ["", "xyz", "rr", "R W"]:
        yield f"output_container_url(permissions={value!r})", lambda v=value: sas.output_container_url(_service(face), "job", permissions=v), False


def _classify(call: Call, wrong_type: bool) -> str:
    try:
        call()
    except StorageError:
        return "accepted"  # got as far as a request
    except ConventionsError as error:
        return "library" if str(error) else "library without a message"
    except TypeError:
        return "type error" if wrong_type else "foreign: TypeError"
    except Exception as error:  # noqa: BLE001 - the point is to see every kind
        return f"foreign: {type(error).__name__}"
    return "accepted"




def test_bad_inputs_give_the_librarys_own_errors(tmp_path: Path) -> None:
    _check_refused(_cases(tmp_path))


def test_bad_storage_inputs_give_the_librarys_own_errors(face: Face, tmp_path: Path) -> None:
    _check_refused(itertools.chain(_storage_cases(face, tmp_path), _sas_cases(face)))


def _check_refused(cases: Iterator[tuple[str, Call, bool]]) -> None:
    outcomes = [(label, _classify(call, wrong)) for label, call, wrong in cases]
    bad = [(label, outcome) for label, outcome in outcomes if outcome not in ("library", "type error")]
    ours = len(outcomes) - len(bad)
    report = "\n".join(f"  {outcome}: {label}" for label, outcome in bad)
    print(f"\n{len(outcomes)} bad inputs: {ours} gave the library's error (or TypeError)")
    assert not bad, f"{len(bad)} of {len(outcomes)} bad inputs were not refused by the library:\n{report}"


# -- CLI ---------------------------------------------------------------------------------------

CLI_CASES: list[list[str]] = [
    ["container-name", ""],
    ["container-name", "a\x00"],
    ["blob-name", "--kind", "", "p"],
    ["blob-name", "--kind", "TaskOutput", "--task", "a b", "p"],
    ["blob-name", "--kind", "TaskOutput", "--task", "t", "../.."],
    ["parse", "t1/TaskOutput/x"],
    ["output-files", "--task", "t", "--container-url", "ftp://h/c?sp=w&sig=abc"],
    ["output-files", "--task", "t", "--container-url", DEAD_URL, "--output", "nonsense"],
    ["list", "a b", "--container-url", DEAD_URL],
    ["list", "job", "--kind", "$bad", "--container-url", DEAD_URL],
    ["list", "job", "--connection-string", "garbage"],
    ["list", "job", "--container-url", "ftp://h/c"],
    ["list", "job", "--container-url", DEAD_URL, "--timeout", "-1"],
    ["list", "job", "--container-url", DEAD_URL, "--retries", "-1"],
    ["download", "job", "--kind", "TaskOutput", "d", "--container-url", DEAD_URL, "--max-concurrency", "0"],
    ["sas", "job", "--expiry", "soon", "--connection-string", DEAD_CS],
    ["sas", "job", "--permissions", "xyz", "--connection-string", DEAD_CS],
    ["prepare", "a b", "--connection-string", DEAD_CS],
    ["logs", "x", "t1", "-f", "--interval", "inf", "--container-url", DEAD_URL],
    ["logs", "x", "t1", "-f", "--interval", "nan", "--container-url", DEAD_URL],
    ["run", "--lifetime", "0s", "--container-url", DEAD_URL, "--", "true"],
    ["run", "--lifetime", "forever", "--container-url", DEAD_URL, "--", "true"],
]

#: Values that break a rule: a usage error, exit 2, before any request (issue 19 item 7).
CLI_USAGE_CASES: list[list[str]] = [
    ["list", "x", "--container-url", DEAD_URL, "--timeout", "nan"],
    ["list", "x", "--container-url", DEAD_URL, "--timeout", "inf"],
    *(
        ["download", "x", "--kind", "TaskOutput", "d", "--container-url", DEAD_URL, "--watch", option, value]
        for option in ("--idle-exit", "--interval")
        for value in ("nan", "inf", "1e999", "-inf")
    ),
]
CLI_CASES += CLI_USAGE_CASES


@pytest.mark.parametrize("args", CLI_USAGE_CASES, ids=lambda args: " ".join(args[-2:]))
def test_bad_cli_settings_are_usage_errors(args: list[str], tmp_path: Path) -> None:
    # Job "x" matches DEAD_URL's container: only the setting is wrong.
    result = CliRunner().invoke(main, [str(tmp_path / a) if a == "d" else a for a in args])
    assert result.exit_code == 2, result.output
    assert "could not" not in result.output  # refused before any request
    assert "container" not in result.output


@pytest.mark.parametrize(
    "args", CLI_CASES, ids=lambda args: " ".join(args).replace(str(PORT), "PORT")[:60]
)
def test_bad_cli_input_is_one_line_and_no_traceback(args: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (1, 2), result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, result.output


# -- fuzz: the pure API with arbitrary text ------------------------------------------------------

PURE: list[tuple[str, Callable[[str], object]]] = [
    ("container_name", conventions.container_name),
    ("is_valid_container_name", conventions.is_valid_container_name),
    ("parse_blob_name", conventions.parse_blob_name),
    ("destination_path", conventions.destination_path),
    ("has_wildcard", conventions.has_wildcard),
    ("TaskOutputKind.custom", TaskOutputKind.custom),
    ("JobOutputKind.custom", JobOutputKind.custom),
    ("task_prefix", lambda text: conventions.task_prefix(text, TaskOutputKind.TASK_LOG)),
    ("task_blob_name(id)", lambda text: conventions.task_blob_name(text, TaskOutputKind.TASK_LOG, "p")),
    ("task_blob_name(path)", lambda text: conventions.task_blob_name("t", TaskOutputKind.TASK_LOG, text)),
    ("job_blob_name", lambda text: conventions.job_blob_name(JobOutputKind.JOB_OUTPUT, text)),
    ("OutputFile(url)", lambda text: OutputFile("out.txt", text, "t/out.txt")),
    ("OutputFile(pattern)", lambda text: OutputFile(text, DEAD_URL, "t/out.txt")),
    ("OutputFile(path)", lambda text: OutputFile("out.txt", DEAD_URL, text)),
    ("task_output_file", lambda text: conventions.task_output_file(DEAD_URL, "t", TaskOutputKind.custom("Out"), text)),
]


@pytest.mark.parametrize(("name", "function"), PURE, ids=[name for name, _ in PURE])
@given(text=st.text())
def test_the_pure_api_raises_only_its_own_errors_on_any_text(
    name: str, function: Callable[[str], object], text: str
) -> None:
    try:
        function(text)
    except ConventionsError as error:
        message = str(error)
    else:
        return
    assert message  # names the value and the rule
