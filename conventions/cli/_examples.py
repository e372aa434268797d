"""One or two examples per command, shown under "Examples" at the end of its help.

Kept apart from the commands so that each is checked to parse (tests/test_cli_details.py).
"""

from __future__ import annotations

__all__ = ["EXAMPLES"]

#: Command name -> example command lines (``# `` lines say what the next one does).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "prepare": ("batch-conventions prepare my-job",),
    "sas": (
        "# a URL for the job's tasks: they create, append and write outputs",
        "batch-conventions sas my-job --expiry 12h --permissions racw",
    ),
    "output-files": (
        'batch-conventions output-files --task task-1 --container-url "$URL" --std-logs '
        "--output 'TaskOutput:results/**/*.csv'",
    ),
    "plan": (
        'batch-conventions output-files --task task-1 --container-url "$URL" --std-logs '
        "> files.json",
        "batch-conventions plan files.json --working-dir ./wd --exit-code 0",
    ),
    "save": (
        "# inside a task: AZ_BATCH_JOB_ID, AZ_BATCH_TASK_ID and a container URL are set",
        "batch-conventions save --kind TaskOutput 'results/**/*.csv' summary.txt",
    ),
    "list": (
        "batch-conventions list my-job",
        "batch-conventions list my-job --kind TaskLog --task task-1 --json",
    ),
    "download": (
        "batch-conventions download my-job --kind TaskOutput out/",
        "# every kind: out/<kind>/<task>/<path> and out/<job kind>/<path>",
        "batch-conventions download my-job out/",
    ),
    "logs": (
        "batch-conventions logs my-job task-1 --follow",
        "batch-conventions logs my-job task-1 --stderr",
    ),
    "delete": (
        "batch-conventions delete my-job --kind TaskIntermediate --dry-run",
        "batch-conventions delete my-job --container --yes",
    ),
    "container-name": ("batch-conventions container-name my-job other-job",),
    "blob-name": ("batch-conventions blob-name --task task-1 --kind TaskLog stdout.txt",),
    "parse": ("batch-conventions parse 'task-1/$TaskOutput/results/a.csv'",),
}
