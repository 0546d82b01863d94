"""``blend``: the equal-weight mean of ``ewm``, ``lgbm`` and ``lgbm_rank``.

A forecast earns through the *order* of the day's prices (when the fleet charges and discharges),
not their level or amplitude: on the developers' holdout, bidding the ``ewm`` forecast with the
realised ranks of each day (its own values re-ordered) keeps 0.97 of the physical DA optimum, with
the realised mean and spread instead only 0.61, as much as ``ewm`` itself (``bench/RESULTS.md``).
``ewm`` averages the recent days' shape; ``lgbm`` reads the day's exogenous forecasts and calendar
for the price; ``lgbm_rank`` learns the day's order itself from the drivers' within-day ranks (both
LightGBM members average their fits on four calibration windows, :mod:`.windows`).
Their errors differ, so their mean orders the day better than any one (the classic forecast
combination; equal weights are fixed a priori, nothing is tuned on any day).

Quantiles: the mean of the members' quantiles at each level all give (a mean of ordered
quantiles stays ordered). Without the ``forecast`` extra (LightGBM, scikit-learn) the blend is
``ewm`` alone, with a warning logged once.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Hashable

import numpy as np

from market.forecasting.base import FORECASTERS, DayForecast, Forecaster, register
from market.forecasting.information import History, Known

log = logging.getLogger(__name__)

MEMBERS = ("ewm", "lgbm", "lgbm_rank")
"""The blended forecasters, equal weights."""


def _forecast_extra_installed() -> bool:
    """Whether LightGBM and scikit-learn import (an import, not a lookup: scikit-learn without
    SciPy is found but does not import)."""
    try:
        import lightgbm  # noqa: F401
        import sklearn.linear_model  # noqa: F401
    except ImportError:
        return False
    return True


@register
class Blend(Forecaster):
    """Equal-weight mean of :data:`MEMBERS` (point and common quantile levels)."""

    name = "blend"
    description = "equal-weight mean of ewm, lgbm and lgbm_rank (ewm alone without the forecast extra)"

    def __init__(self, column: str = "da_price") -> None:
        super().__init__(column)
        members = MEMBERS
        if not _forecast_extra_installed():
            log.warning("blend: LightGBM/scikit-learn not installed (pip install 'vpp[forecast]'): ewm alone")
            members = ("ewm",)
        self.members = [FORECASTERS[m](column=column) for m in members]

    def fit_origin(self) -> Hashable:
        """The members' fit origins (the blend itself fits nothing)."""
        return tuple(m.fit_origin() for m in self.members)

    def refitted(self, origin: Hashable, history: History) -> Blend:
        """A copy with each member refitted at its origin (:meth:`Forecaster.refitted`)."""
        twin = copy.copy(self)
        twin.members = [m.refitted(o, history) for m, o in zip(self.members, origin, strict=True)]
        return twin

    def predict(self, known: Known, *, quantiles: bool = True) -> DayForecast:
        # each member fits as its refit_days says
        parts = [m.forecast(known, quantiles=quantiles) for m in self.members]
        point = np.mean([p.point for p in parts], axis=0)
        if not quantiles:
            return DayForecast(point)
        levels = set.intersection(*(set(p.quantiles) for p in parts))
        quantiles = {q: np.mean([p.quantiles[q] for p in parts], axis=0) for q in sorted(levels)}
        return DayForecast(point, quantiles)
