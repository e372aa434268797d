"""The click group, shared options and the one place errors become exit codes."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from conventions.errors import ConventionsError
from conventions.urls import redact_sas

__all__ = ["emit", "json_option", "main"]

F = TypeVar("F", bound=Callable[..., Any])

_LOG = logging.getLogger("conventions")

# Output goes to stdout (data) and stderr (messages, progress), so that
# `--json` output can be piped while progress still shows.
stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False)


def json_option(function: F) -> F:
    """Add ``--json`` (print data as JSON instead of a table)."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print the data as JSON, for scripts."
    )(function)


def emit(
    as_json: bool,
    rows: Sequence[dict[str, Any]],
    *,
    columns: Iterable[str],
    title: str | None = None,
    data: Any = None,
) -> None:
    """Print *rows* as a rich table, or *data* (default: *rows*) as JSON."""
    if as_json:
        click.echo(json.dumps(rows if data is None else data, indent=2, ensure_ascii=False))
        return
    table = Table(title=title)
    names = list(columns)
    for name in names:
        table.add_column(name)
    for row in rows:
        table.add_row(*("" if row.get(name) is None else str(row[name]) for name in names))
    stdout.print(table)


class _Group(click.Group):
    """Turns library and Azure errors into one clear line, unless ``--verbose``."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            if ctx.meta.get("conventions.verbose"):
                stderr.print(redact_sas(traceback.format_exc()), markup=False)
            raise click.ClickException(_one_line(error)) from error


def _one_line(error: BaseException) -> str:
    if isinstance(error, ConventionsError):
        text = str(error)
    else:
        # Azure messages span lines (error code, request id...): keep the first.
        first = str(error).strip().splitlines()
        text = f"{type(error).__name__}: {first[0] if first else ''}"
    return redact_sas(text)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and debug logging.")
@click.version_option(package_name="batch-file-conventions")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Azure Batch File Conventions: name, plan, save, list and download task outputs."""
    ctx.meta["conventions.verbose"] = verbose
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        _LOG.addHandler(handler)
        _LOG.setLevel(logging.DEBUG)


# The commands register themselves on `main`.
from . import _cleanup, _client, _logs, _naming, _outputs, _task  # noqa: E402, F401  # noqa: E402, F401
