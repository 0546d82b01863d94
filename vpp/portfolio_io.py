"""Load a portfolio: its file, the market it names and its profile files, validated together.

:func:`load_portfolio` is the one entry point (commands, service, API, backtests). Reading the file
is :mod:`vpp.portfolio_file`, its profile files :mod:`vpp.profile_files`; resolving the profile
references of a :class:`LoadedPortfolio` on a horizon is :mod:`vpp.profile_refs`. Every problem
raises :class:`vpp.errors.InputError` naming the file and the field path, never a raw pydantic
traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from market.presets import MarketSpec, get_market, is_market_path, load_market
from vpp.errors import InputError
from vpp.portfolio import Portfolio
from vpp.portfolio_file import parse_portfolio, parse_portfolio_text, read_portfolio_data
from vpp.profile_files import check_profile_columns, confined_profile_file, read_profile_files


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
    profiles = read_profile_files(portfolio, path, zone, profile_root)
    check_profile_columns(portfolio, profiles, path, market, reveal=profile_root is None)
    return LoadedPortfolio(portfolio=portfolio, path=path, profiles=profiles, market=market)


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
