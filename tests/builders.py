"""Call the OutputFile builders the way the vector files describe them."""

from __future__ import annotations

from typing import Any

from conventions import (
    JobOutputKind,
    OutputFile,
    TaskOutputKind,
    job_output_file,
    std_logs,
    task_output_file,
)


def build(case: dict[str, Any], container_url: str) -> list[OutputFile]:
    """Return the OutputFiles *case* names: ``function`` plus its arguments."""
    url = case.get("container_url", container_url)
    options: dict[str, Any] = {"identity": case.get("identity")}
    if case.get("headers") is not None:
        options["headers"] = [tuple(pair) for pair in case["headers"]]
    function = case["function"]
    if function == "std_logs":
        return std_logs(url, case["task_id"], *case["outputs"], **options)
    if "condition" in case:
        options["condition"] = case["condition"]
    if function == "task_output_file":
        kind = TaskOutputKind.custom(case["kind"])
        return [task_output_file(url, case["task_id"], kind, case["file_pattern"], **options)]
    if function == "job_output_file":
        job_kind = JobOutputKind.custom(case["kind"])
        return [job_output_file(url, job_kind, case["file_pattern"], **options)]
    if function == "from_dict":
        return [OutputFile.from_dict(case["input"])]
    raise AssertionError(f"unknown function {function!r}")
