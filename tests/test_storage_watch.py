"""``watch`` on Azurite across rounds: local targets decided against what earlier rounds
wrote (rule LP-3, decision D-70)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from azure.storage.blob import BlobServiceClient

from conventions import LocalPathError, TaskOutputKind, container_name
from conventions.sas import prepare_output_storage

from .face_fixtures import Face
from .storage_support import tree

KIND = TaskOutputKind.TASK_OUTPUT


def _job(face: Face, service: Any, client: BlobServiceClient, job_id: str) -> Any:
    prepare_output_storage(client, job_id)
    return face.JobOutputStorage.from_service_client(service, job_id)


def test_two_blobs_for_one_local_path_never_both_land_whatever_the_round(
    face: Face,
    face_service: Any,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
) -> None:
    job = _job(face, face_service, blob_service_client, job_id)
    container = job.container_client
    # "a//b.txt" is read as "a/b.txt" (rule RP-1): both map to t1/a/b.txt.
    container.upload_blob("t1/$TaskOutput/a//b.txt", b"double slash")
    container.upload_blob("t1/$TaskOutput/a/b.txt", b"single slash")
    results = list(job.watch(KIND, tmp_path, interval=0.05, idle_exit=0.6))
    downloaded = [r.output.blob_name for r in results if isinstance(r, face.DownloadedOutput)]
    refused = [r for r in results if isinstance(r, face.DownloadFailure)]
    # The first in listing order wins in round 1; every later round keeps it that way.
    assert downloaded == ["t1/$TaskOutput/a//b.txt"]
    assert [r.output.blob_name for r in refused] == ["t1/$TaskOutput/a/b.txt"]  # once
    assert isinstance(refused[0].error, LocalPathError)
    assert "rule LP-3" in str(refused[0].error)
    assert tree(tmp_path) == {"t1/a/b.txt": b"double slash"}


def test_a_blob_that_appears_later_does_not_overwrite_an_earlier_rounds_file(
    face: Face,
    face_service: Any,
    blob_service_client: BlobServiceClient,
    job_id: str,
    tmp_path: Path,
) -> None:
    job = _job(face, face_service, blob_service_client, job_id)
    # The writer is another party (a task saving while the client watches): sync.
    container = blob_service_client.get_container_client(container_name(job_id))
    container.upload_blob("t1/$TaskOutput/x/y.txt", b"first")

    def later() -> None:
        time.sleep(0.4)
        # Sorts before "x/y.txt" and maps to the same path; "x" is the folder of x/y.txt.
        container.upload_blob("t1/$TaskOutput/x//y.txt", b"second")
        container.upload_blob("t1/$TaskOutput/x", b"a file where the folder is")

    saver = threading.Thread(target=later)
    saver.start()
    try:
        results = list(job.watch(KIND, tmp_path, interval=0.1, idle_exit=1.0))
    finally:
        saver.join()
    downloaded = [r.output.blob_name for r in results if isinstance(r, face.DownloadedOutput)]
    refused = sorted(
        (r.output.blob_name, getattr(r.error, "errno", None))
        for r in results
        if isinstance(r, face.DownloadFailure)
    )
    assert downloaded == ["t1/$TaskOutput/x/y.txt"]
    assert [name for name, _ in refused] == ["t1/$TaskOutput/x", "t1/$TaskOutput/x//y.txt"]
    assert tree(tmp_path) == {"t1/x/y.txt": b"first"}
