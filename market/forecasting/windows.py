"""Calibration-window averaging: one model fitted on each of several trailing windows, forecasts averaged.

Which window to calibrate on is a guess (a short one follows the season, a long one sees more
situations); averaging the forecasts of fits on several windows fixed beforehand beats the best
single window chosen afterwards (Marcjasz, Serafin, Weron, "Selection of calibration windows for
day-ahead electricity price forecasting", Energies 2018, 11(9), 2364; Hubicki, Serafin, Weron
2019). The LightGBM members (``lgbm``, ``lgbm_rank``) average their point forecasts over
:data:`CALIBRATION_WINDOWS`.

A window is a number of the most recent *complete* history days (``Known.history_days``), or
``None`` for all of them. A window longer than the history is the whole history (early in a data
file several windows are then the same fit, counted once per window in the mean). A window with
fewer than ``MIN_DAYS`` days is skipped. Each window's forecast is clipped to the market's clearing
bounds before the mean, as every forecast is (a fit that undershoots the floor would otherwise pull
the mean down with a price that cannot clear). The feature rows of the days are independent of each
other, so the table is built once for the longest window and each shorter window takes its last
rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
import pandas as pd

from market.forecasting.threads import run_all
from market.presets import MarketSpec

CALIBRATION_WINDOWS: tuple[int | None, ...] = (28, 56, 112, None)
"""Trailing windows (days; ``None`` = all known history) whose fits the LightGBM members average."""

Fit = TypeVar("Fit")


def window_lengths(n_history: int, windows: Sequence[int | None], min_days: int) -> list[int]:
    """Days each window fits on, in the order of ``windows``; windows under ``min_days`` skipped.

    Parameters
    ----------
    n_history : int
        Complete history days known at the closure.
    windows : sequence of int or None
        Window lengths in days (``None``: the whole history).
    min_days : int
        Fewest days a fit may use.

    Examples
    --------
    >>> window_lengths(40, (28, 56, 112, None), 14)
    [28, 40, 40, 40]
    >>> window_lengths(10, (7, None), 14)
    []
    """
    lengths = [n_history if w is None else min(w, n_history) for w in windows]
    return [n for n in lengths if n >= min_days]


class WindowRows:
    """Training rows of the longest window, day-major; a window of ``n`` days is its last rows.

    Parameters
    ----------
    x : pd.DataFrame
        Features, ``n_slots`` consecutive rows per day, oldest day first.
    target : np.ndarray
        Shape (rows,): the target per row (NaN: not trained on).
    n_slots : int
        Rows per day.
    """

    def __init__(self, x: pd.DataFrame, target: np.ndarray, n_slots: int) -> None:
        if len(x) != len(target) or len(target) % n_slots:
            raise ValueError(f"{len(x)} feature rows, {len(target)} targets, {n_slots} slots a day")
        self.x, self.target, self.n_slots = x, target, n_slots

    def last(self, n_days: int) -> tuple[pd.DataFrame, np.ndarray]:
        """Features and targets of the last ``n_days`` days, rows with a finite target only."""
        start = len(self.target) - n_days * self.n_slots
        if start < 0:
            raise ValueError(f"{n_days} days asked, {len(self.target) // self.n_slots} in the table")
        target = self.target[start:]
        ok = np.isfinite(target)
        return self.x.iloc[start:].loc[ok], target[ok]


def fit_per_window(lengths: Sequence[int], job: Callable[[int], Callable[[], Fit]]) -> list[Fit]:
    """The fit of each window length; equal lengths (windows cut to the history) share one fit.

    ``job(n)`` runs in the calling thread and returns the fit of window ``n`` as a call without
    arguments (e.g. ``partial(model.fit, *rows.last(n))``: the rows are cut here, the model is fitted
    there). The distinct windows' calls run concurrently
    (:func:`market.forecasting.threads.run_all`), so they must change no shared state.
    """
    distinct = list(dict.fromkeys(lengths))
    fits = dict(zip(distinct, run_all([job(n) for n in distinct]), strict=True))
    return [fits[n] for n in lengths]


def clipped_mean(forecasts: Sequence[np.ndarray], market: MarketSpec) -> np.ndarray:
    """Mean of the windows' forecasts (currency/MWh), each clipped to the clearing bounds first."""
    return np.mean([market.within_clearing_bounds(f) for f in forecasts], axis=0)
