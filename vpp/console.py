"""Rich consoles for the command line, and the decorator that turns user errors into exit code 1."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from vpp.errors import InputWarning, VppError

P = ParamSpec("P")
R = TypeVar("R")

stdout = Console(highlight=False, markup=False)
"""Console for results (tables, summaries); resolves ``sys.stdout`` at print time.

No console markup: text is printed as it is, so names from user files (a portfolio called
``[/]``, an asset ``[bold]``) can never be read as rich markup. Style with ``style=`` or
:class:`rich.text.Text` instead.
"""

stderr = Console(stderr=True, highlight=False, markup=False)
"""Console for errors and warnings; resolves ``sys.stderr`` at print time (no markup either)."""


def print_error(message: str) -> None:
    """Print ``error: <message>`` in red to stderr, unwrapped, the message as plain text."""
    stderr.print(Text.assemble(("error:", "bold red"), " ", (message, "red")), soft_wrap=True)


def print_warning(message: str) -> None:
    """Print ``warning: <message>`` in yellow to stderr."""
    stderr.print(Text.assemble(("warning:", "bold yellow"), " ", message), soft_wrap=True)


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Decorate a CLI command so that a :class:`vpp.errors.VppError` exits with code 1, no traceback.

    The error's message is printed as ``error: <message>`` to stderr. So is a file-system error on
    a named path (an ``OSError`` with a ``filename``: ``--out`` in a read-only folder, under a file,
    onto a folder), which is the user's to fix too. Any other exception is a bug and keeps its
    traceback. ``functools.wraps`` keeps the signature, so typer still sees the
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
            except OSError as exc:
                if exc.filename is None:
                    raise
                print_error(describe_os_error(exc))
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


def money_cell(value: float | None) -> str:
    """A table cell for an amount of money: ``1,234.50``, or ``-`` when there is none (None or NaN).

    The unit goes in the column's header (``revenue (EUR)``), never in the cell.
    """
    return "-" if value is None or value != value else f"{value:,.2f}"


def ratio_cell(value: float | None) -> str:
    """A table cell for a ratio (a capture): ``0.637``, or ``-`` when there is none (None or NaN)."""
    return "-" if value is None or value != value else f"{value:.3f}"


def fit_table(title: str, header: list[str], rows: list[list[str]], *, width: int | None = None) -> list:
    """Rich tables showing ``rows`` whole within ``width`` columns (default: the stdout console's).

    Rich shrinks a table that is too wide by wrapping or cutting cells (``14,2…``). Here no
    figure is ever cut: when the table fits it is printed as is (figures never wrapped); when it
    does not, it is transposed (one row per figure, one column per row of ``rows``, the first
    column of ``rows`` as the column headers), split into several tables if the transposed one is
    still too wide. A pipe gets 80 columns (rich's default; ``COLUMNS`` overrides).

    Parameters
    ----------
    title : str
    header : list of str
        Column names; the first names the rows (e.g. "strategy").
    rows : list of list of str
        Formatted cells, one list per row, as long as ``header``.
    width : int, optional
        Columns available.

    Returns
    -------
    list of rich.table.Table
        One table, or more when transposed and split; print each.
    """
    from rich import box
    from rich.table import Table

    width = stdout.width if width is None else width

    def needed(columns: list[list[str]]) -> int:
        # heavy box: 3 characters per column (padding and rule) plus the left border
        return 1 + sum(3 + max(len(cell) for cell in column) for column in columns)

    columns = [[name, *(row[i] for row in rows)] for i, name in enumerate(header)]
    if needed(columns) <= width:
        table = Table(title=title, box=box.HEAVY_HEAD)
        for i, name in enumerate(header):
            table.add_column(name, justify="left" if i == 0 else "right", no_wrap=True)
        for row in rows:
            table.add_row(*row)
        return [table]
    labels = [header[0], *header[1:]]
    label_width = max(len(x) for x in labels)
    tables, chunk = [], []
    for row in rows:
        trial = [*chunk, row]
        cols = [[labels[0], *labels[1:]], *[list(r) for r in trial]]
        if chunk and needed(cols) > width:
            tables.append(chunk)
            chunk = [row]
        else:
            chunk = trial
    if chunk:
        tables.append(chunk)
    out = []
    for k, part in enumerate(tables):
        suffix = f" ({k + 1}/{len(tables)})" if len(tables) > 1 else ""
        table = Table(title=title + suffix, box=box.HEAVY_HEAD)
        table.add_column(header[0], justify="left", min_width=min(label_width, 24))
        for row in part:
            table.add_column(row[0], justify="right", no_wrap=True)
        for i, name in enumerate(header[1:], start=1):
            table.add_row(name, *(row[i] for row in part))
        out.append(table)
    return out


def describe_os_error(exc: OSError) -> str:
    """``<path>: <reason>`` for a file-system error on a named path (``exc.filename`` set)."""
    reason = exc.strerror or type(exc).__name__
    if exc.filename2 is not None:
        return f"{exc.filename} -> {exc.filename2}: {reason}"
    return f"{exc.filename}: {reason}"
