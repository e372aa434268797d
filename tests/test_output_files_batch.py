"""Interop with azure-batch 15.x (the ``batch`` extra, installed in the test environment)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from azure.batch import models

from conventions import MissingDependencyError, OutputFile, UploadCondition, std_logs

from .builders import build
from .vectors import cases, load

CONTAINER_URL = load("output_files.json")["container_url"]


@pytest.mark.parametrize(
    "case", [c for c in cases("output_files.json") if "raises" not in c.values[0]]
)
def test_batch_model_equals_the_sdks_reading_of_to_dict(case: dict[str, Any]) -> None:
    for output_file in build(case, CONTAINER_URL):
        model = output_file.to_batch_model()
        assert isinstance(model, models.OutputFile)
        assert model == models.OutputFile(output_file.to_dict())
        assert model.as_dict() == output_file.to_dict()
        assert OutputFile.from_dict(model.as_dict()) == output_file


def test_batch_model_equals_one_built_with_the_sdks_types() -> None:
    logs, outputs = std_logs(CONTAINER_URL, "task-1", "results/*.csv")
    expected = models.OutputFile(
        file_pattern="results/*.csv",
        destination=models.OutputFileDestination(
            container=models.OutputFileBlobContainerDestination(
                container_url=CONTAINER_URL, path="task-1/$TaskOutput"
            )
        ),
        upload_options=models.OutputFileUploadConfiguration(
            upload_condition=models.OutputFileUploadCondition.TASK_SUCCESS
        ),
    )
    assert outputs.to_batch_model() == expected
    assert outputs.to_batch_model().upload_options.upload_condition == UploadCondition.TASK_SUCCESS
    task = models.BatchTaskCreateOptions(
        id="task-1",
        command_line="/bin/sh -c 'echo hi'",
        output_files=[f.to_batch_model() for f in (logs, outputs)],
    )
    assert task.as_dict()["outputFiles"] == [logs.to_dict(), outputs.to_dict()]


def test_missing_batch_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    (output_file,) = std_logs(CONTAINER_URL, "task-1")
    # None in sys.modules makes `import azure.batch` raise ImportError, as when not installed.
    monkeypatch.setitem(sys.modules, "azure.batch", None)
    with pytest.raises(
        MissingDependencyError, match=r"pip install 'batch-file-conventions\[batch\]'"
    ):
        output_file.to_batch_model()
