"""The ``batch-conventions`` command line (also ``python -m conventions``).

Built on click, with rich tables and progress bars; every command that prints data
takes ``--json`` for scripts. Errors print one line (no traceback, no SAS signature)
and exit 1; ``--verbose`` shows the traceback and debug logging.
"""

from __future__ import annotations

from ._app import main

__all__ = ["main"]
