"""``python -m conventions``: the ``batch-conventions`` command line."""

from __future__ import annotations

from conventions.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    main(prog_name="batch-conventions")
