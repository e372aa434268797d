"""Dask reads a thousand task outputs through conventions.fs on Azurite: the README's three
lines on the threaded scheduler, and a distributed cluster of two worker processes (which
receive the filesystem pickled, with its credentials)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import pytest
from azure.storage.blob import BlobServiceClient
from distributed import Client, LocalCluster

from conventions.fs import ConventionsFileSystem
from scripts.azurite import StorageEndpoint
from tests.test_fs import seed

TASKS = 1000
README = Path(__file__).resolve().parents[1] / "README.md"


def _csv(task: int) -> bytes:
    return f"task,value\n{task},{task * 7}\n{task},-2\n".encode()


#: What was saved: the sum of every CSV's ``value`` column.
EXPECTED_SUM = sum(task * 7 - 2 for task in range(TASKS))


@pytest.fixture(scope="module")
def thousand_tasks(blob_service_client: BlobServiceClient) -> str:
    """A job of 1,000 tasks, each with one tiny CSV output and a log (not read)."""
    job_id = f"dask-{uuid.uuid4().hex[:8]}"
    blobs = {f"task-{i:04}/$TaskOutput/part.csv": _csv(i) for i in range(TASKS)}
    blobs.update({f"task-{i:04}/$TaskLog/stderr.txt": b"" for i in range(0, TASKS, 10)})
    seed(blob_service_client, job_id, blobs)
    return job_id


def _frame(azurite: StorageEndpoint, job_id: str) -> Any:
    return dd.read_csv(
        f"batchconv://{job_id}/*/$TaskOutput/*.csv",
        storage_options={
            "connection_string": azurite.connection_string,
            "client_kwargs": azurite.client_kwargs,
        },
        blocksize=None,
    )


def test_the_readme_lines_read_every_task_output_on_the_threaded_scheduler(
    azurite: StorageEndpoint, thousand_tasks: str
) -> None:
    section = README.read_text(encoding="utf-8").split("## Analyse the outputs", 1)[1]
    lines = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    assert len(lines.strip().splitlines()) == 3
    namespace: dict[str, Any] = {
        "job_id": thousand_tasks,
        "connection_string": azurite.connection_string,
    }
    exec(lines, namespace)
    frame = namespace["frame"]
    assert frame.npartitions == TASKS
    assert frame.value.sum().compute(scheduler="threads") == EXPECTED_SUM


def test_a_distributed_cluster_of_two_worker_processes_sums_what_was_saved(
    azurite: StorageEndpoint, thousand_tasks: str
) -> None:
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2, threads_per_worker=4, processes=True, dashboard_address=None, silence_logs=40
    )
    with cluster, Client(cluster, timeout=60) as client:  # type: ignore[no-untyped-call]
        frame = _frame(azurite, thousand_tasks)
        future = client.compute(frame.value.sum())
        assert future.result(timeout=120) == EXPECTED_SUM
        # Both worker processes made the filesystem from its pickled options and read.
        made = client.run(_filesystems_made)
        assert len(made) == 2
        assert all(count >= 1 for count in made.values()), made


def _filesystems_made() -> int:
    return len(ConventionsFileSystem._cache)
