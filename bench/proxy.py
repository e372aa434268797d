"""A 20 ms latency proxy (tests/faultproxy.py's ``FaultProxy``) in its own process.

In a child process, so that the proxy's Python work does not share the measured process's
GIL. ``python -m bench.proxy UPSTREAM_PORT LATENCY`` prints its port, then runs until its
standard input closes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import TracebackType

REPO_ROOT = Path(__file__).resolve().parent.parent

__all__ = ["LatencyProxy"]


class LatencyProxy:
    """``with LatencyProxy(azurite_port, 0.02) as proxy:`` then use ``proxy.rewrite(conn)``."""

    def __init__(self, upstream_port: int, latency: float) -> None:
        self.upstream_port = upstream_port
        self.latency = latency
        self.port = 0
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> LatencyProxy:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.proxy", str(self.upstream_port), str(self.latency)],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.strip().isdigit():
            self.__exit__(None, None, None)
            raise RuntimeError(f"the latency proxy did not start (said {line!r})")
        self.port = int(line)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def rewrite(self, connection_string: str) -> str:
        """*connection_string* with Azurite's port replaced by the proxy's."""
        return connection_string.replace(
            f"127.0.0.1:{self.upstream_port}", f"127.0.0.1:{self.port}"
        )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    upstream, latency = int(args[0]), float(args[1])
    sys.path.insert(0, str(REPO_ROOT))
    from tests.faultproxy import FaultProxy

    with FaultProxy("127.0.0.1", upstream, latency=latency) as proxy:
        print(proxy.port, flush=True)
        sys.stdin.read()  # until the parent closes our stdin (or dies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
