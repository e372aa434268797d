"""``--timeout`` and ``--retries``: how long a storage command may wait, and how often it retries.

Kept apart from the connection options (``_connect.py``): every command that touches
storage takes both decorators. The values reach the clients the CLI builds through
:func:`client_kwargs`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import click

from conventions.network import (
    TransferLimits,
    budgeted_client_kwargs,
    get_transfer_limits,
    set_transfer_limits,
)

__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "FiniteFloatRange",
    "client_kwargs",
    "network_options",
]


class FiniteFloatRange(click.FloatRange):
    """``click.FloatRange`` that also refuses ``nan``, ``inf`` and ``1e999`` (a usage error):
    click's range checks compare, and ``nan`` passes every comparison."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        return number


#: Seconds: per request (to connect, and between bytes of an answer), and the time after
#: which no retry starts. An unreachable endpoint is reported in about this long.
DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 3

_KEY = "conventions.client_kwargs"


def client_kwargs() -> dict[str, Any]:
    """The client options for the running command (``{}`` outside a command)."""
    context = click.get_current_context(silent=True)
    if context is None:
        return {}
    return dict(context.meta.get(_KEY, {}))


def network_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--timeout SECONDS`` and ``--retries N``; the command does not see them."""

    @functools.wraps(function)
    def command(*args: Any, timeout: float, retries: int, **kwargs: Any) -> Any:
        click.get_current_context().meta[_KEY] = budgeted_client_kwargs(timeout, retries)
        # --timeout also bounds each whole request (a listing page, a property read, a
        # token) and a download's grace, however slowly an answer trickles in.
        limits = get_transfer_limits()
        previous = set_transfer_limits(
            TransferLimits(grace=timeout, minimum_rate=limits.minimum_rate)
        )
        try:
            return function(*args, **kwargs)
        finally:
            set_transfer_limits(previous)

    command = click.option(
        "--retries",
        default=DEFAULT_RETRIES,
        show_default=True,
        type=click.IntRange(0, 20),
        help="Retries of a failed storage request (short back-offs: 2.5 s, 4.5 s, 8.5 s...).",
    )(command)
    return click.option(
        "--timeout",
        default=DEFAULT_TIMEOUT,
        show_default=True,
        type=FiniteFloatRange(min=0.1, max=3600),
        metavar="SECONDS",
        help="Seconds to wait for storage to connect or answer; no retry starts after it.",
    )(command)
