"""The ``batch-conventions`` command line (also ``python -m conventions``).

Built on click, with rich tables and progress bars; every command that prints data
takes ``--json`` for scripts. A failure prints one line, ``error: <what failed>: <why>.
<what to do>`` (no traceback, no SAS signature; ``--verbose`` shows the traceback and
debug logging). Exit codes: 0 success, 1 a failure while running, 2 a usage error,
3 `logs -f`: the log's writer is gone.
"""

from __future__ import annotations

from ._app import main

__all__ = ["main"]
