"""The end-to-end demo: one small Azure Batch job, played against a local Azurite.

What the Batch service and a client would do, step by step:

1. the client prepares the job's output container and issues a SAS for its tasks;
2. three tasks run as subprocesses with the ``AZ_BATCH_*`` variables and
   ``CONVENTIONS_CONTAINER_URL`` set, each persisting output another way:
   ``analyse`` saves with the library, ``simulate`` runs unchanged under
   ``batch-conventions run`` (live logs), and ``render`` runs unchanged while the demo
   executes its OutputFile list as the service would when the task ends;
3. the client lists the outputs by kind and downloads every TaskOutput.

Exit status 0 only if every expected blob arrived. ``scripts/demo`` sets up the
environment and runs this; the test suite runs it too (tests/test_demo.py).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from azure.storage.blob import BlobServiceClient, ContainerClient  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from conventions import TaskOutputKind, container_name, task_blob_name  # noqa: E402
from conventions.output_files import std_logs, task_output_file  # noqa: E402
from conventions.planner import plan_uploads, upload_planned  # noqa: E402
from conventions.sas import output_container_url, prepare_output_storage  # noqa: E402
from conventions.storage import JobOutputStorage  # noqa: E402
from scripts.azurite import Azurite  # noqa: E402

JOB_ID = "render-farm:job-7"  # made by a job schedule: ':' gives a hashed container name
TASKS = REPO / "scripts" / "demo_tasks.py"
BIN = Path(sys.executable).parent

# Tables stay readable when the output is piped (rich's default there is 80 columns).
console = Console(highlight=False, width=None if sys.stdout.isatty() else 110)

EXPECTED = {
    task_blob_name("analyse", TaskOutputKind.TASK_OUTPUT, "results/histogram.csv"),
    task_blob_name("analyse", TaskOutputKind.TASK_PREVIEW, "summary.txt"),
    task_blob_name("analyse", TaskOutputKind.custom("Diagnostics"), "timings.json"),
    task_blob_name("simulate", TaskOutputKind.TASK_LOG, "stdout.txt"),
    task_blob_name("simulate", TaskOutputKind.TASK_LOG, "stderr.txt"),
    task_blob_name("simulate", TaskOutputKind.TASK_OUTPUT, "result.txt"),
    task_blob_name("render", TaskOutputKind.TASK_LOG, "stdout.txt"),
    task_blob_name("render", TaskOutputKind.TASK_LOG, "stderr.txt"),
    *(
        task_blob_name("render", TaskOutputKind.TASK_OUTPUT, f"frames/f00{n}.png")
        for n in (1, 2, 3)
    ),
}


def task_environment(root: Path, task_id: str, container_url: str) -> tuple[Path, dict[str, str]]:
    """Make a task's directories the way a Batch node lays them out; return wd and env."""
    task_dir = root / "workitems" / "job-7" / "job-1" / task_id
    working_dir = task_dir / "wd"
    working_dir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "AZURE_STORAGE_CONNECTION_STRING"}
    env.update(
        AZ_BATCH_JOB_ID=JOB_ID,
        AZ_BATCH_TASK_ID=task_id,
        AZ_BATCH_TASK_DIR=str(task_dir),
        AZ_BATCH_TASK_WORKING_DIR=str(working_dir),
        CONVENTIONS_CONTAINER_URL=container_url,
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    return working_dir, env


def start_task(
    working_dir: Path, env: dict[str, str], command: list[str]
) -> subprocess.Popen[bytes]:
    """Start a task's command; like the Batch agent, send its output to ../stdout.txt."""
    task_dir = working_dir.parent
    with (task_dir / "stdout.txt").open("wb") as out, (task_dir / "stderr.txt").open("wb") as err:
        return subprocess.Popen(command, cwd=working_dir, env=env, stdout=out, stderr=err)


def run_analyse(root: Path, container_url: str) -> None:
    working_dir, env = task_environment(root, "analyse", container_url)
    code = start_task(working_dir, env, [sys.executable, str(TASKS), "analyse"]).wait()
    console.print(f"[bold]analyse[/]: task code saved its outputs with the library (exit {code})")
    if code:
        raise SystemExit(f"task analyse failed with exit code {code}")


def run_simulate(root: Path, container_url: str, reader: ContainerClient) -> None:
    working_dir, env = task_environment(root, "simulate", container_url)
    command = [
        str(BIN / "batch-conventions"),
        "run",
        "--flush-interval",
        "0.2",
        "--",
        "sh",
        "-c",
        f"'{sys.executable}' '{TASKS}' simulate && "
        "batch-conventions save --kind TaskOutput result.txt",
    ]
    task = start_task(working_dir, env, command)
    log_blob = reader.get_blob_client(
        task_blob_name("simulate", TaskOutputKind.TASK_LOG, "stdout.txt")
    )
    started = time.monotonic()
    sizes_while_running: dict[int, float] = {}  # size seen in storage -> seconds since start
    while task.poll() is None:
        if log_blob.exists():
            size = log_blob.get_blob_properties().size
            sizes_while_running.setdefault(size, time.monotonic() - started)
        time.sleep(0.05)
    growing = sorted(size for size in sizes_while_running if size > 0)
    console.print(
        f"[bold]simulate[/]: ran unchanged under [cyan]batch-conventions run[/] "
        f"(exit {task.returncode}); while it ran, its stdout.txt in storage was seen at "
        f"{len(growing)} sizes: {growing}"
    )
    if task.returncode or len(growing) < 2:
        raise SystemExit("task simulate failed, or its log was not streamed while it ran")


def run_render(root: Path, container_url: str) -> None:
    working_dir, env = task_environment(root, "render", container_url)
    code = start_task(working_dir, env, [sys.executable, str(TASKS), "render"]).wait()
    output_files = [
        *std_logs(container_url, "render"),
        task_output_file(container_url, "render", TaskOutputKind.TASK_OUTPUT, "out/**/*.png"),
    ]
    plan = plan_uploads(output_files, working_dir, exit_code=code)
    table = Table(title="render: the OutputFile plan the Batch service would carry out")
    for column in ("pattern", "local file", "blob"):
        table.add_column(column)
    for upload in plan:
        table.add_row(
            upload.output_file.file_pattern,
            str(Path(upload.local_path).relative_to(working_dir.parent)),
            upload.blob_name,
        )
    console.print(table)
    with ContainerClient.from_container_url(container_url) as container:
        upload_planned(plan, container)


def read_back(service: BlobServiceClient, download_dir: Path) -> set[str]:
    """As the client: list every kind's outputs, download all TaskOutput."""
    job = JobOutputStorage.from_service_client(service, JOB_ID)
    table = Table(title=f"outputs of job {JOB_ID}")
    for column in ("task", "kind", "path", "size"):
        table.add_column(column)
    found: set[str] = set()
    kinds = [
        TaskOutputKind.TASK_OUTPUT,
        TaskOutputKind.TASK_PREVIEW,
        TaskOutputKind.TASK_LOG,
        TaskOutputKind.custom("Diagnostics"),
    ]
    for kind in kinds:
        for output in job.list_task_outputs(kind):
            found.add(output.blob_name)
            table.add_row(output.task_id, kind.text, output.path, str(output.size))
    console.print(table)
    summary = job.download(TaskOutputKind.TASK_OUTPUT, download_dir)
    console.print(
        f"downloaded every TaskOutput: {summary.files} files, {summary.bytes} bytes "
        f"in {summary.seconds:.2f} s"
    )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep the task and download folders here")
    parser.add_argument(
        "--skip",
        choices=["analyse", "simulate", "render"],
        action="append",
        default=[],
        help="do not run this task (its blobs are then missing, and the demo fails)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="conventions-demo-") as scratch:
        root = args.keep or Path(scratch)
        with Azurite() as azurite:
            console.print(f"Azurite listening on {azurite.blob_endpoint}")
            with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
                prepare_output_storage(service, JOB_ID)
                task_sas_url = output_container_url(service, JOB_ID, permissions="racw")
                console.print(f"prepared container {container_name(JOB_ID)} and a task SAS")
                with ContainerClient.from_container_url(task_sas_url) as reader:
                    if "analyse" not in args.skip:
                        run_analyse(root, task_sas_url)
                    if "simulate" not in args.skip:
                        run_simulate(root, task_sas_url, reader)
                    if "render" not in args.skip:
                        run_render(root, task_sas_url)
                found = read_back(service, root / "downloads")
        missing = sorted(EXPECTED - found)
        downloaded = sorted(
            p.relative_to(root / "downloads").as_posix()
            for p in (root / "downloads").rglob("*")
            if p.is_file()
        )
        console.print(f"downloaded files: {downloaded}")
    if missing:
        console.print(f"[red]missing blobs: {missing}[/]")
        return 1
    console.print(f"[green]all {len(EXPECTED)} expected blobs arrived[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
