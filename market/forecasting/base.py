"""The forecaster interface and the registry of forecasters by name.

A forecaster is fitted on what is known at the day-ahead gate closure of D-1
(:class:`market.forecasting.information.Known`) and predicts the periods of trading day D, with
optional quantiles. ``fit`` may be skipped for a later day when :attr:`Forecaster.refit_days` says
the model is still fresh: a model fitted at an earlier closure only knew less, so reusing it never
looks ahead.

Quantiles are made only when asked for (``forecast(known, quantiles=True)``, the default): a
bid at the point forecast (``da_only``, ``da_rt``, the bounds, the scenario strategies, which
resample the point's errors) asks ``quantiles=False`` and ``lgbm`` then fits no quantile models.
To ask later, after the forecaster moved on to other fits: :meth:`Forecaster.fit_origin` when the
point was made, then :meth:`Forecaster.refitted` at it gives the quantiles a ``quantiles=True``
forecast would have had (the same fit, the same models).
"""

from __future__ import annotations

import copy
import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import numpy as np

from market.forecasting.information import History, Known
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
        Price quantiles per period (level in (0, 1) -> shape (T,), yuan/MWh); empty when the
        forecaster gives none or none were asked for. Non-crossing: sorted levels have
        non-decreasing values.
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

    def forecast(self, known: Known, *, quantiles: bool = True) -> DayForecast:
        """Fit when needed, predict ``known.day`` and clip to the market's clearing bounds.

        Parameters
        ----------
        known : Known
            What is known at the gate closure before the day.
        quantiles : bool
            Also the quantiles (False: the point only, the quantiles left empty and not computed).
        """
        try:
            if self.needs_fit(known.day):
                self.fit(known)
            result = self.predict(known, quantiles=quantiles)
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

    def fit_origin(self) -> Hashable:
        """The day whose gate closure the current fit was made at (hashable; None when every day is
        fitted for itself, ``refit_days`` 1): with :meth:`refitted`, the fit a forecast made now
        used, without keeping its models."""
        return self.fitted_for if self.refit_days > 1 else None

    def refitted(self, origin: Hashable, history: History) -> Forecaster:
        """A copy of this forecaster fitted as it was at ``origin`` (from :meth:`fit_origin`).

        The copy forecasts the days of that fit as this forecaster did then, quantiles too (a fit
        depends only on what was known at its day's closure, and is deterministic). This one is
        unchanged: a fit rebinds the fitted attributes, it never changes a fitted model in place.
        """
        twin = copy.copy(self)
        if origin is not None:
            twin.fit(history.known(origin))
        return twin

    def _fit(self, known: Known) -> None:  # noqa: B027 - baselines need no fit
        """Estimate the model (default: nothing to estimate)."""

    @abstractmethod
    def predict(self, known: Known, *, quantiles: bool = True) -> DayForecast:
        """Forecast the periods of ``known.day`` from ``known`` only (quantiles when asked for)."""


FORECASTERS: dict[str, Callable[..., Forecaster]] = {}
"""Registry: forecaster name -> class (called with ``column=``)."""


def register(cls: type[Forecaster]) -> type[Forecaster]:
    """Class decorator adding a forecaster to :data:`FORECASTERS` under ``cls.name``."""
    FORECASTERS[cls.name] = cls
    return cls
