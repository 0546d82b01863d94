"""Bidding and dispatch strategies of the backtest, by name.

A strategy decides two things, each through the same optimisation model (so every schedule is
physically feasible):

- ``da_price(view)``: the price curve (yuan/MWh) its day-ahead schedule is optimised against at the
  gate closure of D-1; the schedule is the quantity bid ``q_da`` (inside the fleet envelope by
  construction).
- ``rt_price(view)``: at the start of each period ``k`` of D, the price curve the rest of the day
  is re-optimised against; the assets carry out period ``k`` of that plan. ``None`` means the
  assets follow the day-ahead schedule exactly.

What a strategy may see is passed in :class:`DaView` and :class:`RtView`: the replay fills the
realised prices of the future only for ``look_ahead`` strategies (perfect foresight).

Built-in strategies:

``perfect_foresight`` (the upper bound)
    Knows the realised DA and RT prices of D. Revenue separates as
    ``sum_t q_da[t] (p_da[t] - p_rt[t]) + q_actual[t] p_rt[t]`` (times period hours), so the best
    bid inside the envelope is the feasible schedule that maximises the spread term (the DA
    schedule on the realised spread ``p_da - p_rt``), and the best dispatch is the schedule
    optimal on realised ``p_rt``. A DA schedule on realised ``p_da`` alone is NOT an upper bound
    (another strategy's bid can earn more on the spread), hence this choice. Only ``q_actual`` is
    carried out, so the bid is solved on the spread revenue alone (``financial_da``: no wear or
    other cost terms; its proven MIP gap is then a gap in revenue) and the dispatch on ``p_rt``
    with the costs of running the assets. With perfect
    foresight re-optimising each period returns the same plan, so the real-time loop re-solves
    only when the price curve changes: once per day.
``da_rt``
    Bids the DA-price forecast. In real time it re-optimises periods ``k..T-1`` at every period
    against an RT forecast (:func:`simulator.rt_forecasts.rt_forecast_spread_profile`): the day's
    realised DA price (published on D-1) plus the last observed RT-DA spread
    ``p_rt[k-1] - p_da[k-1]``, fading with a one-hour time constant into the mean spread of each
    time of day over the last 28 days. Realised RT prices up to ``k-1`` of D and of the days
    before only; the RT price of period ``k`` is not known when ``k`` starts. (Before issue 17's
    session 6 the spread faded to zero: :func:`simulator.rt_forecasts.rt_forecast_decaying_spread`;
    ``bench/RESULTS.md`` compares the two.)
``da_only``
    Bids the DA-price forecast and follows the day-ahead schedule exactly (no RT deviation).
``rule_based``
    The operators' baseline: batteries charge in the cheapest ``n_hours`` hours and discharge in
    the dearest ``n_hours`` hours of the forecast. It is solved through the same model on a
    rule-shaped price: the forecast's mean ``m`` everywhere, ``0.5 m`` in the cheapest and
    ``1.5 m`` in the dearest hours. Batteries then only charge cheap and discharge dear (as much
    as their limits allow), PV is not curtailed (the price is positive), other assets keep their
    baseline except where the same cheap/dear rule moves them. The assets follow this schedule.
``stochastic``
    Bids the two-stage stochastic quantity (:func:`simulator.bid_curves.stochastic_day_plan`):
    :data:`STOCHASTIC_SCENARIOS` scenarios bootstrapped (seed 0) from the backtest forecaster's
    DA and RT errors on past days (each forecast at its own gate closure), centred on its DA
    forecast, risk neutral. Real time
    as ``da_rt``. Against ``da_rt`` this isolates the value of the stochastic solution.
``stochastic_curve``
    As ``stochastic`` but submits the price-quantity curve (:mod:`simulator.bid_curves`); the market
    clears it at the realised DA price and the fleet delivers the cleared position (feasible for
    any clearing by construction). Real time as ``da_rt``.
``stochastic_cvar``
    As ``stochastic`` with the CVaR term: weight and level :data:`STOCHASTIC_CVAR` (risk averse).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from simulator.rt_forecasts import rt_forecast_spread_profile
from vpp.errors import InputError


@dataclass(frozen=True)
class DaView:
    """What a strategy knows at the day-ahead gate closure of D-1.

    Attributes
    ----------
    index : pd.DatetimeIndex
        Periods of day D.
    dt_h : np.ndarray
        Period lengths (h).
    forecast_da : np.ndarray
        Forecast of the DA price of D (yuan/MWh), from prices known before the gate closure.
    realised_da, realised_rt : np.ndarray or None
        Realised prices of D (yuan/MWh): only for look-ahead strategies.
    history : pd.DataFrame or None
        Realised prices with timestamps before the gate closure (for scenario strategies).
    clearing_da : np.ndarray or None
        DA clearing prices of D, only for ``clears_curve`` strategies and only to clear the curve
        they submitted (the market clears it after the gate closure).
    forecaster : callable or None
        ``day -> DA forecast`` of the backtest's forecaster, each made at that day's own gate
        closure (scenario strategies spread their scenarios by its past errors).
    """

    index: pd.DatetimeIndex
    dt_h: np.ndarray
    forecast_da: np.ndarray
    realised_da: np.ndarray | None = None
    realised_rt: np.ndarray | None = None
    history: pd.DataFrame | None = None
    clearing_da: np.ndarray | None = None
    forecaster: Callable[[Any], np.ndarray] | None = None


@dataclass(frozen=True)
class RtView:
    """What a strategy knows at the start of period ``k`` of day D.

    Attributes
    ----------
    index : pd.DatetimeIndex
        Periods of day D.
    dt_h : np.ndarray
        Period lengths (h).
    k : int
        The period about to start.
    realised_da : np.ndarray
        DA clearing prices of D (yuan/MWh), published on D-1.
    rt_so_far : np.ndarray
        Realised RT prices of periods ``0..k-1`` of D (yuan/MWh).
    realised_rt : np.ndarray or None
        All realised RT prices of D: only for look-ahead strategies.
    history : pd.DataFrame or None
        Realised ``da_price`` and ``rt_price`` (yuan/MWh) with timestamps before the start of D
        (index in the market zone): every earlier day is complete when D starts.
    """

    index: pd.DatetimeIndex
    dt_h: np.ndarray
    k: int
    realised_da: np.ndarray
    rt_so_far: np.ndarray
    realised_rt: np.ndarray | None = None
    history: pd.DataFrame | None = None


@dataclass(frozen=True)
class Strategy:
    """A named strategy (see the module docstring).

    Attributes
    ----------
    name : str
    description : str
    da_price : callable
        ``DaView -> price (yuan/MWh)`` for the day-ahead schedule.
    rt_price : callable or None
        ``RtView -> price (yuan/MWh)`` of the whole day for the real-time re-solve; None: follow
        the DA schedule.
    look_ahead : bool
        Sees realised prices (the upper bound only).
    resolve_tolerance_yuan_per_mwh : float
        Re-solve at period ``k`` only when the price curve of ``k..T-1`` moved by more than this
        since the last solve (else keep following the last plan); 0 re-solves every period that
        brings any change.
    da_plan : callable or None
        ``(DaView, DayModels, state) -> ScheduleResult``: the day-ahead schedule (its ``net_mw`` is
        the bid) when it is not the model solved at ``da_price`` (``stochastic``); its ``stats``
        say whether the plan was proven optimal (counted like every solve the strategy follows).
    clears_curve : bool
        Submits a price-quantity curve; its ``da_plan`` gets ``clearing_da`` to clear it.
    financial_da : bool
        The day-ahead schedule is a financial position only, never carried out (perfect
        foresight's bet on the DA-RT spread: its real-time leg is what the assets do). It is
        optimised on revenue alone, without the families' cost terms (wear, fuel, ...), which
        belong to the dispatch that is carried out.
    """

    name: str
    description: str
    da_price: Callable[[DaView], np.ndarray]
    rt_price: Callable[[RtView], np.ndarray] | None = None
    look_ahead: bool = False
    resolve_tolerance_yuan_per_mwh: float = 0.0
    da_plan: Callable[[DaView, Any, dict], Any] | None = None
    clears_curve: bool = False
    financial_da: bool = False


def within_market_bounds(price: np.ndarray, market: Any) -> np.ndarray:
    """``price`` (per MWh) clipped to the market's clearing bounds ``[clear_price_floor, clear_price_cap]``.

    A forecast outside them is a price the market cannot clear (``da_rt``'s DA plus a decaying
    spread went below a floor of 0); every forecast a strategy bids or re-dispatches on is clipped.
    Perfect foresight's price is a realised spread, not a price, and is not clipped.
    """
    return market.within_clearing_bounds(price)


RULE_HOURS = 4.0
"""Hours of cheapest charging and dearest discharging of ``rule_based``."""


def _spread_da(view: DaView) -> np.ndarray:
    assert view.realised_da is not None and view.realised_rt is not None
    return view.realised_da - view.realised_rt


def _realised_rt(view: RtView) -> np.ndarray:
    assert view.realised_rt is not None
    return view.realised_rt


def _forecast(view: DaView) -> np.ndarray:
    return view.forecast_da


STOCHASTIC_SCENARIOS = 10
"""Price scenarios of the ``stochastic`` strategy."""


STOCHASTIC_CVAR = (0.5, 0.9)
"""CVaR weight and confidence level of ``stochastic_cvar``."""


def stochastic_plan(
    view: DaView, models: Any, state: dict, mode: str = "quantity", cvar: tuple[float, float] = (0.0, 0.95)
) -> Any:
    """Day-ahead schedule of the ``stochastic`` strategies (see the module docstring)."""
    from simulator.bid_curves import stochastic_day_plan

    assert view.history is not None
    day = view.index[0].tz_convert(models.loaded.market.timezone).date()
    result, schedule = stochastic_day_plan(
        models.loaded, day, view.forecast_da, view.history, state, n_scenarios=STOCHASTIC_SCENARIOS,
        mode=mode, clearing_da=view.clearing_da, cvar_weight=cvar[0], cvar_alpha=cvar[1],
        options=models.options, forecast=view.forecaster or "persistence",
    )
    if result.status == "optimal":
        return schedule
    # the bid is the stochastic solve's: its schedule says how that solve ended when it was not
    # proven optimal (the pinned LP's own objective and bound are kept)
    stats = replace(
        schedule.stats, status=result.status, termination=result.termination, mip_gap=result.mip_gap
    )
    return replace(schedule, stats=stats)


def rule_price(forecast: np.ndarray, dt_h: np.ndarray, hours: float = RULE_HOURS) -> np.ndarray:
    """Rule-shaped price: ``m`` everywhere, ``0.5 m`` in the cheapest and ``1.5 m`` in the dearest
    ``hours`` of ``forecast`` (``m`` = mean of |forecast|, at least 1 yuan/MWh).

    Parameters
    ----------
    forecast : np.ndarray
        Forecast prices (yuan/MWh).
    dt_h : np.ndarray
        Period lengths (h).
    hours : float
        Hours of charging and of discharging.
    """
    n = max(1, min(len(forecast) // 2, round(hours / float(np.median(dt_h)))))
    order = np.argsort(forecast, kind="stable")
    level = max(float(np.mean(np.abs(forecast))), 1.0)
    price = np.full(len(forecast), level)
    price[order[:n]] = 0.5 * level
    price[order[-n:]] = 1.5 * level
    return price


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy(
            "perfect_foresight",
            "upper bound: bid on the realised DA-RT spread, dispatch on realised RT prices",
            _spread_da,
            _realised_rt,
            look_ahead=True,
            financial_da=True,
        ),
        Strategy(
            "da_rt",
            "bid the DA forecast; re-optimise the rest of the day every period on DA + the last RT spread "
            "fading into the 28-day mean spread of the time of day",
            _forecast,
            rt_forecast_spread_profile,
        ),
        Strategy("da_only", "bid the DA forecast and follow the DA schedule", _forecast),
        Strategy(
            "rule_based",
            f"charge in the cheapest {RULE_HOURS:g} h and discharge in the dearest {RULE_HOURS:g} h "
            "of the forecast",
            lambda view: rule_price(view.forecast_da, view.dt_h),
        ),
        Strategy(
            "stochastic",
            "bid the two-stage stochastic quantity over price scenarios; re-optimise in real time as da_rt",
            _forecast,
            rt_forecast_spread_profile,
            da_plan=stochastic_plan,
        ),
        Strategy(
            "stochastic_curve",
            "bid a price-quantity curve from the stochastic model; deliver what clears; real time as da_rt",
            _forecast,
            rt_forecast_spread_profile,
            da_plan=lambda view, models, state: stochastic_plan(view, models, state, "price_quantity"),
            clears_curve=True,
        ),
        Strategy(
            "stochastic_cvar",
            f"as stochastic, risk averse: CVaR weight {STOCHASTIC_CVAR[0]:g} at alpha {STOCHASTIC_CVAR[1]:g}",
            _forecast,
            rt_forecast_spread_profile,
            da_plan=lambda view, models, state: stochastic_plan(view, models, state, cvar=STOCHASTIC_CVAR),
        ),
    )
}
"""Registry: strategy name -> :class:`Strategy`."""


def get_strategies(names: list[str] | str) -> list[Strategy]:
    """Strategies by name (a list, or a comma-separated string), in the given order.

    Raises
    ------
    InputError
        An unknown or repeated name, or no name at all.
    """
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    if not names:
        raise InputError("give at least one strategy", field="--strategy")
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        raise InputError(
            f"unknown strategy '{unknown[0]}'; known: {', '.join(STRATEGIES)}", field="--strategy"
        )
    if len(set(names)) != len(names):
        raise InputError("a strategy is listed twice", field="--strategy")
    return [STRATEGIES[n] for n in names]
