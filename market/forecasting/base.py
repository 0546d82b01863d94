"""The forecaster interface and the registry of forecasters by name.

A forecaster is fitted on what is known at the day-ahead gate closure of D-1
(:class:`market.forecasting.information.Known`) and predicts the periods of trading day D, with
optional quantiles. ``fit`` may be skipped for a later day when :attr:`Forecaster.refit_days` says
the model is still fresh: a model fitted at an earlier closure only knew less, so reusing it never
looks ahead.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from market.forecasting.information import Known
from market.presets import MarketSpec
from vpp.errors import InputError


@dataclass(frozen=True)
class DayForecast:
    """A forecast of one trading day.

    Attributes
    ----------
    point : np.ndarray
        Expected price per period of the day (yuan/MWh), shape (T,).
    quantiles : dict[float, np.ndarray]
        Price quantiles per period (level in (0, 1) -> shape (T,)); empty when the forecaster
        gives none. Non-crossing: sorted levels have non-decreasing values.
    """

    point: np.ndarray
    quantiles: dict[float, np.ndarray] = field(default_factory=dict)

    def clipped(self, market: MarketSpec) -> DayForecast:
        """The same forecast clipped to the market's clearing bounds (currency/MWh)."""
        clip = market.within_clearing_bounds
        return DayForecast(clip(self.point), {q: clip(v) for q, v in self.quantiles.items()})


class Forecaster(ABC):
    """Forecast one price column of a trading day from what is known at its gate closure.

    Attributes
    ----------
    column : str
        ``da_price`` or ``rt_price``.
    refit_days : int
        Reuse a fit for days up to this many days after the day it was fitted for (1: refit
        every day).
    fitted_for : datetime.date or None
        The day of the last fit.
    """

    name: str = ""
    description: str = ""
    refit_days: int = 1

    def __init__(self, column: str = "da_price") -> None:
        self.column = column
        self.fitted_for: dt.date | None = None

    def fit(self, known: Known) -> Forecaster:
        """Fit on ``known`` (what is known at the closure before ``known.day``); returns self."""
        self._fit(known)
        self.fitted_for = known.day
        return self

    def needs_fit(self, day: dt.date) -> bool:
        """Whether the model must be fitted again before predicting ``day``."""
        return self.fitted_for is None or not 0 <= (day - self.fitted_for).days < self.refit_days

    def forecast(self, known: Known) -> DayForecast:
        """Fit when needed, predict ``known.day`` and clip to the market's clearing bounds."""
        try:
            if self.needs_fit(known.day):
                self.fit(known)
            result = self.predict(known)
        except ImportError as exc:  # scikit-learn / LightGBM come with the `forecast` extra
            raise InputError(
                f"forecaster '{self.name}' needs the package {exc.name}: pip install 'vpp[forecast]'",
                field="--forecast",
            ) from None
        if result.point.shape != (len(known.target),):
            raise InputError(
                f"forecaster '{self.name}' returned {result.point.size} values "
                f"for {len(known.target)} periods"
            )
        return result.clipped(known.market)

    def _fit(self, known: Known) -> None:  # noqa: B027 - baselines need no fit
        """Estimate the model (default: nothing to estimate)."""

    @abstractmethod
    def predict(self, known: Known) -> DayForecast:
        """Forecast the periods of ``known.day`` from ``known`` only."""


FORECASTERS: dict[str, Callable[..., Forecaster]] = {}
"""Registry: forecaster name -> class (called with ``column=``)."""


def register(cls: type[Forecaster]) -> type[Forecaster]:
    """Class decorator adding a forecaster to :data:`FORECASTERS` under ``cls.name``."""
    FORECASTERS[cls.name] = cls
    return cls
