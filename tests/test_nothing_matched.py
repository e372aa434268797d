"""Issue 21 item 3: an API call that matched nothing is an error, as in the CLI, unless
``allow_empty=True`` (``--allow-empty``) says no file is fine (decision D-92)."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from click.testing import CliRunner

from conventions import (
    LocalPathError,
    NoMatchingFilesError,
    TaskOutputKind,
    plan_uploads,
    std_logs,
)
from conventions.cli import main
from conventions.sas import prepare_output_storage

from .face_fixtures import Face

URL = "https://acct.blob.core.windows.net/job-abc?sp=cw&sig=x"
KIND = TaskOutputKind.TASK_OUTPUT


@pytest.fixture
def task(
    face: Face, face_service: Any, blob_service_client: BlobServiceClient, job_id: str
) -> Iterator[Any]:
    """The face's ``TaskOutputStorage`` (every test that takes it runs on both faces)."""
    prepare_output_storage(blob_service_client, job_id)
    with face.TaskOutputStorage.from_service_client(face_service, job_id, "t1") as storage:
        yield storage


def _blobs(task: Any) -> list[str]:
    return [blob.name for blob in task.container_client.list_blobs()]


def test_save_many_of_a_glob_that_matches_nothing_raises(task: Any, tmp_path: Path) -> None:
    (tmp_path / "nomatch").mkdir()
    (tmp_path / "nomatch" / "a.txt").write_text("not a csv")
    with pytest.raises(NoMatchingFilesError) as info:
        task.save_many(KIND, "nomatch/*.csv", base_dir=tmp_path)
    error = info.value
    assert "no file matches 'nomatch/*.csv'" in str(error)
    assert "allow_empty=True" in str(error)
    assert error.patterns == ("nomatch/*.csv",)
    assert error.path == str(tmp_path)
    assert isinstance(error, LocalPathError)
    assert _blobs(task) == []


def test_save_many_of_an_empty_list_raises(task: Any, tmp_path: Path) -> None:
    with pytest.raises(NoMatchingFilesError, match="the list of paths is empty"):
        task.save_many(KIND, [], base_dir=tmp_path)


def test_save_many_allow_empty_returns_nothing(task: Any, tmp_path: Path) -> None:
    assert task.save_many(KIND, "*.csv", base_dir=tmp_path, allow_empty=True) == []
    assert task.save_many(KIND, [], base_dir=tmp_path, allow_empty=True) == []
    assert _blobs(task) == []


def test_save_many_that_matches_saves_as_before(task: Any, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("1")
    refs = task.save_many(KIND, "*.csv", base_dir=tmp_path)
    assert [ref.blob_name for ref in refs] == ["t1/$TaskOutput/a.csv"]


def test_plan_uploads_of_a_missing_directory_raises(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    for allow_empty in (False, True):
        with pytest.raises(LocalPathError, match="does not exist") as info:
            plan_uploads(std_logs(URL, "t1"), missing, exit_code=0, allow_empty=allow_empty)
        assert not isinstance(info.value, NoMatchingFilesError)
    (tmp_path / "file").write_text("")
    with pytest.raises(LocalPathError, match="is not a directory"):
        plan_uploads(std_logs(URL, "t1"), tmp_path / "file", exit_code=0)


def test_plan_uploads_that_matches_nothing_raises(tmp_path: Path) -> None:
    (tmp_path / "wd").mkdir()
    files = std_logs(URL, "t1", "results/*.csv")
    with pytest.raises(NoMatchingFilesError) as info:
        plan_uploads(files, tmp_path / "wd", exit_code=0)
    assert info.value.patterns == ("../std*.txt", "results/*.csv")
    assert plan_uploads(files, tmp_path / "wd", exit_code=0, allow_empty=True) == []


def test_the_error_pickles() -> None:
    error = NoMatchingFilesError("nothing saved", path="/x", patterns=["*.csv"])
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.path, copy.patterns) == ("nothing saved", "/x", ("*.csv",))


def test_cli_plan_that_matches_nothing_fails_unless_allowed(tmp_path: Path) -> None:
    (tmp_path / "wd").mkdir()
    spec = tmp_path / "files.json"
    spec.write_text(json.dumps([f.to_dict() for f in std_logs(URL, "t1", "res/*.csv")]))
    args = ["plan", str(spec), "--working-dir", str(tmp_path / "wd"), "--exit-code", "0"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1, refused.output
    assert refused.stderr.startswith("error: nothing would be uploaded: no file in ")
    assert "pass --allow-empty" in refused.stderr
    assert "allow_empty=True" not in refused.stderr
    allowed = CliRunner().invoke(main, [*args, "--allow-empty", "--json"])
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.stdout) == []
