"""OutputFile commands: build the list for the Batch service, and plan what it uploads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from conventions.errors import NoMatchingFilesError
from conventions.kinds import TaskOutputKind
from conventions.output_files import OutputFile, UploadCondition, std_logs, task_output_file
from conventions.planner import plan_uploads

from ._app import counted, emit, json_option, main
from ._connect import parse_task_kind

# The commands register themselves on the `main` group; nothing here is imported by name.
__all__: list[str] = []


_CONDITIONS = ", ".join(condition.value for condition in UploadCondition)
# A last ":part" of letters only reads as a condition: a misspelt one is an error, not
# part of the file pattern (a pattern that really ends so is written ":...:tasksuccess").
_CONDITION_LIKE = re.compile(r"[A-Za-z]+", re.ASCII)


def _parse_output(spec: str) -> tuple[TaskOutputKind, str, UploadCondition | None]:
    """``KIND:PATTERN[:CONDITION]``; KIND as ``--kind`` takes it (``custom:<text>`` for a
    custom kind). Without CONDITION, the library's default (decision D-42)."""
    kind_text, separator, rest = spec.partition(":")
    if kind_text.lower() == "custom" and separator:
        custom_text, separator, rest = rest.partition(":")
        kind_text = f"{kind_text}:{custom_text}"
    if not separator or not rest or not kind_text:
        raise click.BadParameter(f"{spec!r} is not KIND:PATTERN[:CONDITION]", param_hint="--output")
    kind = parse_task_kind(kind_text, "--output")
    pattern, _, condition = rest.rpartition(":")
    if not pattern:
        return kind, rest, None
    try:
        return kind, pattern, UploadCondition(condition)
    except ValueError:
        if _CONDITION_LIKE.fullmatch(condition):
            raise click.BadParameter(
                f"{condition!r} in {spec!r} is not an upload condition; use one of "
                f"{_CONDITIONS}",
                param_hint="--output",
            ) from None
    return kind, rest, None


@main.command("output-files")
@click.option("--task", "task_id", required=True, help="The task's ID.")
@click.option(
    "--container-url",
    required=True,
    help="The job's container URL: with a SAS granting 'w', or plain with --identity.",
)
@click.option("--identity", help="ARM resource ID of the pool's user-assigned identity.")
@click.option(
    "--std-logs",
    "with_std_logs",
    is_flag=True,
    help="Add ../std*.txt as TaskLog on task completion.",
)
@click.option(
    "--output",
    "outputs",
    multiple=True,
    metavar="KIND:PATTERN[:CONDITION]",
    help="A pattern to upload as KIND (TaskOutput, TaskPreview, TaskLog, TaskIntermediate in "
    "any case, or custom:<text>). CONDITION: tasksuccess (the default; taskcompletion for "
    "TaskLog), taskfailure, taskcompletion. Repeatable.",
)
def output_files_command(
    task_id: str,
    container_url: str,
    identity: str | None,
    with_std_logs: bool,
    outputs: tuple[str, ...],
) -> None:
    """Print the OutputFile list (REST JSON) for a task, ready for the Batch API.

    Use it with `az batch task create --json-file` (as the task's "outputFiles"), or
    pass each item to azure-batch: `models.OutputFile(item)` on 15.x,
    `models.OutputFile.deserialize(item)` on 14.x.
    """
    files: list[OutputFile] = []
    if with_std_logs:
        files.extend(std_logs(container_url, task_id, identity=identity))
    for spec in outputs:
        kind, pattern, condition = _parse_output(spec)
        files.append(
            task_output_file(
                container_url,
                task_id,
                kind,
                pattern,
                condition=condition,
                identity=identity,
            )
        )
    if not files:
        raise click.UsageError("give --std-logs and/or at least one --output")
    click.echo(json.dumps([file.to_dict() for file in files], indent=2, ensure_ascii=False))


def _load_output_files(path: Path) -> list[OutputFile]:
    data: Any = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):  # a task's JSON, as for `az batch task create`
        data = data.get("outputFiles", [data])
    if not isinstance(data, list):
        raise click.BadParameter(f"{path} holds no OutputFile list", param_hint="OUTPUT_FILES")
    return [OutputFile.from_dict(item) for item in data]


@main.command("plan")
@click.argument(
    "output_files_json", metavar="OUTPUT_FILES.json", type=click.Path(exists=True, path_type=Path)
)
@click.option(
    "--working-dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The task's working directory (patterns are relative to it).",
)
@click.option("--exit-code", required=True, type=int, help="The task's exit code.")
@click.option(
    "--allow-empty",
    is_flag=True,
    help="Succeed when no file matches (by default that fails, exit 1).",
)
@json_option
def plan_command(
    output_files_json: Path, working_dir: Path, exit_code: int, allow_empty: bool, as_json: bool
) -> None:
    """Show which files the Batch service would upload, and to which blobs.

    OUTPUT_FILES.json is a list of OutputFiles (as `output-files` prints), or a task's
    JSON with an "outputFiles" list. A plan in which nothing matches fails (exit 1)
    unless --allow-empty; one in which no upload condition holds for the exit code is
    empty, and succeeds.
    """
    try:
        plan = plan_uploads(
            _load_output_files(output_files_json),
            working_dir,
            exit_code=exit_code,
            allow_empty=allow_empty,
        )
    except NoMatchingFilesError as error:
        quoted = ", ".join(repr(pattern) for pattern in error.patterns)
        raise click.ClickException(
            f"nothing would be uploaded: no file in {working_dir} matches {quoted} (exit "
            f"code {exit_code}). Check the patterns and --working-dir, or pass --allow-empty "
            "if no file is fine"
        ) from None
    rows = [
        {
            "pattern": upload.output_file.file_pattern,
            "local_path": str(upload.local_path),
            "blob_name": upload.blob_name,
            "condition": str(upload.output_file.upload_condition),
        }
        for upload in plan
    ]
    emit(
        as_json,
        rows,
        columns=["pattern", "local_path", "blob_name", "condition"],
        title=f"{counted(len(rows), 'file')} would be uploaded (exit code {exit_code})",
    )
