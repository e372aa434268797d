"""Peak-RSS measurements, one per child process (a peak covers a process's whole life).

``python -m bench.child`` reads ``{"op": ..., "variant": "ours"|"pool", ...}`` as JSON on
standard input, does the operation once, and prints ``{"before_kib": ..., "peak_kib": ...}``:
the resident set just before the operation (interpreter, imports and arguments loaded) and the
peak during it (Linux: /proc/self). The parent reports ``peak - before`` in MiB.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import ours, plain  # noqa: E402  (both imported by every child: same baseline)

__all__ = ["OPERATIONS", "main", "run"]

#: The operations a child can measure.
OPERATIONS = ("download_job", "save_many", "download_large")


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])  # "VmHWM:   123456 kB"
    raise RuntimeError(f"no {field} in /proc/self/status (Linux only)")


def run(config: dict[str, Any]) -> None:
    """Do the operation described by *config* once."""
    op, variant, conn = config["op"], config["variant"], config["connection_string"]
    concurrency = int(config["concurrency"])
    if op == "download_job":
        dest = Path(config["dest"])
        if variant == "ours":
            ours.download_job(conn, config["job_id"], dest, concurrency)
        else:
            with plain.container_client(conn, config["container"], concurrency) as container:
                plain.download_pool(container, dest, concurrency)
    elif op == "save_many":
        base = Path(config["base_dir"])
        if variant == "ours":
            ours.save_many(
                conn, config["job_id"], config["task_id"], config["paths"], base, concurrency
            )
        else:
            files = [(name, base / path) for name, path in config["files"]]
            with plain.container_client(conn, config["container"], concurrency) as container:
                plain.upload_pool(container, files, concurrency)
    elif op == "download_large":
        target = Path(config["target"])
        if variant == "ours":
            ours.download_large(
                conn, config["job_id"], config["task_id"], config["path"], target, concurrency
            )
        else:
            with plain.container_client(conn, config["container"], concurrency) as container:
                plain.download_large(container, config["blob"], target, concurrency)
    else:
        raise ValueError(f"unknown operation {op!r}; one of {', '.join(OPERATIONS)}")


def main() -> int:
    config = json.loads(sys.stdin.read())
    # Not ru_maxrss: Linux carries it over from the parent across fork + exec. VmHWM is this
    # process's own peak; writing 5 to clear_refs resets it to the current RSS.
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
    before = _status_kib("VmRSS")
    run(config)
    peak = _status_kib("VmHWM")
    print(json.dumps({"before_kib": before, "peak_kib": peak}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
