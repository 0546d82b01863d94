"""Forecast trading days by forecaster name, and the rolling-origin evaluation of forecasters.

:func:`get_forecaster` resolves a name of :data:`market.forecasting.FORECASTERS` or ``file:PATH``
(a user's forecast file in the price-file format, read as is: it is itself a forecast made before
the gate closure). :func:`forecast_days` walks days in order, each forecast from
:func:`market.forecasting.information.known_at_closure` of its own day only (rolling origin).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from market.forecasting import DEFAULT_FORECASTER, baselines, ensemble, models, ranking  # noqa: F401  (registry)
from market.forecasting.base import FORECASTERS, DayForecast, Forecaster
from market.forecasting.information import History, Known, known_at_closure
from market.presets import MarketSpec, resolve_market
from vpp.errors import InputError

__all__ = ["DEFAULT_FORECASTER", "FORECASTERS", "FileForecaster", "forecast_day", "forecast_days",
           "forecaster_names", "get_forecaster"]


class FileForecaster(Forecaster):
    """A user's forecast file: its ``column`` at the day's periods (no fit, no history)."""

    name = "file"
    description = "a forecast file in the price-file format (file:PATH)"

    def __init__(self, frame: pd.DataFrame, column: str = "da_price") -> None:
        super().__init__(column)
        self.frame = frame

    def predict(self, known: Known, *, quantiles: bool = True) -> DayForecast:
        values = self.frame[self.column].reindex(known.target).to_numpy(dtype=float)
        if not np.isfinite(values).all():
            raise InputError(
                "the forecast file has no value for this period",
                file=self.frame.attrs.get("source"),
                timestamp=known.target[~np.isfinite(values)][0],
                field=self.column,
            )
        return DayForecast(values)


def forecaster_names() -> list[str]:
    """Registered names plus ``file:PATH``."""
    return [*FORECASTERS, "file:PATH"]


def get_forecaster(name: str, market: MarketSpec | str | None = None, column: str = "da_price") -> Forecaster:
    """A fresh forecaster ``name`` for ``column`` (``file:PATH`` reads the file with ``market``).

    Raises
    ------
    InputError
        Unknown name, or a ``file:`` forecast without a path or market.
    """
    if name.startswith("file:") or name == "file":
        from market.prices import read_prices

        path = name.partition(":")[2]
        if not path or market is None:
            raise InputError("the file forecast needs a path: --forecast file:PATH", field="--forecast")
        return FileForecaster(read_prices(Path(path), resolve_market(market)), column)
    if name not in FORECASTERS:
        raise InputError(
            f"unknown forecast '{name}'; known: {', '.join(forecaster_names())}", field="--forecast"
        )
    return FORECASTERS[name](column=column)


def forecast_days(
    forecaster: Forecaster | str,
    frame: pd.DataFrame,
    market: MarketSpec | str,
    days: Iterable[dt.date],
    *,
    features: pd.DataFrame | None = None,
    quantiles: bool = True,
) -> Iterator[tuple[dt.date, Known, DayForecast]]:
    """Forecast each of ``days`` in order from what was known at its own gate closure (with the
    quantiles unless ``quantiles`` is False).

    Yields
    ------
    (day, known, forecast)
    """
    spec = resolve_market(market)
    model = get_forecaster(forecaster, spec) if isinstance(forecaster, str) else forecaster
    history = History(frame, spec, features)
    for day in days:
        known = history.known(day)
        yield day, known, model.forecast(known, quantiles=quantiles)


def forecast_day(
    name: str,
    frame: pd.DataFrame,
    market: MarketSpec | str,
    day: dt.date,
    column: str = "da_price",
    *,
    features: pd.DataFrame | None = None,
    quantiles: bool = True,
) -> DayForecast:
    """Forecast ``column`` of ``day`` with a fresh forecaster ``name`` (one-off; the service), with
    the quantiles unless ``quantiles`` is False."""
    spec = resolve_market(market)
    known = known_at_closure(frame, spec, day, features)
    return get_forecaster(name, spec, column).forecast(known, quantiles=quantiles)
