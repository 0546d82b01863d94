"""Price-quantity bid curves from the two-stage model, and the dispatch that honours any clearing.

Method (state it, then test it):

1. Solve :func:`optimizer.stochastic.solve_stochastic` in ``price_quantity`` mode. It returns per
   period a deliverable box ``[L[t], H[t]]`` (MW) and scenario positions ``q[s,t]`` inside it that
   do not decrease with the scenario's DA price.
2. Per period, the points ``(p_da[s,t], q[s,t])`` sorted by price are made monotone by a weighted
   isotonic projection (pool adjacent violators; a guard against solver noise), clipped to
   ``[L[t], H[t]]`` and turned into steps: level ``k`` applies from the midpoint between the last
   price of level ``k-1`` and the first of level ``k``; the first step starts at the bid floor.
   More than ``max_bid_segments`` levels are merged pairwise (the adjacent pair whose weighted
   merge moves the positions least) into their weighted mean, which stays monotone and in the box.
   Prices are rounded to 0.01 yuan/MWh and clipped to ``[bid_price_floor, bid_price_cap]``.
3. Feasibility across periods: every position of the curve lies in ``[L[t], H[t]]``, and ANY vector
   ``x`` in the box ``prod_t [L[t], H[t]]`` is delivered by the per-asset dispatch
   ``lam[t] lo[a,t] + (1-lam[t]) hi[a,t]`` (:func:`split_cleared`; the proof is in
   :mod:`optimizer.stochastic`). So whatever prices clear, in whatever combination across periods,
   the cleared quantities can be honoured. Tests check it by pinning the deterministic model's fleet
   net to curves cleared at random prices (:func:`pinned_schedule`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd

from market.bids import PriceQuantityBid
from market.calendar import gate_closure, trading_day_index
from market.forecasting.base import Forecaster
from market.presets import MarketSpec
from market.price_days import prices_for_day
from market.scenarios import generate_scenarios
from optimizer.pinned import pinned_schedule
from optimizer.problem import Problem
from optimizer.result import ScheduleResult
from optimizer.solver import SolveOptions
from optimizer.stochastic import StochasticOptions, StochasticResult, solve_stochastic
from simulator.day_ahead import day_problem
from vpp.errors import InputError
from vpp.portfolio_io import LoadedPortfolio

PRICE_TICK = 0.01
"""Rounding of segment prices (yuan/MWh)."""


def isotonic(values: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Weighted least-squares non-decreasing fit (pool adjacent violators).

    ``argmin_y sum_i w_i (y_i - v_i)^2`` s.t. ``y_1 <= ... <= y_n``.
    """
    v = np.asarray(values, dtype=float)
    w = np.ones_like(v) if weight is None else np.maximum(np.asarray(weight, dtype=float), 1e-12)
    blocks: list[list[float]] = []  # [mean, weight, count]
    for x, wx in zip(v, w, strict=True):
        blocks.append([x, wx, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    return np.concatenate([np.full(int(c), m) for m, _, c in blocks])


def period_steps(
    price: np.ndarray,
    position: np.ndarray,
    weight: np.ndarray,
    lo: float,
    hi: float,
    market: MarketSpec,
) -> tuple[np.ndarray, np.ndarray]:
    """One period's step curve: (segment start prices, positions), both (K,), K <= max segments.

    Parameters
    ----------
    price : np.ndarray
        Scenario DA prices of the period (yuan/MWh), (S,).
    position : np.ndarray
        Scenario positions (MW), (S,).
    weight : np.ndarray
        Scenario probabilities, (S,).
    lo, hi : float
        The deliverable box of the period (MW).
    market : MarketSpec
        Bounds and the segment limit.
    """
    order = np.argsort(price, kind="stable")
    p, w = np.asarray(price, float)[order], np.asarray(weight, float)[order]
    q = np.clip(isotonic(np.asarray(position, float)[order], w), lo, hi)
    # Levels: runs of (almost) equal positions -> [first price, last price, mean, weight].
    levels: list[list[float]] = []
    for pi, qi, wi in zip(p, q, w, strict=True):
        if levels and abs(qi - levels[-1][2]) <= 1e-7:
            levels[-1][1] = pi
            levels[-1][3] += wi
        else:
            levels.append([pi, pi, qi, wi])
    while len(levels) > market.max_bid_segments:
        cost = [a[3] * b[3] / (a[3] + b[3]) * (a[2] - b[2]) ** 2 for a, b in itertools.pairwise(levels)]
        k = int(np.argmin(cost))
        a, b = levels[k], levels[k + 1]
        merged = [a[0], b[1], (a[2] * a[3] + b[2] * b[3]) / max(a[3] + b[3], 1e-12), a[3] + b[3]]
        levels[k : k + 2] = [merged]
    floor, cap = float(market.bid_price_floor), float(market.bid_price_cap)
    starts = [floor]
    for prev, cur in itertools.pairwise(levels):
        middle = np.round(0.5 * (prev[1] + cur[0]) / PRICE_TICK) * PRICE_TICK
        starts.append(float(np.clip(middle, floor, cap)))
    quantities = [lvl[2] for lvl in levels]
    # Rounding or clipping may make two starts equal: keep the higher position from that price on.
    out_p, out_q = [starts[0]], [quantities[0]]
    for sp, sq in zip(starts[1:], quantities[1:], strict=True):
        if sp <= out_p[-1] + 1e-12:
            out_q[-1] = sq
        else:
            out_p.append(sp)
            out_q.append(sq)
    return np.asarray(out_p), np.asarray(out_q)


def derive_bid_curve(result: StochasticResult, market: MarketSpec, day: dt.date) -> PriceQuantityBid:
    """The price-quantity bid of a ``price_quantity`` stochastic solution (module docstring)."""
    sc = result.scenarios
    rows = []
    for t, ts in enumerate(sc.index):
        prices, positions = period_steps(
            sc.da[:, t], result.q_da_mw[:, t], sc.weight, result.lo_mw[t], result.hi_mw[t], market
        )
        for k, (p, q) in enumerate(zip(prices, positions, strict=True)):
            rows.append((ts, k + 1, float(p), float(q)))
    frame = pd.DataFrame(rows, columns=["timestamp", "segment", "price_yuan_per_mwh", "net_mw"])
    return PriceQuantityBid(market=market, day=day, segments=frame)


def split_cleared(result: StochasticResult, cleared_mw: np.ndarray) -> pd.DataFrame:
    """Per-asset net export (MW) that delivers the fleet position ``cleared_mw`` (T,).

    ``u[a,t] = lam[t] lo[a,t] + (1 - lam[t]) hi[a,t]``, ``lam[t] = (H[t] - x[t]) / (H[t] - L[t])``
    (``lam = 1`` where ``H = L``). Positions outside the box are clipped to it first.

    Returns
    -------
    pd.DataFrame
        Index ``timestamp``, one column per asset id.
    """
    lo, hi = result.lo_mw, result.hi_mw
    x = np.clip(np.asarray(cleared_mw, dtype=float), lo, hi)
    width = hi - lo
    lam = np.where(width > 1e-12, (hi - x) / np.where(width > 1e-12, width, 1.0), 1.0)
    columns = {a: lam * result.asset_lo_mw[a] + (1 - lam) * result.asset_hi_mw[a] for a in result.asset_lo_mw}
    return pd.DataFrame(columns, index=result.scenarios.index)


def plan_price_quantity(
    loaded: LoadedPortfolio,
    prices: pd.DataFrame,
    day: dt.date,
    *,
    n_scenarios: int = 20,
    seed: int | None = 0,
    cvar_weight: float = 0.0,
    cvar_alpha: float = 0.95,
    method: str = "bootstrap",
    price_column: str = "da_price",
    options: SolveOptions | None = None,
) -> tuple[StochasticResult, PriceQuantityBid, Problem]:
    """Scenarios at the gate closure of ``day`` -> two-stage model -> price-quantity bid.

    The scenarios are centred on the ``price_column`` of ``day`` in ``prices`` (the same forecast
    the quantity-only bid optimises against) and spread by the persistence forecaster's DA and RT
    errors over the days before the gate closure (:mod:`market.scenarios`).

    Returns
    -------
    (result, bid, problem)
        The stochastic solution, the bid, and the day's problem (for feasibility checks).
    """
    market = loaded.market
    index = trading_day_index(market, day)
    center = prices_for_day(prices, market, day)[price_column].to_numpy(dtype=float)
    history = prices.loc[prices.index < gate_closure(market, day)]
    scenarios = generate_scenarios(
        history, index, n_scenarios, seed=seed, method=method, center=center, market=market,
        price_bounds=(market.clear_price_floor, market.clear_price_cap),
    )
    # Battery binaries exist only for negative prices; the two-stage model is an LP.
    problem = day_problem(loaded, day, np.maximum(center, 0.0))
    try:
        opts = StochasticOptions(
            mode="price_quantity", cvar_weight=cvar_weight, cvar_alpha=cvar_alpha,
            solve=options or SolveOptions(),
        )
    except ValueError as exc:
        raise InputError(str(exc), field="--cvar-weight / --cvar-alpha") from None
    result = solve_stochastic(problem, scenarios, opts)
    return result, derive_bid_curve(result, market, day), problem


def stochastic_day_plan(
    loaded: LoadedPortfolio,
    day: dt.date,
    center: np.ndarray,
    history: pd.DataFrame,
    initial_state: dict[str, dict[str, float]] | None = None,
    *,
    n_scenarios: int = 10,
    seed: int | None = 0,
    cvar_weight: float = 0.0,
    cvar_alpha: float = 0.95,
    mode: str = "quantity",
    clearing_da: np.ndarray | None = None,
    options: SolveOptions | None = None,
    forecast: str | Forecaster | Callable[[dt.date], np.ndarray] = "persistence",
) -> tuple[StochasticResult, ScheduleResult]:
    """The stochastic bid of ``day`` and a feasible fleet schedule that delivers its cleared position.

    Scenarios are centred on ``center`` (the DA forecast, yuan/MWh) and spread by the errors of
    ``forecast`` (a forecaster name, a :class:`market.forecasting.Forecaster`, or the backtest's
    ``day -> forecast`` function) on past days in ``history`` (prices known at the gate closure).
    ``mode="quantity"``: the position is the two-stage model's ``q[t]``. ``mode="price_quantity"``: the curve
    (:func:`derive_bid_curve`) is fixed first and then cleared at ``clearing_da`` (the DA clearing
    prices, yuan/MWh, used for nothing else). The schedule is the deterministic model pinned to the
    position (cheapest internal split at the expected RT price), from ``initial_state``.

    Returns
    -------
    (result, schedule)
        ``schedule.net_mw`` is the cleared DA position (MW).
    """
    index = trading_day_index(loaded.market, day)
    market = loaded.market
    scenarios = generate_scenarios(
        history, index, n_scenarios, seed=seed, center=np.asarray(center, dtype=float), market=market,
        forecast=forecast, price_bounds=(market.clear_price_floor, market.clear_price_cap),
    )
    problem = day_problem(loaded, day, np.maximum(scenarios.expected_rt, 0.0), initial_state=initial_state)
    opts = StochasticOptions(
        mode=mode, cvar_weight=cvar_weight, cvar_alpha=cvar_alpha,  # type: ignore[arg-type]
        solve=options or SolveOptions(),
    )
    result = solve_stochastic(problem, scenarios, opts, asset_positions=False)
    if mode == "price_quantity":
        if clearing_da is None:
            raise ValueError("a price-quantity bid needs the clearing prices to clear")
        curve = derive_bid_curve(result, market, day)  # fixed before the clearing prices are read
        position = curve.cleared_net_mw(np.asarray(clearing_da, dtype=float)).to_numpy()
    else:
        position = result.bid_mw
    # Exactly: the position is the fleet net of the model's own feasible schedule (pinned_schedule).
    return result, pinned_schedule(problem, position, options)
