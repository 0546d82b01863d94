"""The day loop of a backtest: bid at the gate closure, re-dispatch in real time, carry the state.

For each trading day D and each strategy:

1. At the DA gate closure of D-1 (:func:`market.calendar.gate_closure`) the DA price of D is
   forecast from what is known at the closure only (:mod:`simulator.forecasts`,
   :mod:`market.forecasting.information`).
   The strategy's day-ahead schedule (:func:`simulator.day_ahead.day_problem`, solved on the shared
   :class:`simulator.day_model.DayModels`) is its bid ``q_da``. It starts from the state the
   strategy planned for the end of D-1 (its D-1 day-ahead schedule, known at that time): the real
   end state of D-1 depends on real-time prices after the closure. Look-ahead strategies start
   from the real state.
2. For each period ``k`` of D the strategy either follows its DA schedule or re-optimises periods
   ``k..T-1`` from the measured state (persistent re-solve, no rebuild); the assets carry out the
   FIRST period of that plan, and the state after it is read from the plan.
3. The state at the end of D is the initial state of D+1 (daily counters reset).

Settlement of what the assets did is done afterwards at realised prices (:mod:`simulator.metrics`).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rich.progress import Progress

from market.calendar import gate_closure, period_hours, trading_day_index
from market.price_days import prices_for_day
from optimizer.solver import SolveOptions
from simulator.day_model import DayModels, row_of
from simulator.forecasts import DEFAULT_FORECASTER, DayForecaster, known_before
from simulator.recorder import StrategyRecord
from simulator.state import State, advance, start_of_day, state_at_end
from simulator.strategies import DaView, RtView, Strategy, within_market_bounds
from vpp.portfolio_io import LoadedPortfolio


@dataclass
class StrategyState:
    """What one strategy carries from day to day: real and planned asset state."""

    actual: State = field(default_factory=dict)
    planned: State = field(default_factory=dict)
    end_states: list[State] = field(default_factory=list)
    start_states: list[State] = field(default_factory=list)


@dataclass
class BacktestRun:
    """Raw outcome of :func:`replay`.

    Attributes
    ----------
    days : list of datetime.date
    records : dict[str, StrategyRecord]
        Per strategy name, the per-period records.
    states : dict[str, StrategyState]
        Per strategy, start and end state of each day.
    forecast : str
        The DA forecast used.
    seconds : float
        Wall time of the loop (s).
    builds, solves : int
        Models built and HiGHS solves.
    skips : int
        Real-time re-solves skipped because the last plan was still optimal (``skip_resolves``).
    highs_seconds : float
        Time inside HiGHS over all solves (s).
    """

    days: list[dt.date]
    records: dict[str, StrategyRecord]
    states: dict[str, StrategyState]
    forecast: str
    seconds: float
    builds: int
    solves: int
    highs_seconds: float = 0.0
    skips: int = 0


def replay(
    loaded: LoadedPortfolio,
    prices: pd.DataFrame,
    days: Iterable[dt.date],
    strategies: list[Strategy],
    *,
    forecast: str = DEFAULT_FORECASTER,
    options: SolveOptions | None = None,
    progress: bool | None = None,
    initial_state: State | None = None,
    resolve_tolerance_yuan_per_mwh: float | None = None,
    on_day: Callable[[dt.date], None] | None = None,
    features: pd.DataFrame | None = None,
    day_forecaster: DayForecaster | None = None,
    skip_resolves: bool = False,
) -> BacktestRun:
    """Replay ``days`` for every strategy.

    Parameters
    ----------
    loaded : LoadedPortfolio
        The portfolio.
    prices : pd.DataFrame
        Realised ``da_price`` and ``rt_price`` (yuan/MWh), index ``timestamp`` (market zone),
        covering the days and the history the forecast needs.
    days : iterable of datetime.date
        Trading days, in order.
    strategies : list of Strategy
        Strategies to run (see :mod:`simulator.strategies`).
    forecast : str
        DA price forecaster name (see :mod:`simulator.forecasts`).
    options : SolveOptions, optional
        HiGHS settings.
    progress : bool, optional
        Show a rich progress bar over days; default: only when stderr is a terminal.
    initial_state : State, optional
        State at the start of the first day (default: the portfolio's).
    resolve_tolerance_yuan_per_mwh : float, optional
        Overrides every strategy's re-solve tolerance (see :class:`Strategy`).
    on_day : callable, optional
        Called with each trading day once it is replayed for every strategy (progress of API
        jobs and parallel runs).
    features : pd.DataFrame, optional
        Exogenous columns of a separate feature file for the forecaster.
    day_forecaster : DayForecaster, optional
        The forecaster ``forecast`` already walked by another replay of the same days (its
        forecasts are memoised); default a new one.
    skip_resolves : bool
        Before a real-time re-solve, check whether the last plan is still optimal at the new
        prices (:meth:`simulator.day_model.DayModels.keeps_plan`: the kept LP basis at the new
        costs, exact; a MIP is always re-solved) and follow it when it is. Every period then
        carries out an optimum of its re-solve, as without the check; among tied optima it may
        be another one than a fresh solve would return (``bench/RESULTS.md`` measured what that
        changes in yuan).
    """
    days = list(days)
    market = loaded.market
    # one model per strategy: the binaries a model gains (optimizer.exclusive) depend on what it
    # solved before, and a strategy's results must not depend on which strategies ran beside it
    models = {s.name: DayModels(loaded, options) for s in strategies}
    records = {s.name: StrategyRecord(s.name) for s in strategies}
    states = {s.name: StrategyState(dict(initial_state or {}), dict(initial_state or {})) for s in strategies}
    forecaster = day_forecaster or DayForecaster(forecast, prices, market, "da_price", features)
    show = sys.stderr.isatty() if progress is None else progress
    realised_prices = prices[["da_price", "rt_price"]]
    rt_learns = any(s.rt_price is not None and not s.look_ahead for s in strategies)
    start = time.perf_counter()
    with Progress(disable=not show, transient=True) as bar:
        task = bar.add_task("backtest", total=len(days))
        for day in days:
            index = trading_day_index(market, day)
            dt_h = period_hours(index, market)
            realised = prices_for_day(prices, market, day)
            p_da = realised["da_price"].to_numpy(dtype=float)
            p_rt = realised["rt_price"].to_numpy(dtype=float)
            closure = gate_closure(market, day)
            forecast_da = forecaster.point(day)
            history = known_before(prices, closure) if any(s.da_plan for s in strategies) else None
            # every day before D is complete when D starts: what a real-time forecast may learn from
            rt_history = known_before(realised_prices, index[0]) if rt_learns else None
            for strategy in strategies:
                _run_day(
                    models[strategy.name], day, index, dt_h, strategy, states[strategy.name],
                    records[strategy.name], forecast_da, p_da, p_rt, resolve_tolerance_yuan_per_mwh, history,
                    forecaster, skip_resolves, rt_history,
                )
            bar.update(task, advance=1, description=f"backtest {day}")
            if on_day is not None:
                on_day(day)
    return BacktestRun(
        days=days,
        records=records,
        states=states,
        forecast=forecast,
        seconds=time.perf_counter() - start,
        builds=sum(m.builds for m in models.values()),
        solves=sum(m.solves for m in models.values()),
        highs_seconds=sum(m.highs_seconds for m in models.values()),
        skips=sum(m.skips for m in models.values()),
    )


def _run_day(
    models: DayModels,
    day: dt.date,
    index: pd.DatetimeIndex,
    dt_h: np.ndarray,
    strategy: Strategy,
    carried: StrategyState,
    record: StrategyRecord,
    forecast_da: np.ndarray,
    p_da: np.ndarray,
    p_rt: np.ndarray,
    tolerance: float | None,
    history: pd.DataFrame | None = None,
    forecaster: DayForecaster | None = None,
    skip_resolves: bool = False,
    rt_history: pd.DataFrame | None = None,
) -> None:
    look = strategy.look_ahead
    da_view = DaView(index, dt_h, forecast_da, p_da if look else None, p_rt if look else None, history,
                     p_da if strategy.clears_curve else None,
                     forecaster.point if forecaster is not None else None)
    da_state = carried.actual if look else carried.planned
    if strategy.da_plan is not None:  # a schedule not solved at one price curve (stochastic)
        plan = strategy.da_plan(da_view, models, da_state)
        record.solved(plan)
    else:
        price = _price(strategy.da_price(da_view), models, look)
        plan = models.solve_arrays(day, price, da_state, 0, proven=look, revenue_only=strategy.financial_da)
        record.solved(plan)
    carried.planned = start_of_day(state_at_end(plan, da_state))
    state = carried.actual
    carried.start_states.append(state)
    if strategy.rt_price is None:
        # Follow the DA schedule: it starts from the planned state, which is the real one for a
        # strategy that always follows its schedule.
        for k, timestamp in enumerate(index):
            record.period(plan, k, timestamp, resolved=False)
            state = advance(plan, k, state)
    else:
        tol = strategy.resolve_tolerance_yuan_per_mwh if tolerance is None else tolerance
        current, solved_price = None, None
        for k, timestamp in enumerate(index):
            view = RtView(index, dt_h, k, p_da, p_rt[:k], p_rt if look else None, rt_history)
            price = _price(strategy.rt_price(view), models, look)
            changed = current is None or np.max(np.abs(price[k:] - solved_price[k:])) > tol
            resolved = changed and not (skip_resolves and models.keeps_plan(day, price, k))
            if resolved:
                current = models.solve_arrays(day, price, state, k, proven=look)
                record.solved(current)
            if changed:  # re-solved, or the plan is an optimum at this price too
                solved_price = price
            row = row_of(current, timestamp)
            record.period(current, row, timestamp, resolved=bool(resolved))
            state = advance(current, row, state)
            models.carry_out(k)
    carried.end_states.append(state)
    carried.actual = start_of_day(state)
    record.end_day(plan, forecast_da, p_da, p_rt)


def merge_runs(runs: Sequence[BacktestRun], seconds: float | None = None) -> BacktestRun:
    """One :class:`BacktestRun` from per-strategy runs over the same days (records in run order).

    ``builds``, ``solves`` and ``highs_seconds`` are summed; ``seconds`` is the wall time given
    (default: the sum of the runs' times).
    """
    if not runs:
        raise ValueError("no runs to merge")
    records, states = {}, {}
    for run in runs:
        if run.days != runs[0].days or run.forecast != runs[0].forecast:
            raise ValueError("runs over different days or forecasts cannot be merged")
        records.update(run.records)
        states.update(run.states)
    return BacktestRun(
        days=list(runs[0].days),
        records=records,
        states=states,
        forecast=runs[0].forecast,
        seconds=sum(r.seconds for r in runs) if seconds is None else seconds,
        builds=sum(r.builds for r in runs),
        solves=sum(r.solves for r in runs),
        highs_seconds=sum(getattr(r, "highs_seconds", 0.0) for r in runs),
        skips=sum(getattr(r, "skips", 0) for r in runs),
    )


def _price(price: np.ndarray, models: DayModels, look_ahead: bool) -> np.ndarray:
    """A strategy's price curve: a forecast is clipped to the market's bounds, perfect foresight's not."""
    price = np.asarray(price, dtype=float)
    return price if look_ahead else within_market_bounds(price, models.loaded.market)
