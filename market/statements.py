"""Daily and monthly settlement statements: sums of the period rows of ``settle_periods``.

Daily statements (日清分) are informational; money moves on the monthly settlement
(MARKET_RULES 4.1). Both are plain sums of the period rows, grouped by the trading day or month
in the market's zone, so they reconcile with the period rows exactly to the fen: money is summed
as whole fen (int64) and turned back into yuan once.
"""

from __future__ import annotations

from datetime import tzinfo

import numpy as np
import pandas as pd

from market.money import from_fen, to_fen
from market.settlement_checks import MONEY_COLUMNS, settlement_frame
from vpp.errors import InputError

__all__ = ["STATEMENT_COLUMNS", "daily_statement", "monthly_statement"]

#: Columns of :func:`daily_statement` (``monthly_statement`` adds ``days`` after ``periods``).
STATEMENT_COLUMNS: tuple[str, ...] = (
    "periods",
    "q_da_mwh",
    "q_actual_mwh",
    "export_mwh",
    "import_mwh",
    *MONEY_COLUMNS,
)


def daily_statement(settlement: pd.DataFrame, tz: str | tzinfo) -> pd.DataFrame:
    """Sum a period settlement per trading day in the market's zone.

    A period belongs to the trading day (in ``tz``) of its start timestamp, so a Shanxi day is
    the 96 periods 00:00 ... 23:45 Asia/Shanghai. Only days with at least one period appear.

    For each day ``d`` over its periods ``t``::

        periods          = number of periods
        q_da_mwh         = sum_t q_da[t]                   (net, export positive)
        q_actual_mwh     = sum_t q_actual[t]
        export_mwh       = sum_t max(q_actual[t], 0)
        import_mwh       = sum_t max(-q_actual[t], 0)      (a positive amount drawn from the grid)
        <money column>   = sum_t <money column>[t]         for da_revenue, rt_revenue,
                                                           contract_revenue, penalty, revenue

    so ``q_actual_mwh = export_mwh - import_mwh`` and
    ``revenue = da_revenue + rt_revenue + contract_revenue - penalty`` exactly to the fen.

    Parameters
    ----------
    settlement : DataFrame
        The result of :func:`market.settlement.settle_periods` (tz-aware index of period starts).
    tz : str or tzinfo
        The market's zone (``MarketSpec.timezone``), e.g. ``"Asia/Shanghai"``.

    Returns
    -------
    DataFrame
        Index ``trading_day`` (tz-aware midnight starting each day, in ``tz``); columns
        ``STATEMENT_COLUMNS``: ``periods`` (int), energies in MWh, money in yuan (whole fen).

    Raises
    ------
    vpp.errors.InputError
        ``settlement`` lacks a column, holds NaN, amounts that are not whole fen or legs that do
        not add up to ``revenue``, or its index is not tz-aware; or ``tz`` is not a known zone.
    """
    return _statement(settlement, tz, "D", "trading_day")


def monthly_statement(settlement: pd.DataFrame, tz: str | tzinfo) -> pd.DataFrame:
    """Sum a period settlement per calendar month in the market's zone.

    Same sums as :func:`daily_statement`, grouped by the month (in ``tz``) of each period's
    start, plus ``days``: the number of trading days with at least one period in the month.
    The monthly sums equal the sums of the daily statement's rows exactly to the fen.

    Parameters
    ----------
    settlement : DataFrame
        The result of :func:`market.settlement.settle_periods`.
    tz : str or tzinfo
        The market's zone.

    Returns
    -------
    DataFrame
        Index ``month`` (tz-aware midnight of the first day of the month, in ``tz``); columns
        ``periods``, ``days`` and then as :func:`daily_statement`.

    Raises
    ------
    vpp.errors.InputError
        As :func:`daily_statement`.
    """
    return _statement(settlement, tz, "M", "month")


def _local_wall_times(index: pd.DatetimeIndex, tz: str | tzinfo) -> pd.DatetimeIndex:
    """Naive wall-clock times of ``index`` in ``tz``."""
    try:
        return index.tz_convert(tz).tz_localize(None)
    except Exception as exc:  # unknown zone names raise several exception types
        raise InputError(f"is not a known time zone: {tz!r} ({exc})", field="tz") from exc


def _statement(
    settlement: pd.DataFrame, tz: str | tzinfo, freq: str, index_name: str
) -> pd.DataFrame:
    """Group the period rows by calendar ``freq`` ("D" or "M") in ``tz`` and sum them."""
    settlement = settlement_frame(settlement)
    wall = _local_wall_times(settlement.index, tz)
    q_da = settlement["q_da_mwh"].to_numpy(dtype=float)
    q_act = settlement["q_actual_mwh"].to_numpy(dtype=float)
    rows = pd.DataFrame(
        {
            "periods": np.ones(len(wall), dtype=np.int64),
            "q_da_mwh": q_da,
            "q_actual_mwh": q_act,
            "export_mwh": np.maximum(q_act, 0.0),
            "import_mwh": np.maximum(-q_act, 0.0),
        }
        | {column: to_fen(settlement[column]) for column in MONEY_COLUMNS},
        index=wall,
    )
    key = wall.to_period(freq)
    sums = rows.groupby(key, sort=True).sum()
    if freq == "M":
        days = pd.Series(wall.to_period("D"), index=wall).groupby(key, sort=True).nunique()
        sums.insert(1, "days", days.to_numpy(dtype=np.int64))
    for column in MONEY_COLUMNS:
        sums[column] = from_fen(sums[column].to_numpy(dtype=np.int64))
    starts = pd.DatetimeIndex(sums.index.to_timestamp(how="start"))
    sums.index = starts.tz_localize(
        tz, ambiguous=np.ones(len(starts), dtype=bool), nonexistent="shift_forward"
    ).rename(index_name)
    return sums
