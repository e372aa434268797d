"""The click group, shared options and the one place errors become exit codes."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import click
from rich import filesize
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from conventions.errors import ConventionsError
from conventions.ids import check_job_id, check_task_id
from conventions.urls import redact_sas

from ._errors import (
    EXIT_CODES_HELP,
    INTERRUPTED,
    RUNTIME_FAILURE,
    SUCCESS,
    USAGE_ERROR,
    exit_code,
    render,
    render_usage,
    tidy,
)

__all__ = [
    "NotConfirmedError",
    "counted",
    "emit",
    "job_id_argument",
    "json_option",
    "main",
    "stderr",
    "task_ids_option",
    "usage_errors",
]

F = TypeVar("F", bound=Callable[..., Any])

_LOG = logging.getLogger("conventions")

# Output goes to stdout (data) and stderr (messages, progress), so that
# `--json` output can be piped while progress still shows.
stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False)


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``1 file``, ``2 files``: *number* and *noun*, in the plural unless it is one.

    >>> counted(1, "file"), counted(0, "file"), counted(2, "output was", "outputs were")
    ('1 file', '0 files', '2 outputs were')
    """
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


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
    sizes: Collection[str] = (),
    total_of: str | None = None,
) -> None:
    """Print *rows* as a table, or *data* (default: *rows*) as JSON.

    Columns named in *sizes* hold byte counts: shown as human sizes (``1.2 MB``; JSON keeps
    the bytes), right-aligned, like every number. With *total_of* (what the rows are, in
    the plural, e.g. ``"files"``), a last line gives the count and the sum of each size
    column. On a terminal a rich table; when stdout is not a terminal, or the rows are
    many (rich takes seconds for 10,000), plain aligned text at its full width: nothing
    is cut or wrapped.
    """
    if as_json:
        click.echo(json.dumps(rows if data is None else data, indent=2, ensure_ascii=False))
        return
    names = list(columns)
    if not stdout.is_terminal or len(rows) > _RICH_ROWS:
        click.echo(_plain_table(title, names, rows, sizes, total_of))
        return
    table = Table(title=title, show_footer=total_of is not None)
    for index, name in enumerate(names):
        numeric = name in sizes or any(_is_number(row.get(name)) for row in rows)
        footer = ""
        if total_of is not None:
            if name in sizes:
                footer = filesize.decimal(sum(int(row.get(name) or 0) for row in rows))
            elif index == 0:
                footer = f"total: {counted(len(rows), total_of.removesuffix('s'))}"
        table.add_column(
            name,
            justify="right" if numeric else "left",
            footer=footer,
            overflow="fold",
        )
    for row in rows:
        table.add_row(*(_cell(row.get(name), name in sizes) for name in names))
    stdout.print(table)


#: Up to this many rows, a terminal gets a rich table; more are printed as plain text.
_RICH_ROWS = 1_000


def _plain_table(
    title: str | None,
    names: list[str],
    rows: Sequence[dict[str, Any]],
    sizes: Collection[str],
    total_of: str | None,
) -> str:
    """The table as aligned text: a title, the header, a rule, the rows, the total."""
    body = [[_cell(row.get(name), name in sizes) for name in names] for row in rows]
    numeric = [name in sizes or any(_is_number(row.get(name)) for row in rows) for name in names]
    footer: list[str] | None = None
    if total_of is not None:
        footer = [
            filesize.decimal(sum(int(row.get(name) or 0) for row in rows))
            if name in sizes
            else (f"total: {counted(len(rows), total_of.removesuffix('s'))}" if index == 0 else "")
            for index, name in enumerate(names)
        ]
    lines = [names, *body, *([footer] if footer else [])]
    widths = [max(cell_len(line[index]) for line in lines) for index in range(len(names))]

    def text(cells: Sequence[str]) -> str:
        padded = []
        for cell, width, right in zip(cells, widths, numeric, strict=True):
            blank = " " * (width - cell_len(cell))
            padded.append(blank + cell if right else cell + blank)
        return "  ".join(padded).rstrip()

    rule = text(["-" * width for width in widths])
    out = [title] if title else []
    out += [text(names), rule, *(text(cells) for cells in body)]
    if footer:
        out += [rule, text(footer)]
    return "\n".join(out)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _cell(value: object, is_size: bool) -> str:
    if value is None:
        return ""
    if is_size and isinstance(value, int):
        return filesize.decimal(value)
    return str(value)


