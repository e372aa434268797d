"""Throughput of the pure naming rules (no I/O): calls per second."""

from __future__ import annotations

import time
from collections.abc import Callable

from conventions import TaskOutputKind, container_name, parse_blob_name, task_blob_name

__all__ = ["RULES", "calls_per_second"]

_INPUTS = 64
_TASK_IDS = [f"task-{i:05d}" for i in range(_INPUTS)]
_PATHS = [f"results/run-{i % 7}/frame-{i:06d}.png" for i in range(_INPUTS)]
_JOB_IDS = [f"Render-Job_{i}-of-The-Week" for i in range(_INPUTS)]
_BLOB_NAMES = [
    task_blob_name(task, TaskOutputKind.TASK_OUTPUT, path)
    for task, path in zip(_TASK_IDS, _PATHS, strict=True)
]


def _task_blob_name(i: int) -> object:
    return task_blob_name(_TASK_IDS[i], TaskOutputKind.TASK_OUTPUT, _PATHS[i])


def _container_name(i: int) -> object:
    return container_name(_JOB_IDS[i])


def _parse_blob_name(i: int) -> object:
    return parse_blob_name(_BLOB_NAMES[i])


#: The rules measured, by name.
RULES: dict[str, Callable[[int], object]] = {
    "task_blob_name": _task_blob_name,
    "container_name": _container_name,
    "parse_blob_name": _parse_blob_name,
}


def calls_per_second(rule: Callable[[int], object], calls: int) -> float:
    """Call *rule* *calls* times over varied inputs; return calls per second."""
    indices = [i % _INPUTS for i in range(calls)]
    started = time.perf_counter()
    for i in indices:
        rule(i)
    return calls / (time.perf_counter() - started)
