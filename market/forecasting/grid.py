"""Price history indexed by trading day and period of the day (not by absolute hours).

A forecast of day D looks at "the same period of earlier days". With 24 absolute hours that is an
hour out of phase after a daylight-saving change (issue 13 item 11). Here a period is keyed by its
trading day (local calendar date in the market zone) and its *slot*: the local wall-clock time of
its start divided by the market period (slot 0 = local midnight). A day has ``1440 / period_minutes``
slots. On a 23-hour day one slot has no period (it is filled from the slot before it); on a 25-hour
day two periods share a slot (the grid holds their mean, and both get the slot's forecast).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from market.presets import MarketSpec


def slots_per_day(market: MarketSpec) -> int:
    """Slots of a day: ``1440 / period_minutes`` (96 for 15 minutes, 24 for hourly)."""
    return 1440 // market.period_minutes


def slot_of(index: pd.DatetimeIndex, market: MarketSpec) -> np.ndarray:
    """Slot of each period start: local wall-clock minutes since midnight // period minutes."""
    local = index.tz_convert(market.timezone)
    minutes = np.asarray(local.hour, dtype=int) * 60 + np.asarray(local.minute, dtype=int)
    return minutes // market.period_minutes


@dataclass(frozen=True)
class DayGrid:
    """Values per (trading day, slot).

    Attributes
    ----------
    days : list of datetime.date
        Ascending trading days.
    values : np.ndarray
        Shape (days, slots); NaN where unknown.
    """

    days: list[dt.date]
    values: np.ndarray
    _pos: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._pos.update({d: i for i, d in enumerate(self.days)})

    @property
    def slots(self) -> int:
        return self.values.shape[1]

    def row(self, day: dt.date) -> np.ndarray:
        """The slots of ``day`` (a copy; all NaN when the day is absent)."""
        i = self._pos.get(day)
        return np.full(self.slots, np.nan) if i is None else self.values[i].copy()

    def rows(self, days: Sequence[dt.date]) -> np.ndarray:
        """Rows of ``days``, shape (len(days), slots), NaN rows for absent days."""
        out = np.full((len(days), self.slots), np.nan)
        idx = np.array([self._pos.get(d, -1) for d in days], dtype=int)
        ok = idx >= 0
        out[ok] = self.values[idx[ok]]
        return out

    def mean(self) -> float:
        """Mean of the known values (NaN when none)."""
        finite = self.values[np.isfinite(self.values)]
        return float(finite.mean()) if finite.size else float("nan")


def day_grid(series: pd.Series, market: MarketSpec) -> DayGrid:
    """``series`` (values per period, tz-aware index, NaN where unknown) as a :class:`DayGrid`.

    A slot missing on a 23-hour day is filled from the slot before it; on a 25-hour day the two
    periods of a slot are averaged.
    """
    n = slots_per_day(market)
    if len(series) == 0:
        return DayGrid([], np.zeros((0, n)))
    local = series.index.tz_convert(market.timezone)
    codes, days = pd.factorize(np.asarray(local.date), sort=True)
    slots = slot_of(series.index, market)
    values = series.to_numpy(dtype=float)
    total = np.zeros((len(days), n))
    count = np.zeros((len(days), n))
    present = np.zeros((len(days), n), dtype=bool)
    ok = np.isfinite(values)
    np.add.at(total, (codes[ok], slots[ok]), values[ok])
    np.add.at(count, (codes[ok], slots[ok]), 1.0)
    present[codes, slots] = True
    with np.errstate(invalid="ignore"):
        grid = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    gap = ~present  # slots without a period (23-hour days): the slot before
    if gap.any():
        filled = pd.DataFrame(grid).ffill(axis=1).to_numpy()
        grid[gap] = filled[gap]
    return DayGrid(list(days), grid)


def to_periods(by_slot: np.ndarray, target: pd.DatetimeIndex, market: MarketSpec) -> np.ndarray:
    """Values per slot (``(..., slots)``) -> values per period of ``target`` (``(..., len(target))``)."""
    return np.asarray(by_slot)[..., slot_of(target, market)]
