"""Profile references of a loaded portfolio resolved to one value per period, and the day they cover.

An asset field holding a profile reference (a constant, a list with one value per period, or the
name of a column of the portfolio's profile files) becomes a float array on a horizon of period
starts; errors name the asset and field (``assets[2] (pv-1).profile``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from market.calendar import period_hours, trading_day_index
from market.profiles import resample_profile
from vpp.assets import AssetSpec
from vpp.assets.family import ProfileResolver
from vpp.errors import InputError
from vpp.portfolio_io import LoadedPortfolio


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
