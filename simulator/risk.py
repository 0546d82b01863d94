"""Risk figures of a backtest: the spread of daily revenue, and the value of the stochastic solution.

Per strategy, from its settlement (yuan)::

    daily revenue R_d = sum of revenue[t] over the periods of trading day d
    daily_revenue_std_yuan   = sample standard deviation of R_d
    daily_revenue_min_yuan   = min_d R_d                      (worst day)
    daily_revenue_cvar90_yuan = mean of the worst ceil(10 %) of days (at least one)

and, for every ``stochastic*`` strategy run beside ``da_rt`` (same forecast, same real-time
re-dispatch, only the day-ahead bid differs), the realised value of the stochastic solution::

    value_of_stochastic_solution_yuan = total revenue(stochastic*) - total revenue(da_rt)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.metrics import daily_revenue


def daily_risk(daily: pd.Series) -> dict[str, float]:
    """Mean, standard deviation, worst day and CVaR 90 % of daily revenues (yuan)."""
    values = np.sort(daily.to_numpy(dtype=float))
    worst = values[: max(1, int(np.ceil(0.1 * len(values))))]
    return {
        "daily_revenue_mean_yuan": round(float(values.mean()), 2),
        "daily_revenue_std_yuan": round(float(values.std(ddof=1)) if len(values) > 1 else 0.0, 2),
        "daily_revenue_min_yuan": round(float(values[0]), 2),
        "daily_revenue_cvar90_yuan": round(float(worst.mean()), 2),
    }


def add_risk_figures(blocks: dict[str, dict], settlements: dict[str, pd.DataFrame], tz: str) -> None:
    """Add :func:`daily_risk` to every strategy block and the VSS to the ``stochastic*`` blocks."""
    for name, block in blocks.items():
        block.update(daily_risk(daily_revenue(settlements[name], tz)))
    if "da_rt" not in settlements:
        return
    deterministic = float(settlements["da_rt"]["revenue"].sum())
    for name, block in blocks.items():
        if name.startswith("stochastic"):
            revenue = float(settlements[name]["revenue"].sum())
            block["value_of_stochastic_solution_yuan"] = round(revenue - deterministic, 2)