class _Command(click.Command):
    """A command whose help ends with its examples (``_examples.EXAMPLES``)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        from ._examples import EXAMPLES

        lines = EXAMPLES.get(self.name or "", ())
        if lines:
            with formatter.section("Examples"):
                for line in lines:  # command lines are not wrapped: they are copied
                    formatter.write(f"{'':>{formatter.current_indent}}{line}\n")


class _Group(click.Group):
    """The one place where failures become one line on stderr and an exit code.

    ``error: <what failed>: <why>. <what to do>``; exit 1 for a failure while running,
    2 for a usage error. ``--verbose`` prints the traceback first.
    """

    command_class = _Command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list with each summary whole (its first sentence), wrapped to the
        terminal; click would cut it at one line with "..."."""
        rows = [
            (name, command.get_short_help_str(limit=_NO_LIMIT))
            for name in self.list_commands(ctx)
            if (command := self.get_command(ctx, name)) is not None and not command.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            if ctx.meta.get("conventions.verbose"):
                stderr.print(redact_sas(traceback.format_exc()), markup=False)
            job_id = _job_id_of(ctx)
            raise _CliError(render(error, job_id=job_id), exit_code(error)) from error

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> Any:
        """Run the CLI, printing every click error in the CLI's one-line style."""
        if extra.get("standalone_mode", True) is False:
            return super().main(args, prog_name, **extra)
        extra["standalone_mode"] = False
        try:
            result = super().main(args, prog_name, **extra)
        except click.UsageError as error:
            click.echo(f"error: {render_usage(error)}", err=True)
            sys.exit(USAGE_ERROR)
        except click.ClickException as error:
            click.echo(f"error: {tidy(error.format_message())}", err=True)
            sys.exit(error.code if isinstance(error, _CliError) else error.exit_code)
        except click.Abort as error:
            click.echo("error: interrupted", err=True)
            # Ctrl-C exits 130, as shells report SIGINT; an Abort of our own (a prompt
            # answered with EOF) is a failure.
            ctrl_c = isinstance(error.__cause__, KeyboardInterrupt)
            sys.exit(INTERRUPTED if ctrl_c else RUNTIME_FAILURE)
        except OSError as error:
            if error.errno == errno.EPIPE:  # `| head` closed the pipe: not our failure
                # As the Python docs advise: point stdout at devnull so that the flush
                # at exit does not fail a second time.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                sys.exit(RUNTIME_FAILURE)
            raise
        # standalone_mode=False returns an Exit's code (e.g. 0 after --help) or the result.
        sys.exit(result if isinstance(result, int) else SUCCESS)


_NO_LIMIT = 10_000
#: Help uses the terminal's width up to this (click's default stops at 80 columns).
HELP_MAX_WIDTH = 120


class NotConfirmedError(click.ClickException):
    """A command that needs confirmation did not get it: ``error: ...``, exit 2."""

    exit_code = USAGE_ERROR


class _CliError(click.ClickException):
    """A failure already rendered for the CLI, with its exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _job_id_of(ctx: click.Context) -> str | None:
    """The JOB_ID argument of the command that failed, if it takes one (see job_id_argument)."""
    job_id = ctx.meta.get(_JOB_ID_KEY)
    return job_id if isinstance(job_id, str) else None


_JOB_ID_KEY = "conventions.job_id"


def job_id_argument(function: F) -> F:
    """Add the JOB_ID argument: checked as a usage error (exit 2), kept for error messages."""

    def check(ctx: click.Context, _param: click.Parameter, value: str) -> str:
        with usage_errors():
            check_job_id(value)
        ctx.meta[_JOB_ID_KEY] = value  # meta is shared with the group's context
        return value

    return click.argument("job_id", callback=check)(function)


def task_ids_option(function: F) -> F:
    """Add ``--task`` (repeatable): each checked as a usage error (exit 2)."""

    def check(
        _ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]
    ) -> tuple[str, ...]:
        with usage_errors():
            for task_id in value:
                check_task_id(task_id)
        return value

    return click.option(
        "--task", "task_ids", multiple=True, callback=check, help="Only this task (repeatable)."
    )(function)


@contextlib.contextmanager
def usage_errors(param_hint: str | None = None) -> Iterator[None]:
    """Turn a rule error (a library ``ValueError``) about a command-line value into exit 2.

    Inside a click callback the parameter is named by click; elsewhere pass *param_hint*.
    """
    try:
        yield
    except ValueError as error:
        if not isinstance(error, ConventionsError):
            raise
        raise click.BadParameter(str(error), param_hint=param_hint) from error


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": HELP_MAX_WIDTH},
    epilog=EXIT_CODES_HELP,
)
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
from . import _cleanup, _client, _logs, _naming, _outputs, _task  # noqa: E402, F401
