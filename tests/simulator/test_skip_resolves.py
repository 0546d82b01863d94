"""Skipping a real-time re-solve when the last plan is still optimal is exact (issue 15 item 2)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from market.price_days import prices_for_day
from market.prices import read_prices
from simulator.backtest import run_backtest
from simulator.day_model import DayModels
from simulator.state import advance
from vpp.examples_paths import DEFAULT_PRICES
from vpp.portfolio_io import load_portfolio

ONE_BATTERY = """name: one
market: shanxi
grid: {import_limit_mw: 5, export_limit_mw: 5}
assets:
  - {id: bess-1, type: battery, power_mw: 1.0, energy_mwh: 2.0, soc_initial_mwh: 1.0, soc_min_mwh: 0.2,
     degradation_cost: 5.0}
"""

DAYS = [dt.date(2024, 4, 16), dt.date(2024, 4, 17)]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    path = tmp_path_factory.mktemp("p") / "one.yaml"
    path.write_text(ONE_BATTERY, encoding="utf-8")
    return load_portfolio(path)


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return read_prices(DEFAULT_PRICES, "shanxi")


def test_a_kept_plan_is_what_a_fresh_solve_returns(loaded, prices) -> None:
    """Each time the check keeps the plan, a cold re-solve finds the same objective and schedule."""
    day = DAYS[0]
    realised = prices_for_day(prices, loaded.market, day)
    p_da = realised["da_price"].to_numpy(dtype=float)
    p_rt = realised["rt_price"].to_numpy(dtype=float)
    models = DayModels(loaded)
    plan = models.solve_arrays(day, p_da, {}, 0)
    state: dict = advance(plan, 0, {})
    models.carry_out(0)
    kept = 0
    for k in range(1, len(p_da)):
        price = p_da.copy()
        ahead = price[k:k + 4]  # the last RT spread, decaying over an hour (da_rt's forecast shape)
        ahead += (p_rt[k - 1] - p_da[k - 1]) * np.array([1.0, 0.75, 0.5, 0.25])[: ahead.size]
        keeps = models.keeps_plan(day, price, k)
        checked = highs_objective(models)  # the kept basis' objective at the new prices
        fresh = models.solve_arrays(day, price, state, k)
        value_of_plan = float(np.sum(price[k:] * plan.net_mw[k:])) * 0.25
        value_of_fresh = float(np.sum(price[k:] * fresh.net_mw[k:])) * 0.25
        assert value_of_fresh >= value_of_plan - 1e-6 * max(1.0, abs(value_of_fresh))  # a real optimum
        if keeps:
            kept += 1
            assert fresh.stats.objective_yuan == pytest.approx(checked, rel=1e-9, abs=1e-7)
            np.testing.assert_allclose(fresh.net_mw[k:], plan.net_mw[k:], atol=1e-7)
        plan = fresh
        state = advance(plan, k, state)
        models.carry_out(k)
    assert kept >= 5, kept
    assert models.skips == kept


def highs_objective(models: DayModels) -> float:
    """The objective HiGHS reports for its current basis (after a check: the kept plan's)."""
    return float(models.solver.highs_adapter.highs.getInfo().objective_function_value)


def test_skipping_gives_the_settlement_of_re_solving_every_period(loaded, prices, tmp_path: Path) -> None:
    every = run_backtest(loaded, prices, DAYS, ["da_rt"], forecast="persistence", progress=False)
    skipping = run_backtest(loaded, prices, DAYS, ["da_rt"], forecast="persistence", progress=False,
                            skip_resolves=True)
    assert skipping.run.skips > 20  # it did skip
    assert skipping.run.solves + skipping.run.skips == every.run.solves
    pd.testing.assert_frame_equal(skipping.settlements["da_rt"], every.settlements["da_rt"])
    a, b = every.run.records["da_rt"].asset_frame(), skipping.run.records["da_rt"].asset_frame()
    pd.testing.assert_frame_equal(a, b)  # state of charge included: carried exactly
    assert "soc_mwh" in " ".join(a.columns) or "soc" in " ".join(a.columns)
