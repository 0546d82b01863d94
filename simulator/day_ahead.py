"""The day-ahead pipeline: portfolio + price forecast for day D -> optimal schedule -> quantity bid.

Shared by ``vpp bid``, the backtest simulator and the scheduled service, so all of them run the
same code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from market.calendar import period_hours, trading_day_index
from market.price_days import prices_for_day
from optimizer.problem import Problem, prepare_problem
from optimizer.result import ScheduleResult
from optimizer.solver import ModelSolver, SolveOptions
from vpp.errors import InputError
from vpp.portfolio_io import LoadedPortfolio
from vpp.profile_refs import profile_resolver


@dataclass(frozen=True)
class DayAheadPlan:
    """The optimal day-ahead schedule of the fleet and the quantity bid derived from it.

    Attributes
    ----------
    day : datetime.date
        The trading day.
    result : ScheduleResult
        Fleet and per-asset schedules, states, objective by term and solver statistics.
    bid_mw : pd.Series
        Quantity-only bid: net export per period (MW, positive = to the grid), index ``timestamp``.
    """

    day: dt.date
    result: ScheduleResult
    bid_mw: pd.Series

    @property
    def expected_revenue_yuan(self) -> float:
        """Revenue of the schedule at the forecast prices, before costs (yuan)."""
        return self.result.terms_yuan["revenue"]


def day_problem(
    loaded: LoadedPortfolio,
    day: dt.date,
    price_yuan_per_mwh: np.ndarray | pd.Series,
    *,
    initial_state: dict[str, dict[str, float]] | None = None,
) -> Problem:
    """Prepare the optimisation problem of one trading day.

    Parameters
    ----------
    loaded : LoadedPortfolio
        The portfolio with its profiles and market.
    day : datetime.date
        Trading day, in the market's zone.
    price_yuan_per_mwh : array-like
        One price per period of the day (yuan/MWh).
    initial_state : dict, optional
        Per asset id, state overrides (``soc_mwh``, ``temperature_c``, ...).
    """
    index = trading_day_index(loaded.market, day)
    return prepare_problem(
        loaded.portfolio,
        index,
        np.asarray(price_yuan_per_mwh, dtype=float),
        profile_resolver(loaded, index),
        dt_h=period_hours(index, loaded.market),
        initial_state=initial_state,
    )


def plan_day_ahead(
    loaded: LoadedPortfolio,
    prices: pd.DataFrame,
    day: dt.date,
    *,
    price_column: str = "da_price",
    options: SolveOptions | None = None,
    initial_state: dict[str, dict[str, float]] | None = None,
) -> DayAheadPlan:
    """Solve day ``day`` against the ``price_column`` of ``prices`` and derive the bid.

    Parameters
    ----------
    loaded : LoadedPortfolio
        The portfolio.
    prices : pd.DataFrame
        Price frame as read by :func:`market.prices.read_prices` (yuan/MWh).
    day : datetime.date
        Trading day.
    price_column : str
        Column of ``prices`` to optimise against (a forecast of the day-ahead price).
    options : SolveOptions, optional
        HiGHS settings.
    initial_state : dict, optional
        Per asset id, state overrides.
    """
    day_prices = prices_for_day(prices, loaded.market, day)
    if price_column not in day_prices.columns:
        raise InputError(
            f"the price data has no column '{price_column}' (columns: {', '.join(day_prices.columns)})",
            field=price_column,
        )
    problem = day_problem(loaded, day, day_prices[price_column].to_numpy(), initial_state=initial_state)
    result = ModelSolver(problem, options).solve()
    bid = result.net_mw.round(6).rename("net_mw")
    return DayAheadPlan(day=day, result=result, bid_mw=bid)
