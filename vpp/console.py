"""Rich consoles for the command line, and the decorator that turns user errors into exit code 1."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from vpp.errors import InputWarning, VppError

P = ParamSpec("P")
R = TypeVar("R")

stdout = Console(highlight=False)
"""Console for results (tables, summaries); resolves ``sys.stdout`` at print time."""

stderr = Console(stderr=True, highlight=False)
"""Console for errors and warnings; resolves ``sys.stderr`` at print time."""


def print_error(message: str) -> None:
    """Print ``error: <message>`` in red to stderr, unwrapped and without markup interpretation."""
    stderr.print(f"[bold red]error:[/] [red]{escape(message)}[/]", soft_wrap=True)


def print_warning(message: str) -> None:
    """Print ``warning: <message>`` in yellow to stderr."""
    stderr.print(f"[bold yellow]warning:[/] {escape(message)}", soft_wrap=True)


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Decorate a CLI command so that a :class:`vpp.errors.VppError` exits with code 1, no traceback.

    The error's message is printed as ``error: <message>`` to stderr. Any other exception is a bug
    and keeps its traceback. ``functools.wraps`` keeps the signature, so typer still sees the
    command's arguments and options.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InputWarning)
            try:
                return command(*args, **kwargs)
            except VppError as exc:
                print_error(str(exc))
                raise typer.Exit(code=1) from None
            finally:
                _show(caught)

    return wrapper


def _show(caught: list[warnings.WarningMessage]) -> None:
    """Print each :class:`~vpp.errors.InputWarning` once as ``warning: ...``; others as Python would."""
    seen: set[str] = set()
    for w in caught:
        if issubclass(w.category, InputWarning):
            if str(w.message) not in seen:
                seen.add(str(w.message))
                print_warning(str(w.message))
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)
