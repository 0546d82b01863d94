"""The profile files a portfolio lists: found, read and joined, and checked against what its assets name.

A portfolio from an untrusted sender (the API) names its files relative to a data folder
(:func:`confined_profile_file`) and its errors never show those files' cells, header or columns.
Errors raise :class:`vpp.errors.InputError` naming the portfolio file and the field
(``profiles[1]``, ``assets[2] (pv-1).profile``).
"""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path, PurePosixPath, PureWindowsPath
from zoneinfo import ZoneInfo

import pandas as pd

from market.presets import MarketSpec
from market.profiles import read_profiles
from vpp.errors import InputError
from vpp.portfolio import Portfolio


def read_profile_files(
    portfolio: Portfolio, path: Path, zone: str, root: Path | None
) -> pd.DataFrame | None:
    """Read every profile file and join them on timestamp (outer join, sorted)."""
    if not portfolio.profiles:
        return None
    frames: list[pd.DataFrame] = []
    source: dict[str, str] = {}
    for i, name in enumerate(portfolio.profiles):
        if root is None:
            file = Path(name) if Path(name).is_absolute() else path.parent / name
            if not file.is_file():
                raise InputError(f"profiles[{i}]: profile file {file} not found", file=path)
            frame = read_profiles(file, zone)
        else:
            frame = _read_confined(confined_profile_file(name, root, f"profiles[{i}]", path),
                                   zone, f"profiles[{i}] ({name})", path)
        for column in frame.columns:
            if column in source:
                shown = f"column '{column}'" if root is None else "a column"
                raise InputError(
                    f"profiles[{i}]: {shown} is in both {source[column]} and {name}; "
                    "a profile name must be unique across the profile files",
                    file=path,
                )
            source[column] = name
        frames.append(frame)
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, axis=1, join="outer", sort=True)


def confined_profile_file(name: str, root: Path, where: str, path: Path, kind: str = "profile") -> Path:
    """The real path of ``kind`` file ``name`` (a profile or a market file) inside ``root``, or an
    ``InputError``.

    ``name`` must be relative, without ``..``; the file it reaches (after every symbolic link)
    must be a regular file inside ``root``. Messages name ``name`` as given, never the target.
    """
    rule = f"{kind} files must be named relative to the service's data folder"
    pure = PurePosixPath(name)
    if "\x00" in name or not name.strip():
        raise InputError(f"{where}: '{name!r}' is not a file name", file=path)
    if pure.is_absolute() or PureWindowsPath(name).is_absolute() or name.startswith("~"):
        raise InputError(f"{where}: '{name}' is an absolute path; {rule}", file=path)
    if ".." in pure.parts or ".." in PureWindowsPath(name).parts:
        raise InputError(f"{where}: '{name}' contains '..'; {rule}", file=path)
    base = root.resolve()
    try:
        real = (base / pure).resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(f"{where}: {kind} file '{name}' not found in the data folder",
                         file=path) from None
    except (OSError, RuntimeError) as exc:  # a symbolic link loop, a name too long
        raise InputError(f"{where}: cannot open '{name}': {type(exc).__name__}", file=path) from None
    if not real.is_relative_to(base):
        raise InputError(f"{where}: '{name}' is a symbolic link leading out of the data folder; {rule}",
                         file=path)
    if not real.is_file():  # a folder, a FIFO, a device
        raise InputError(f"{where}: '{name}' is not a regular file", file=path)
    return real


def _read_confined(file: Path, zone: str, where: str, path: Path) -> pd.DataFrame:
    """Read a profile file for an untrusted sender: an error names the row (and the timestamp
    column), never the file's cells or header."""
    try:
        return read_profiles(file, zone)
    except InputError as exc:
        at = [f"row {exc.row}"] if exc.row is not None else []
        if exc.field == "timestamp":
            at.append("column 'timestamp'")
        located = f"{', '.join(at)}: " if at else ""
        raise InputError(
            f"{where}: {located}not a valid profile file (its contents are not shown here; "
            "check it with `vpp validate` on the server)",
            file=path,
        ) from None


def check_profile_columns(
    portfolio: Portfolio, profiles: pd.DataFrame | None, path: Path, market: MarketSpec,
    *, reveal: bool = True,
) -> None:
    """Every column an asset names must exist in the profile files; every profile list must have
    one value per period of a trading day of ``market``. ``reveal=False`` lists no column names
    of the files (an untrusted sender)."""
    columns = [] if profiles is None else list(profiles.columns)
    day_lengths = _day_lengths(market)
    for i, asset in enumerate(portfolio.assets):
        for field, ref in asset.profile_refs().items():
            where = f"assets[{i}] ({asset.id}).{field}"
            if isinstance(ref, list) and len(ref) not in day_lengths:
                raise InputError(
                    f"{where}: a profile list needs one value per period of the trading day "
                    f"({' or '.join(map(str, sorted(day_lengths)))} values), got {len(ref)}",
                    file=path,
                )
            if not isinstance(ref, str) or ref in columns:
                continue
            if profiles is None:
                raise InputError(
                    f"{where}: names profile column '{ref}' but the portfolio lists no profile "
                    "files ('profiles:')",
                    file=path,
                )
            hint = difflib.get_close_matches(ref, columns, n=1)
            also = f" (did you mean '{hint[0]}'?)" if hint else f"; columns: {', '.join(columns)}"
            also = also if reveal else ""
            raise InputError(
                f"{where}: profile column '{ref}' is not in the profile files{also}", file=path
            )


def _day_lengths(market: MarketSpec) -> set[int]:
    """Periods a trading day of ``market`` can have (one hour more or less on daylight-saving
    days of a zone that has them)."""
    nominal = market.nominal_periods_per_day
    zone = ZoneInfo(market.timezone)
    offsets = {dt.datetime(2024, month, 1, tzinfo=zone).utcoffset() for month in (1, 7)}
    hour = round(market.periods_per_hour)
    return {nominal} if len(offsets) == 1 else {nominal - hour, nominal, nominal + hour}
