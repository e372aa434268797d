"""Interop with both azure-batch lines (decision D-91), the REST JSON as common ground.

The main test environment has azure-batch 15.x (the ``batch`` extra); ``scripts/test``
runs this file again in ``.venv-batch14`` with azure-batch 14.2.0, since the two lines
cannot share an environment. Each test runs against whichever line is installed.
"""

from __future__ import annotations

import json
import sys
import types
from importlib.metadata import version
from typing import Any

import pytest
from azure.batch import models
from click.testing import CliRunner

from conventions import MissingDependencyError, OutputFile, UploadCondition, std_logs
from conventions.cli import main

from .builders import build
from .vectors import cases, load

CONTAINER_URL = load("output_files.json")["container_url"]
INSTALLED = version("azure-batch")
LINE_15 = INSTALLED.startswith("15.")
IDENTITY = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/" + (
    "userAssignedIdentities/id"
)
#: The installed models, untyped: mypy sees the 15.x stubs, this file also runs on 14.x.
sdk: Any = models


def _sdk_reading(data: dict[str, Any]) -> Any:
    """The installed SDK's own reading of the REST JSON."""
    return sdk.OutputFile(data) if LINE_15 else sdk.OutputFile.deserialize(data)


def _rest(model: Any) -> Any:
    return model.as_dict() if LINE_15 else model.serialize()


def test_the_installed_line_is_one_we_test() -> None:
    assert INSTALLED.split(".")[0] in {"14", "15"}, INSTALLED


@pytest.mark.parametrize(
    "case", [c for c in cases("output_files.json") if "raises" not in c.values[0]]
)
def test_batch_model_equals_the_sdks_reading_of_to_dict(case: dict[str, Any]) -> None:
    for output_file in build(case, CONTAINER_URL):
        model = output_file.to_batch_model()
        assert isinstance(model, models.OutputFile)
        assert model == _sdk_reading(output_file.to_dict())
        assert _rest(model) == output_file.to_dict()
        assert OutputFile.from_dict(_rest(model)) == output_file


def _expected_model() -> Any:
    """``std_logs``' output entry (with an identity and a header), built from SDK types."""
    if LINE_15:
        return models.OutputFile(
            file_pattern="results/*.csv",
            destination=models.OutputFileDestination(
                container=models.OutputFileBlobContainerDestination(
                    container_url=CONTAINER_URL,
                    path="task-1/$TaskOutput",
                    identity_reference=models.BatchNodeIdentityReference(resource_id=IDENTITY),
                    upload_headers=[models.OutputFileUploadHeader(name="x-ms-meta-a", value="b")],
                )
            ),
            upload_options=models.OutputFileUploadConfiguration(
                upload_condition=models.OutputFileUploadCondition.TASK_SUCCESS
            ),
        )
    return models.OutputFile(
        file_pattern="results/*.csv",
        destination=models.OutputFileDestination(
            container=models.OutputFileBlobContainerDestination(
                container_url=CONTAINER_URL,
                path="task-1/$TaskOutput",
                identity_reference=sdk.ComputeNodeIdentityReference(resource_id=IDENTITY),
                upload_headers=[sdk.HttpHeader(name="x-ms-meta-a", value="b")],
            )
        ),
        upload_options=sdk.OutputFileUploadOptions(
            upload_condition=models.OutputFileUploadCondition.task_success
        ),
    )


def test_batch_model_equals_one_built_with_the_sdks_types() -> None:
    logs, outputs = std_logs(
        CONTAINER_URL, "task-1", "results/*.csv", identity=IDENTITY, headers=[("x-ms-meta-a", "b")]
    )
    assert outputs.to_batch_model() == _expected_model()
    assert outputs.to_batch_model().upload_options.upload_condition == UploadCondition.TASK_SUCCESS
    command = "/bin/sh -c 'echo hi'"
    files = [f.to_batch_model() for f in (logs, outputs)]
    if LINE_15:
        rest = models.BatchTaskCreateOptions(
            id="task-1", command_line=command, output_files=files
        ).as_dict()
    else:
        rest = sdk.TaskAddParameter(
            id="task-1", command_line=command, output_files=files
        ).serialize()
    assert rest["outputFiles"] == [logs.to_dict(), outputs.to_dict()]


def test_output_files_help_names_what_works_on_the_installed_line() -> None:
    result = CliRunner().invoke(main, ["output-files", "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    advice = "models.OutputFile(item)" if LINE_15 else "models.OutputFile.deserialize(item)"
    assert advice in result.output
    printed = CliRunner().invoke(
        main, ["output-files", "--task", "t1", "--container-url", CONTAINER_URL, "--std-logs"]
    )
    for item in json.loads(printed.stdout):
        assert _sdk_reading(item) == OutputFile.from_dict(item).to_batch_model()


def _message(monkeypatch: pytest.MonkeyPatch, azure_batch: object) -> str:
    (output_file,) = std_logs(CONTAINER_URL, "task-1")
    monkeypatch.setitem(sys.modules, "azure.batch", azure_batch)
    with pytest.raises(MissingDependencyError) as info:
        output_file.to_batch_model()
    return str(info.value)


def _names_both_lines_without_an_upgrade(message: str) -> None:
    assert "pip install 'azure-batch>=14.2,<15'" in message
    assert "pip install 'azure-batch>=15.1,<16'" in message
    # The extra alone would move a user pinned to azure-batch<15 onto 15.x (issue 21).
    assert "batch-file-conventions[batch]" not in message


def test_missing_azure_batch_names_both_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import azure.batch` raise ImportError, as when not installed.
    message = _message(monkeypatch, None)
    assert "needs azure-batch, found " in message
    _names_both_lines_without_an_upgrade(message)


def test_an_older_line_is_named_with_its_version(monkeypatch: pytest.MonkeyPatch) -> None:
    old = types.ModuleType("azure.batch")
    old.models = types.SimpleNamespace(OutputFile=object)  # type: ignore[attr-defined]
    message = _message(monkeypatch, old)
    assert f"needs azure-batch 14.x or 15.x, found azure-batch {INSTALLED}" in message
    _names_both_lines_without_an_upgrade(message)


class _LossyOutputFile:
    """An SDK model that forgets the identity, as an older msrest model would."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = json.loads(json.dumps(data))
        del self.data["destination"]["container"]["identityReference"]

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> _LossyOutputFile:
        return cls(data)

    def serialize(self) -> Any:
        return self.data


def test_a_model_that_drops_a_field_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    lossy = types.ModuleType("azure.batch")
    lossy.models = types.SimpleNamespace(  # type: ignore[attr-defined]
        OutputFile=_LossyOutputFile, OutputFileUploadOptions=object
    )
    (output_file,) = std_logs(CONTAINER_URL, "task-1", identity=IDENTITY)
    monkeypatch.setitem(sys.modules, "azure.batch", lossy)
    with pytest.raises(MissingDependencyError, match=r"destination\.container\.identityReference"):
        output_file.to_batch_model()
