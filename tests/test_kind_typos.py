"""Issue 21 item 1: every writer applies KD-1 and D-40, whatever built the kind, and
refuses a kind one typo away from a standard kind unless it was asked for (D-90)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from hypothesis import given
from hypothesis import strategies as st

from conventions import (
    InvalidKindError,
    JobOutputKind,
    TaskOutputKind,
    job_blob_name,
    job_output_file,
    parse_blob_name,
    task_blob_name,
    task_output_file,
)
from conventions.sas import prepare_output_storage

from .face_fixtures import Face
from .strategies import ID_CHARS

URL = "https://acct.blob.core.windows.net/job-abc?sp=acw&sig=x"

TASK_WRITERS: dict[str, Callable[[TaskOutputKind], object]] = {
    "task_blob_name": lambda kind: task_blob_name("task-1", kind, "a.txt"),
    "task_output_file": lambda kind: task_output_file(URL, "task-1", kind, "*.txt"),
}
JOB_WRITERS: dict[str, Callable[[JobOutputKind], object]] = {
    "job_blob_name": lambda kind: job_blob_name(kind, "a.txt"),
    "job_output_file": lambda kind: job_output_file(URL, kind, "*.txt"),
}


def _distance(a: str, b: str) -> int:
    """Reference: optimal string alignment distance (edits and neighbour swaps), by table."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def _nearest(text: str, standard: tuple[TaskOutputKind, ...] | tuple[JobOutputKind, ...]) -> int:
    return min(_distance(text.lower(), kind.text.lower()) for kind in standard)


@pytest.mark.parametrize("writer", TASK_WRITERS.values(), ids=list(TASK_WRITERS))
@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("taskoutput", "'TaskOutput' only in case"),  # D-40, the first example
        ("TaskOuput", "did you mean TaskOutputKind.TASK_OUTPUT"),  # the second
        ("TaskOuptut", "did you mean TaskOutputKind.TASK_OUTPUT"),  # a swap
        ("tasklogs", "did you mean TaskOutputKind.TASK_LOG"),  # a letter added, any case
        ("TaskPreveiw", "did you mean TaskOutputKind.TASK_PREVIEW"),
        ("Task.Logs", "rule KD-1"),  # KD-3 only: read, never written (D-41)
    ],
)
def test_task_writers_refuse_kinds_from_the_constructor(
    writer: Callable[[TaskOutputKind], object], text: str, match: str
) -> None:
    with pytest.raises(InvalidKindError, match=match):
        writer(TaskOutputKind(text))


@pytest.mark.parametrize("writer", JOB_WRITERS.values(), ids=list(JOB_WRITERS))
@pytest.mark.parametrize("text", ["joboutput", "JobOutpt", "JobPreviews", "JboOutput"])
def test_job_writers_refuse_kinds_from_the_constructor(
    writer: Callable[[JobOutputKind], object], text: str
) -> None:
    with pytest.raises(InvalidKindError, match="rule KD-1"):
        writer(JobOutputKind(text))


def test_the_message_says_how_to_ask_for_the_kind() -> None:
    with pytest.raises(InvalidKindError) as info:
        task_blob_name("task-1", TaskOutputKind("TaskLogs"), "a.txt")
    message = str(info.value)
    assert "TaskOutputKind.custom('TaskLogs', allow_near_standard=True)" in message
    assert "'custom:TaskLogs'" in message
    assert "decision D-90" in message


@pytest.mark.parametrize(
    "make",
    [
        lambda: TaskOutputKind.custom("TaskLogs", allow_near_standard=True),
        lambda: TaskOutputKind("TaskLogs", allow_near_standard=True),
        lambda: TaskOutputKind.parse("custom:TaskLogs"),
    ],
)
def test_a_near_kind_asked_for_explicitly_is_written(make: Callable[[], TaskOutputKind]) -> None:
    kind = make()
    assert kind == TaskOutputKind("TaskLogs")  # the flag is not part of the value
    name = task_blob_name("task-1", kind, "a.txt")
    assert name == "task-1/$TaskLogs/a.txt"
    assert parse_blob_name(name).kind == kind  # the strict inverse reads it back
    assert task_output_file(URL, "task-1", kind, "*.txt").path == "task-1/$TaskLogs"


