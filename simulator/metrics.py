"""Settlement of what the assets did, and the figures of a backtest.

Settlement uses :func:`market.settlement.settle_periods` at realised prices, per period::

    revenue[t] = q_da[t] p_da[t] + (q_actual[t] - q_da[t]) p_rt[t] + q_contract[t] (p_contract - p_da[t])
                 - penalty[t]

with ``q = MW x period hours`` (MWh, export positive) and the contract of the portfolio, if any.

Figures (yuan, MWh, yuan/MWh):

- ``passive_revenue``: the revenue of the portfolio with no flexibility used, its envelope
  baseline bid in DA and delivered exactly (:mod:`simulator.passive`);
- ``value_over_passive_yuan = total_revenue - passive_revenue``;
- ``capture_ratio = (total_revenue - passive) / (perfect_foresight_revenue - passive)``: the share
  of the value flexibility can add that the strategy earned (1 = the bound, 0 = no better than
  staying passive, negative = worse). Meaningful for a net consumer too, whose revenues are all
  negative. None when the denominator is below :data:`MIN_SPAN_YUAN`;
- ``yuan_per_mwh = total_revenue / (energy_export + energy_import)``: revenue per MWh that
  crossed the meter;
- forecast errors of the DA forecast against the realised DA price: ``mae``, ``rmse``,
  ``bias`` (mean of forecast - realised; positive = forecast too high).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from market.settlement import settle_periods
from vpp.portfolio_io import LoadedPortfolio

MIN_SPAN_YUAN = 0.01
"""Smallest ``perfect_foresight - passive`` (yuan) for which a capture ratio is reported."""


def settle(fleet: pd.DataFrame, loaded: LoadedPortfolio) -> pd.DataFrame:
    """Settle a strategy's fleet rows (``bid_mw``, ``actual_mw``, ``dt_h``, ``p_da``, ``p_rt``).

    Returns
    -------
    pd.DataFrame
        The columns of :data:`market.settlement.SETTLEMENT_COLUMNS`, index ``timestamp``.
    """
    dt_h = fleet["dt_h"]
    q_da = (fleet["bid_mw"] * dt_h).rename("q_da_mwh")
    q_actual = (fleet["actual_mw"] * dt_h).rename("q_actual_mwh")
    rules = loaded.market.settlement
    contract = loaded.portfolio.contract
    band = rules.deviation_penalty_band_frac
    kwargs: dict = {}
    if contract is not None:
        quantity = np.asarray(contract.quantity_mw, dtype=float)
        if quantity.ndim == 0:
            q_mw = np.full(len(fleet), float(quantity))
        else:  # one value per period of each day
            per_day = len(quantity)
            whole_days = len(fleet) % per_day == 0
            q_mw = np.resize(quantity, len(fleet)) if whole_days else np.full(len(fleet), quantity.mean())
        kwargs = {
            "q_contract_mwh": pd.Series(q_mw * dt_h.to_numpy(), index=fleet.index),
            "p_contract": float(contract.price_yuan_per_mwh),
        }
    return settle_periods(
        q_da,
        q_actual,
        fleet["p_da"],
        fleet["p_rt"],
        penalty_band_frac=band,
        penalty_price=rules.deviation_penalty_price_yuan_per_mwh if band is not None else 0.0,
        contract_reference=rules.contract_reference_price,
        **kwargs,
    )


def forecast_errors(forecast: np.ndarray | pd.Series, realised: np.ndarray | pd.Series) -> dict[str, float]:
    """MAE, RMSE and bias of ``forecast`` against ``realised`` (yuan/MWh)."""
    error = np.asarray(forecast, dtype=float) - np.asarray(realised, dtype=float)
    return {
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "bias": float(np.mean(error)),
    }


def strategy_summary(
    settlement: pd.DataFrame, bound_yuan: float | None, passive_yuan: float = 0.0
) -> dict[str, float | None]:
    """Totals of one strategy's settlement (yuan, MWh) with its capture ratio.

    Parameters
    ----------
    settlement : pd.DataFrame
        The strategy's settlement per period (:func:`settle`).
    bound_yuan : float or None
        Perfect-foresight revenue over the same periods (yuan).
    passive_yuan : float
        Revenue of the passive position over the same periods (yuan).
    """
    q = settlement["q_actual_mwh"]
    export = float(q.clip(lower=0).sum())
    imported = float(-q.clip(upper=0).sum())
    total = float(settlement["revenue"].sum())
    return {
        "total_revenue_yuan": round(total, 2),
        "da_revenue_yuan": round(float(settlement["da_revenue"].sum()), 2),
        "rt_revenue_yuan": round(float(settlement["rt_revenue"].sum()), 2),
        "contract_revenue_yuan": round(float(settlement["contract_revenue"].sum()), 2),
        "penalty_yuan": round(float(settlement["penalty"].sum()), 2),
        "energy_export_mwh": round(export, 6),
        "energy_import_mwh": round(imported, 6),
        "capture_ratio": capture_ratio(total, bound_yuan, passive_yuan),
        "value_over_passive_yuan": round(total - passive_yuan, 2),
        "yuan_per_mwh": round(total / (export + imported), 4) if export + imported > 0 else None,
    }


def capture_ratio(revenue_yuan: float, bound_yuan: float | None, passive_yuan: float = 0.0) -> float | None:
    """``(revenue - passive) / (bound - passive)`` (yuan / yuan).

    None when the bound is missing or ``bound - passive`` is below :data:`MIN_SPAN_YUAN` (no
    flexibility value to capture, or a bound below the passive position).
    """
    if bound_yuan is None:
        return None
    span = float(bound_yuan) - float(passive_yuan)
    if span < MIN_SPAN_YUAN:
        return None
    return round((float(revenue_yuan) - float(passive_yuan)) / span, 6)


def daily_revenue(settlement: pd.DataFrame, tz: str) -> pd.Series:
    """Revenue per trading day (yuan), by the local date of each period start."""
    local = settlement.index.tz_convert(tz)
    return settlement["revenue"].groupby(local.date).sum()
