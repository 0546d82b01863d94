"""Read a portfolio file (YAML or JSON) with its profile files, and resolve profile references.

Every problem with the files raises :class:`vpp.errors.InputError` naming the file and the field
path of each problem (``assets[0] (bess-1).energy_mwh: Input should be greater than 0``), never a
raw pydantic traceback.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from market.calendar import period_hours, trading_day_index
from market.presets import MarketSpec, get_market, is_market_path, load_market
from market.profiles import read_profiles, resample_profile
from vpp.assets import AssetSpec
from vpp.errors import InputError
from vpp.portfolio import Portfolio
from vpp.portfolio_parsing import (
    FastPortfolioYamlLoader,
    PortfolioYamlLoader,
    describe_validation_error,
    describe_yaml_error,
)

PORTFOLIO_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
"""Portfolio file suffix -> format."""

ProfileResolver = Callable[[AssetSpec, str, Any], np.ndarray]
"""``resolve(asset, field_name, ref) -> array`` aligned to a horizon (as ``optimizer.problem``)."""


@dataclass(frozen=True)
class LoadedPortfolio:
    """A validated portfolio with everything its file points to.

    Attributes
    ----------
    portfolio : Portfolio
        The validated portfolio.
    path : Path
        The portfolio file.
    profiles : pd.DataFrame or None
        All profile files joined on ``timestamp`` (tz-aware, market zone), one column per profile;
        None when the portfolio lists no profile files.
    market : MarketSpec
        The market preset the portfolio names.
    """

    portfolio: Portfolio
    path: Path
    profiles: pd.DataFrame | None
    market: MarketSpec

    @property
    def timezone(self) -> str:
        """IANA zone of the portfolio's files: its own ``timezone`` or the market's."""
        return self.portfolio.timezone or self.market.timezone

    def asset_label(self, asset_id: str) -> str:
        """Field path of an asset for messages: ``assets[2] (pv-1)``."""
        for i, asset in enumerate(self.portfolio.assets):
            if asset.id == asset_id:
                return f"assets[{i}] ({asset_id})"
        return asset_id


# ---------------------------------------------------------------------------------------------
# Reading


def load_portfolio(path: str | Path, *, profile_root: Path | None = None) -> LoadedPortfolio:
    """Read and validate a portfolio file and the profile files it lists.

    Parameters
    ----------
    path : str or Path
        Portfolio file: YAML (``.yaml``, ``.yml``) or JSON (``.json``). Profile file paths inside
        it are relative to its folder.
    profile_root : Path, optional
        Confine profile files to this folder (a portfolio from an untrusted sender, e.g. the API):
        profile paths are then relative to it, with no absolute path, no ``..`` and no symbolic
        link leading out of it, and errors in those files name only the row, never file contents.

    Returns
    -------
    LoadedPortfolio

    Raises
    ------
    InputError
        Unreadable file, syntax error (with its line), schema violations (each with its field path),
        unknown market, missing or clashing profile files and columns.
    """
    path = Path(path)
    return _load(read_portfolio_data(path), path, profile_root)


def load_portfolio_text(
    text: str, fmt: str, *, path: str | Path, profile_root: Path | None = None
) -> LoadedPortfolio:
    """Validate a portfolio given as text (``fmt`` ``yaml`` or ``json``) without writing it anywhere.

    ``path`` is the name it is known by (in messages and :attr:`LoadedPortfolio.path`); profile
    files are read as :func:`load_portfolio` reads them.
    """
    path = Path(path)
    return _load(parse_portfolio_text(text, fmt, path), path, profile_root)


def _load(data: dict[str, Any], path: Path, profile_root: Path | None) -> LoadedPortfolio:
    portfolio = parse_portfolio(data, file=path)
    market = _get_market(portfolio.market, path, profile_root)
    zone = portfolio.timezone or market.timezone
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"timezone: unknown IANA time zone '{zone}'", file=path) from None
    profiles = _read_profile_files(portfolio, path, zone, profile_root)
    _check_profile_columns(portfolio, profiles, path, market, reveal=profile_root is None)
    return LoadedPortfolio(portfolio=portfolio, path=path, profiles=profiles, market=market)


def read_portfolio_data(path: Path) -> dict[str, Any]:
    """Read a portfolio file into plain data, without validating it.

    Times of day such as ``17:30`` stay strings (YAML 1.1 would read them as the base-60 integer
    1050) and repeated keys in one mapping are an error.

    Raises
    ------
    InputError
        Missing or unreadable file, unknown suffix, syntax error (with line and column), or a
        document that is not a mapping.
    """
    fmt = PORTFOLIO_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"unknown portfolio file type '{path.suffix}'; use {', '.join(PORTFOLIO_FORMATS)}",
            file=path,
        )
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError("portfolio file not found", file=path) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the portfolio file: {exc}", file=path) from None
    if not stat.S_ISREG(mode):  # a FIFO or a device would block the read or never end
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise InputError(f"the portfolio file is {kind}", file=path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("portfolio file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the portfolio file: {exc}", file=path) from None
    return parse_portfolio_text(text, fmt, path)


def parse_portfolio_text(text: str, fmt: str, path: str | Path) -> dict[str, Any]:
    """Parse portfolio text (``fmt`` ``yaml`` or ``json``) into plain data, without validating it.

    Repeated keys in one mapping (YAML or JSON) are an error, and so is nesting too deep for the
    parser (``RecursionError``).

    Raises
    ------
    InputError
        Syntax error (with line and column), a repeated key, nesting too deep, or a document that
        is not a mapping.
    """
    try:
        data = _parse_text(text, fmt, path)
    except RecursionError:
        raise InputError(
            f"the {fmt.upper()} is nested too deeply to read (a portfolio needs a few levels)",
            file=path,
        ) from None
    if data is None:
        raise InputError("the portfolio file is empty", file=path)
    if not isinstance(data, dict):
        raise InputError(
            f"the portfolio must be a mapping of fields (name, grid, assets, ...), "
            f"not a {type(data).__name__}",
            file=path,
        )
    return data


def _parse_text(text: str, fmt: str, path: str | Path) -> Any:
    if fmt == "yaml":
        try:
            try:
                return yaml.load(text, Loader=FastPortfolioYamlLoader)
            except yaml.YAMLError:  # the pure-Python loader's message (line, column, problem)
                return yaml.load(text, Loader=PortfolioYamlLoader)  # a SafeLoader subclass
        except yaml.MarkedYAMLError as exc:
            raise InputError(describe_yaml_error(exc), file=path) from None
        except yaml.YAMLError as exc:
            raise InputError(f"invalid YAML: {exc}", file=path) from None
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except InputError as exc:
        raise InputError(exc.message, file=path) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", file=path
        ) from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (``json`` would keep the last silently)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InputError(f"invalid JSON: key '{key}' appears twice in one object")
        out[key] = value
    return out


def parse_portfolio(data: dict[str, Any], *, file: str | Path | None = None) -> Portfolio:
    """Validate plain data as a :class:`Portfolio`.

    Raises
    ------
    InputError
        One line per problem, each ``<field path>: <message>``.
    """
    try:
        return Portfolio.model_validate(data)
    except ValidationError as exc:
        problems = describe_validation_error(exc, data)
        if len(problems) == 1:
            raise InputError(problems[0], file=file) from None
        listing = "\n".join(f"  - {p}" for p in problems)
        raise InputError(f"{len(problems)} problems:\n{listing}", file=file) from None


# ---------------------------------------------------------------------------------------------
# Profile references


def resolve_profile(
    loaded: LoadedPortfolio,
    ref: float | list[float] | str,
    index: pd.DatetimeIndex,
    *,
    asset_id: str | None = None,
    field: str | None = None,
) -> np.ndarray:
    """Turn a profile reference into one float per period of ``index``.

    Parameters
    ----------
    loaded : LoadedPortfolio
        The portfolio and its profiles.
    ref : float, list of float or str
        A constant (``np.full``), a list with exactly one value per period, or a profile column
        name (resampled onto ``index`` by ``market.profiles.resample_profile``).
    index : pd.DatetimeIndex
        Period starts (tz-aware), e.g. one trading day.
    asset_id, field : str, optional
        Named in error messages: ``assets[2] (pv-1).profile``.

    Returns
    -------
    np.ndarray
        Shape ``(len(index),)``, float, in the unit of the field the reference belongs to.

    Raises
    ------
    InputError
        A list of the wrong length, an unknown column, or a column without data in the horizon.
    """
    where = _ref_label(loaded, asset_id, field)
    if isinstance(ref, bool | int | float):
        return np.full(len(index), float(ref))
    if isinstance(ref, str):
        return _resolve_column(loaded, ref, index, where)
    values = np.asarray(ref, dtype=float)
    if values.shape != (len(index),):
        raise InputError(
            f"{where}: the list has {len(ref)} values but the horizon starting {index[0]} has "
            f"{len(index)} periods; give one value per period or a profile column",
            file=loaded.path,
        )
    return values


def profile_resolver(loaded: LoadedPortfolio, index: pd.DatetimeIndex) -> ProfileResolver:
    """A resolver for ``optimizer.problem.prepare_problem``: ``(asset, field, ref) -> array``.

    Each profile column is resampled onto ``index`` once and shared by every asset naming it.
    """
    columns: dict[str, np.ndarray] = {}

    def resolve(asset: AssetSpec, field_name: str, ref: Any) -> np.ndarray:
        if isinstance(ref, str):
            if ref not in columns:
                columns[ref] = resolve_profile(
                    loaded, ref, index, asset_id=asset.id, field=field_name
                )
            return columns[ref]
        return resolve_profile(loaded, ref, index, asset_id=asset.id, field=field_name)

    return resolve


def default_day(loaded: LoadedPortfolio) -> dt.date:
    """The first full trading day the profile files cover, or today in the market zone.

    Raises
    ------
    InputError
        When the profile files cover no full trading day.
    """
    zone = ZoneInfo(loaded.market.timezone)
    profiles = loaded.profiles
    if profiles is None or profiles.empty:
        return dt.datetime.now(zone).date()
    first = profiles.index[0]
    end = profiles.index[-1] + pd.Timedelta(hours=float(period_hours(profiles.index)[-1]))
    start_day = first.tz_convert(zone).date()
    for day in (start_day, start_day + dt.timedelta(days=1)):
        index = trading_day_index(loaded.market, day)
        if index[0] >= first and index[-1] + loaded.market.period <= end:
            return day
    raise InputError(
        f"the profile files ({first} to {end}, exclusive) cover no full trading day",
        file=loaded.path,
    )


def _get_market(ref: str | MarketSpec, path: Path, root: Path | None) -> MarketSpec:
    """The portfolio's market: a preset, a market file relative to ``path`` or the inline spec.

    With ``root`` (a portfolio from an untrusted sender, the API) a market file must lie inside
    ``root`` (:func:`confined_profile_file`'s rules), and its errors name it as given.
    """
    if isinstance(ref, MarketSpec):
        return ref
    if is_market_path(ref) and root is not None:
        real = confined_profile_file(str(ref), root, "market", path, kind="market")
        try:
            return load_market(real)
        except InputError as exc:
            where = f"market file '{ref}'" + (f", field '{exc.field}'" if exc.field else "")
            raise InputError(f"{where}: {exc.message}", file=path, field="market") from None
    if is_market_path(ref):
        return load_market(ref, base_dir=path.parent)  # its errors name the market file
    try:
        return get_market(ref)
    except InputError as exc:
        raise InputError(f"market: {exc.message}", file=path, field="market") from None


def _read_profile_files(
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


def _check_profile_columns(
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


def _ref_label(loaded: LoadedPortfolio, asset_id: str | None, field: str | None) -> str:
    label = loaded.asset_label(asset_id) if asset_id is not None else "profile"
    return f"{label}.{field}" if field else label


def _resolve_column(
    loaded: LoadedPortfolio, column: str, index: pd.DatetimeIndex, where: str
) -> np.ndarray:
    profiles = loaded.profiles
    if profiles is None or column not in profiles.columns:
        raise InputError(f"{where}: profile column '{column}' is not in the profile files",
                         file=loaded.path)
    series = profiles[column]
    if series.isna().any():  # rows another profile file added in the join
        series = series.dropna()
    try:
        values = resample_profile(series.to_frame(), index).to_numpy(dtype=float)[:, 0]
    except InputError as exc:
        raise InputError(f"{where}: profile column '{column}': {exc.message}",
                         file=loaded.path) from None
    return values
