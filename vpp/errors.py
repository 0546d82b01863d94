"""Errors the engine raises for the user to read. The CLI prints them without a traceback."""

from __future__ import annotations

from pathlib import Path


class VppError(Exception):
    """Base class of every error that is the user's to fix (bad input, infeasible portfolio)."""


class InputError(VppError):
    """Bad input data, located by file, row, timestamp and field where known.

    Parameters
    ----------
    message : str
        What is wrong.
    file : str or Path, optional
        The offending file.
    row : int, optional
        1-based data row in the file (the header is row 0).
    timestamp : object, optional
        The timestamp of the offending row.
    field : str, optional
        The offending column or field path.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        timestamp: object | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.row = row
        self.timestamp = timestamp
        self.field = field
        super().__init__(self.describe())

    def describe(self) -> str:
        """Return the one-line message: ``file: row N, timestamp T, field F: message``."""
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.timestamp is not None:
            where.append(f"timestamp {self.timestamp}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        location = ", ".join(where)
        prefix = self.file or ""
        if prefix and location:
            prefix = f"{prefix}: {location}"
        elif location:
            prefix = location
        return f"{prefix}: {self.message}" if prefix else self.message


class InfeasibleError(VppError):
    """The portfolio cannot meet its constraints.

    ``violations`` lists what a least-violation relaxation had to break: dicts with ``family``,
    ``asset``, ``constraint``, ``period``, ``timestamp`` and ``violation``.
    """

    def __init__(self, message: str, violations: list[dict] | None = None) -> None:
        self.violations = violations or []
        super().__init__(message)


class SolverError(VppError):
    """HiGHS failed or stopped without a usable solution (time limit with no incumbent, error)."""


class InputWarning(UserWarning):
    """Input the engine worked around instead of refusing, e.g. an EV session that cannot get all its
    energy (served as far as possible). The message names the asset and the item; the command line
    prints it as ``warning: <message>``."""
