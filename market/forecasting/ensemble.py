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

import logging

import numpy as np

from market.forecasting.base import FORECASTERS, DayForecast, Forecaster, register
from market.forecasting.information import Known

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

    def snapshot(self) -> Blend:
        """This blend as fitted now: each member's snapshot (:meth:`Forecaster.snapshot`)."""
        copied = super().snapshot()
        copied.members = [m.snapshot() for m in self.members]
        return copied

    def predict(self, known: Known, *, quantiles: bool = True) -> DayForecast:
        # each member fits as its refit_days says
        parts = [m.forecast(known, quantiles=quantiles) for m in self.members]
        point = np.mean([p.point for p in parts], axis=0)
        if not quantiles:
            return DayForecast(point)
        levels = set.intersection(*(set(p.quantiles) for p in parts))
        quantiles = {q: np.mean([p.quantiles[q] for p in parts], axis=0) for q in sorted(levels)}
        return DayForecast(point, quantiles)
