"""Real-time price forecasts a strategy re-dispatches on (yuan/MWh), from what is known at period ``k``.

At the start of period ``k`` of trading day D the realised DA prices of D (published on D-1), the
realised RT prices of D's periods ``0..k-1`` and the realised prices of the days before D
(:class:`simulator.strategies.RtView`) are known. ``da_rt`` and the strategies that re-dispatch like
it use :func:`rt_forecast_spread_profile`; :func:`rt_forecast_decaying_spread` is its form without
the days before (``da_rt``'s forecast before issue 17's session 6; ``bench/RESULTS.md`` compares
them). The 15-minute service (:func:`vpp.service.planning.dispatch_price`) uses the same forecast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from simulator.strategies import RtView

RT_SPREAD_DECAY_H = 1.0
"""Time constant (h) with which ``da_rt`` lets the last observed RT-DA spread fade."""


def _hours_ahead(view: RtView) -> np.ndarray:
    """Hours from the start of period ``k`` to the start of each period ``k..T-1``."""
    starts = np.concatenate([[0.0], np.cumsum(view.dt_h)[:-1]])
    return starts[view.k :] - starts[view.k]


def rt_forecast_decaying_spread(view: RtView, decay_h: float = RT_SPREAD_DECAY_H) -> np.ndarray:
    """The day's DA price plus the last observed RT-DA spread fading with ``decay_h`` (yuan/MWh).

    ``p[t] = p_da[t] + (p_rt[k-1] - p_da[k-1]) * exp(-(s[t] - s[k]) / decay_h)`` for ``t >= k``,
    ``s`` the period starts in hours; ``p = p_da`` when no last spread is known: at ``k = 0``, or
    when the RT or DA price of ``k-1`` is not in yet (NaN; a live service's re-dispatch).
    """
    price = np.array(view.realised_da, dtype=float)
    if view.k == 0:
        return price
    spread = float(view.rt_so_far[view.k - 1] - view.realised_da[view.k - 1])
    if not np.isfinite(spread):
        return price
    ahead = _hours_ahead(view)
    price[view.k :] += spread * np.exp(-ahead / decay_h)
    return price


SPREAD_PROFILE_DAYS = 28
"""Trailing days whose per-slot mean RT-DA spread :func:`rt_forecast_spread_profile` reverts to."""


def rt_forecast_spread_profile(
    view: RtView,
    decay_h: float = RT_SPREAD_DECAY_H,
    days: int = SPREAD_PROFILE_DAYS,
    shrink: float = 1.0,
) -> np.ndarray:
    """:func:`rt_forecast_decaying_spread` fading into the trailing per-slot mean spread (yuan/MWh).

    ``p[t] = p_da[t] + s_last w[t] + (1 - w[t]) shrink m[slot(t)]`` for ``t >= k``, with
    ``w[t] = exp(-(s[t] - s[k]) / decay_h)``, ``s_last = p_rt[k-1] - p_da[k-1]`` (0 at ``k = 0``)
    and ``m`` the mean RT-DA spread of each time of day (the slot, local wall clock) over the
    ``days`` calendar days before D in ``view.history`` (slots never seen there: 0). Without a
    history it is :func:`rt_forecast_decaying_spread`.
    """
    price = rt_forecast_decaying_spread(view, decay_h)
    profile = shrink * _day_profile(view.history, view.index, days)
    ahead = _hours_ahead(view)
    price[view.k :] += (1.0 - np.exp(-ahead / decay_h)) * profile[view.k :]
    return price


_last_profile: list[tuple | None] = [None]
"""``(history, day start, days, periods, profile)`` of the last :func:`_day_profile` call."""


def _day_profile(history: pd.DataFrame | None, index: pd.DatetimeIndex, days: int) -> np.ndarray:
    """:func:`trailing_spread_profile`, computed once for the 96 re-solves of a day.

    The replay passes one history object to every period of a day; the last result is kept with
    a reference to that object (so its identity cannot be reused) and returned while the same
    history, day and window come back.
    """
    last = _last_profile[0]
    if last is not None and last[0] is history and last[1] == index[0] and last[2:4] == (days, len(index)):
        return last[4]
    profile = trailing_spread_profile(history, index, days)
    profile.flags.writeable = False
    _last_profile[0] = (history, index[0], days, len(index), profile)
    return profile


def trailing_spread_profile(
    history: pd.DataFrame | None, index: pd.DatetimeIndex, days: int = SPREAD_PROFILE_DAYS
) -> np.ndarray:
    """Mean realised RT-DA spread (yuan/MWh) of each period's time of day over ``days`` days before ``index``.

    Rows of ``history`` from ``days`` calendar days before ``index[0]`` up to (not including)
    ``index[0]`` count; missing prices are skipped; a time of day with no row gives 0.
    """
    if history is None or history.empty:
        return np.zeros(len(index))
    start = index[0]
    recent = history.loc[(history.index >= start - pd.DateOffset(days=days)) & (history.index < start)]
    spread = (recent["rt_price"] - recent["da_price"]).dropna()
    if spread.empty:
        return np.zeros(len(index))
    local = spread.index.tz_convert(index.tz) if index.tz is not None else spread.index
    by_slot = spread.groupby(local.hour * 60 + local.minute).mean()
    slots = index.hour * 60 + index.minute
    return by_slot.reindex(slots).fillna(0.0).to_numpy(dtype=float)
