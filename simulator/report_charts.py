"""What the backtest report's charts draw: their series (JSON-ready) and labels in both languages.

The page's script (``report_assets/report.js``) draws the plotly charts from :func:`report_data`
and :func:`chart_labels`; times are in the market zone, money in the market's unit, power in MW,
energy in MWh.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from market.calendar import period_ends, zone_label
from simulator.metrics import daily_revenue
from simulator.passive import passive_settlement
from simulator.report_html import MONEY
from simulator.report_labels import LANGUAGES, STRATEGIES, TEXT, in_currency, strategy_name, text
from simulator.report_members import members_by_asset
from vpp.assets.registry import STORED_ENERGY_KEYS
from vpp.portfolio_io import LoadedPortfolio

if TYPE_CHECKING:
    from simulator.backtest import BacktestResult


def report_data(result: BacktestResult, loaded: LoadedPortfolio) -> dict[str, Any]:
    """The series the charts draw (JSON-ready): times in the market zone, money in the market's unit,
    MW, MWh.

    Keys: ``zone`` (axis label), ``days``, ``time`` (period starts ``YYYY-MM-DD HH:MM``, local),
    ``time_end`` (period ends, likewise; the cumulative revenue is drawn there, a period's money
    being earned by its end), ``clock`` (``HH:MM`` per period, unique within a day:
    :func:`clock_labels`), ``clock_end`` (its end, ``24:00`` for a day's last: :func:`end_labels`;
    the state of charge is drawn there),
    ``day_slices`` (day -> [first, end) index into ``time``), ``cumulative`` and ``passive_cumulative``
    (yuan), ``daily`` (strategy -> yuan per day, with ``passive``), ``schedule`` (strategy -> bid,
    actual, forecast MW/yuan), ``prices`` (DA, RT), ``soc`` (strategy -> battery -> MWh),
    ``attribution`` (strategy -> asset -> what it earns and its two parts, as ``members.csv``:
    :func:`simulator.report_members.members_by_asset`) and ``forecast_error``.
    """
    tz = loaded.market.timezone
    names = result.strategies
    first = result.run.records[names[0]].fleet_frame()
    local = first.index.tz_convert(tz)
    ends = period_ends(first.index, first["dt_h"]).tz_convert(tz)
    days = sorted({str(d) for d in local.date})
    day_of = np.array([str(d) for d in local.date])
    slices = {d: [int(np.argmax(day_of == d)), int(len(day_of) - np.argmax(day_of[::-1] == d))] for d in days}
    prices = pd.DataFrame({"da_price": first["p_da"], "rt_price": first["p_rt"]}, index=first.index)
    passive = passive_settlement(loaded, prices, [pd.Timestamp(d).date() for d in days])
    data: dict[str, Any] = {
        "zone": zone_label(local),
        "days": days,
        "time": list(local.strftime("%Y-%m-%d %H:%M")),
        "time_end": list(ends.strftime("%Y-%m-%d %H:%M")),
        "clock": clock_labels(local),
        "clock_end": end_labels(local, ends),
        "day_slices": slices,
        "strategies": names,
        "cumulative": {n: _round(result.settlements[n]["revenue"].cumsum(), 2) for n in names},
        "passive_cumulative": _round(passive["revenue"].cumsum(), 2),
        "daily": {n: _round(daily_revenue(result.settlements[n], tz), 2) for n in names},
        "prices": {"da": _round(first["p_da"], 2), "rt": _round(first["p_rt"], 2)},
        "schedule": {},
        "soc": {},
        "attribution": {},
        "forecast_error": _round(first["forecast_da"] - first["p_da"], 2),
    }
    data["daily"]["passive"] = _round(daily_revenue(passive, tz), 2)
    for name in names:
        fleet = result.run.records[name].fleet_frame()
        assets = result.run.records[name].asset_frame()
        data["schedule"][name] = {
            "bid": _round(fleet["bid_mw"], 4),
            "actual": _round(fleet["actual_mw"], 4),
            "forecast": _round(fleet["forecast_da"], 2),
        }
        data["soc"][name] = _soc(assets, fleet.index)
        data["attribution"][name] = members_by_asset(result.settlements[name], fleet, assets)
    return data


def chart_labels(strategies: list[str]) -> dict[str, dict[str, str]]:
    """The charts' titles, axes and trace names in each language, money named in the market's unit.

    Parameters
    ----------
    strategies : list of str
        The run's strategies (every known strategy gets its name too).

    Returns
    -------
    dict
        language -> label key -> text; ``{tz}`` in an axis title is filled in by the page's script.
    """
    keys = [k for k in TEXT if k.startswith(("axis_", "trace_"))] + [
        "cumulative",
        "daily",
        "prices_schedule",
        "soc",
        "attribution",
        "forecast_error_chart",
        "passive",
        "no_batteries",
    ]
    out = {}
    for lang in LANGUAGES:
        labels = {k: in_currency(text(k, lang, tz="{tz}"), MONEY.get()) for k in keys}
        labels.update({f"strategy:{n}": strategy_name(n, lang) for n in [*strategies, *STRATEGIES]})
        out[lang] = labels
    return out


def clock_labels(local: pd.DatetimeIndex) -> list[str]:
    """Wall-clock ``HH:MM`` of each period start, with its UTC offset on a day whose offset changes.

    On the day clocks go back the hour repeats (02:00 +02:00, then 02:00 +01:00): the offset keeps
    the labels of a day unique, so a day's chart runs forward.
    """
    dates = np.array([str(d) for d in local.date])
    offsets = np.array([f"{o[:3]}:{o[3:]}" for o in local.strftime("%z")])
    changing = {d for d in np.unique(dates) if len(set(offsets[dates == d])) > 1}
    clock = local.strftime("%H:%M")
    return [f"{c} {o}" if d in changing else c for c, o, d in zip(clock, offsets, dates, strict=True)]


def end_labels(starts: pd.DatetimeIndex, ends: pd.DatetimeIndex) -> list[str]:
    """Wall-clock ``HH:MM`` of each period's end (``24:00`` for a day's last), in the market zone.

    Stored energy is recorded at each period's end, so the state-of-charge chart is drawn at these.
    As in :func:`clock_labels`, a day whose UTC offset changes gets the offset on each label.
    """
    dates = np.array([str(d) for d in starts.date])
    offsets = np.array([f"{o[:3]}:{o[3:]}" for o in ends.strftime("%z")])
    start_offsets = np.array(list(starts.strftime("%z")))
    changing = {d for d in np.unique(dates) if len(set(start_offsets[dates == d])) > 1}
    next_day = np.array([str(d) for d in ends.date]) != dates
    clock = np.where(next_day, "24:00", np.array(list(ends.strftime("%H:%M"))))
    return [f"{c} {o}" if d in changing else str(c) for c, o, d in zip(clock, offsets, dates, strict=True)]


def _soc(assets: pd.DataFrame, index: pd.DatetimeIndex) -> dict[str, list[float | None]]:
    """Stored energy per asset (MWh): each family's ``stored_energy`` column (battery ``soc_mwh``)."""
    columns = [key.name for key in STORED_ENERGY_KEYS if key.name in assets.columns]
    if assets.empty or not columns:
        return {}
    rows = assets.assign(stored_mwh_=assets[columns].bfill(axis=1).iloc[:, 0]).dropna(subset=["stored_mwh_"])
    if rows.empty:
        return {}
    table = rows.pivot(index="timestamp", columns="asset_id", values="stored_mwh_").reindex(index)
    return {str(c): _round(table[c], 4) for c in table.columns}


def _round(series: pd.Series, digits: int) -> list[float | None]:
    """``series`` as JSON numbers to ``digits`` decimals; NaN and infinities become ``None`` (null)."""
    values = pd.to_numeric(pd.Series(series), errors="coerce").to_numpy(dtype=float)
    return [None if not math.isfinite(v) else round(float(v), digits) for v in values]