def test_a_case_variant_is_refused_even_when_asked_for() -> None:
    with pytest.raises(InvalidKindError, match="only in case"):
        TaskOutputKind.custom("TASKLOG", allow_near_standard=True)
    with pytest.raises(InvalidKindError, match="only in case"):
        task_blob_name("task-1", TaskOutputKind("TASKLOG", allow_near_standard=True), "a")


def test_a_job_kind_is_compared_with_job_kinds_only() -> None:
    # A job kind may share a task kind's text (KD-2): not a typo of a job kind.
    assert job_blob_name(JobOutputKind("TaskOutput"), "a") == "$TaskOutput/a"
    assert task_blob_name("t", TaskOutputKind("JobOutputs"), "a") == "t/$JobOutputs/a"


_edits = st.sampled_from(["insert", "delete", "replace", "swap"])


@given(
    kind=st.sampled_from(TaskOutputKind.standard()),
    edit=_edits,
    position=st.integers(min_value=0, max_value=20),
    char=st.sampled_from(ID_CHARS),
    swapcase=st.booleans(),
)
def test_every_single_typo_of_a_standard_kind_is_refused_unless_asked_for(
    kind: TaskOutputKind, edit: str, position: int, char: str, swapcase: bool
) -> None:
    text = kind.text
    i = position % len(text)
    typo = {
        "insert": text[:i] + char + text[i:],
        "delete": text[:i] + text[i + 1 :],
        "replace": text[:i] + char + text[i + 1 :],
        "swap": text[:i] + text[i + 1 : i + 2] + text[i : i + 1] + text[i + 2 :],
    }[edit]
    if swapcase:
        typo = typo.swapcase()
    if typo.lower() in {k.text.lower() for k in TaskOutputKind.standard()}:
        return  # no typo at all (a letter replaced by itself), or a case variant (D-40)
    for write in TASK_WRITERS.values():
        with pytest.raises(InvalidKindError, match="did you mean"):
            write(TaskOutputKind(typo))
        write(TaskOutputKind(typo, allow_near_standard=True))
    with pytest.raises(InvalidKindError, match="did you mean"):
        TaskOutputKind.custom(typo)


def _write(kind: TaskOutputKind | JobOutputKind) -> str:
    if isinstance(kind, TaskOutputKind):
        return task_blob_name("t", kind, "a")
    return job_blob_name(kind, "a")


@given(
    text=st.text(alphabet=ID_CHARS, min_size=1, max_size=20)
    | st.sampled_from(["TaskLogs", "TaskOutputs", "JobOutputs", "TaskLo", "Joboutput"]),
    kind_type=st.sampled_from([TaskOutputKind, JobOutputKind]),
)
def test_writers_refuse_exactly_the_texts_within_one_typo(
    text: str, kind_type: type[TaskOutputKind] | type[JobOutputKind]
) -> None:
    standard = kind_type.standard()
    if text in {kind.text for kind in standard} or _nearest(text, standard) >= 2:
        assert _write(kind_type(text)).endswith(f"${text}/a")
    else:
        with pytest.raises(InvalidKindError, match="rule KD-1"):
            _write(kind_type(text))
        if _nearest(text, standard) == 1:
            assert _write(kind_type(text, allow_near_standard=True)).endswith(f"${text}/a")


@pytest.fixture
def task(
    face: Face, face_service: Any, blob_service_client: BlobServiceClient, job_id: str
) -> Iterator[Any]:
    """The face's ``TaskOutputStorage`` (every test that takes it runs on both faces)."""
    prepare_output_storage(blob_service_client, job_id)
    with face.TaskOutputStorage.from_service_client(face_service, job_id, "task-1") as storage:
        yield storage


@pytest.mark.parametrize("text", ["taskoutput", "TaskOuput"])
def test_save_text_under_a_mistyped_kind_writes_nothing(task: Any, text: str) -> None:
    with pytest.raises(InvalidKindError, match=r"TaskOutputKind\.TASK_OUTPUT"):
        task.save_text(TaskOutputKind(text), "hello", "a.txt")
    assert list(task.container_client.list_blobs(name_starts_with="task-1/")) == []


def test_save_text_under_a_near_kind_asked_for(task: Any) -> None:
    kind = TaskOutputKind.custom("TaskLogs", allow_near_standard=True)
    assert task.save_text(kind, "hello", "a.txt").blob_name == "task-1/$TaskLogs/a.txt"
