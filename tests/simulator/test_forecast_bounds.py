"""Forecasts stay inside the market's price bounds; perfect foresight is solved to a proven gap
(issue 13 items 7 and 8)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from market.prices import read_prices
from optimizer.solver import ModelSolver, SolveOptions
from simulator.backtest import run_backtest
from simulator.day_model import BOUND_MIP_GAP, BOUND_MIP_NODES, BOUND_TIME_LIMIT_S, DayModels
from simulator.replay import replay
from simulator.strategies import get_strategies, within_market_bounds
from vpp.examples_paths import DEFAULT_PRICES
from vpp.portfolio_io import load_portfolio

DAY = dt.date(2024, 1, 6)
"""A day whose ``da_rt`` RT forecast (DA + decaying RT-DA spread) reaches -262 yuan/MWh unclipped."""


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return read_prices(DEFAULT_PRICES, "shanxi")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    path: Path = tmp_path_factory.mktemp("p") / "p.yaml"
    path.write_text(
        "name: tiny\nmarket: shanxi\ngrid: {import_limit_mw: 5, export_limit_mw: 5}\nassets:\n"
        "  - {id: bess-1, type: battery, power_mw: 2.5, energy_mwh: 5.0, soc_initial_mwh: 2.5,"
        " charge_efficiency: 0.9, discharge_efficiency: 0.9}\n",
        encoding="utf-8",
    )
    return load_portfolio(path)


def test_within_market_bounds_clips_to_floor_and_cap(loaded):
    market = loaded.market  # shanxi: 0..1500 yuan/MWh
    clipped = within_market_bounds(np.array([-14.0, 0.0, 700.0, 1600.0]), market)
    np.testing.assert_array_equal(clipped, [0.0, 0.0, 700.0, 1500.0])
    unbounded = market.model_copy(update={"clear_price_floor": None, "negative_prices": True})
    np.testing.assert_array_equal(
        within_market_bounds(np.array([-500.0, 2000.0]), unbounded), [-500.0, 1500.0]
    )


def test_da_rt_never_solves_on_a_price_below_the_floor(loaded, prices, monkeypatch):
    seen: list[tuple[float, bool]] = []
    original = DayModels.solve_arrays

    def spy(self, day, price, state, k=0, **kwargs):
        seen.append((float(np.min(np.asarray(price)[k:])), bool(kwargs.get("relaxed", False))))
        return original(self, day, price, state, k, **kwargs)

    monkeypatch.setattr(DayModels, "solve_arrays", spy)
    run = replay(loaded, prices, [DAY], get_strategies("da_rt"), progress=False)
    assert len(seen) == run.solves > 1  # the bid and the re-solves where the forecast moved
    assert min(low for low, _ in seen) >= 0.0  # the unclipped forecast went to -262
    assert not any(relaxed for _, relaxed in seen)
    assets = run.records["da_rt"].asset_frame()
    assert not ((assets["charge_mw"] > 1e-6) & (assets["discharge_mw"] > 1e-6)).any()


def test_perfect_foresight_is_solved_exact_to_a_proven_gap(loaded, prices, monkeypatch):
    # Whatever the backtest's time limit, perfect foresight's solves get BOUND_MIP_GAP, the node
    # limit BOUND_MIP_NODES (deterministic) and at least BOUND_TIME_LIMIT_S, exact storage; the
    # DA leg on revenue alone; the summary reports its gap beside every capture ratio.
    options: list[SolveOptions] = []
    weights: list[float] = []
    original = ModelSolver.solve_arrays

    def spy(self, **kwargs):
        options.append(self.options)
        weights.append(self.model.cost_weight.value)
        assert not self.relaxed
        assert kwargs.get("relaxation_first")  # exact answers of the relaxation need no MIP
        return original(self, **kwargs)

    monkeypatch.setattr(ModelSolver, "solve_arrays", spy)
    result = run_backtest(
        loaded, prices, [DAY], ["perfect_foresight"], options=SolveOptions(time_limit_s=5.0), progress=False
    )
    assert options and all(o.mip_rel_gap == BOUND_MIP_GAP for o in options)
    assert all(o.mip_max_nodes == BOUND_MIP_NODES for o in options)
    # one solve each: the physical DA and RT optima and perfect foresight's dispatch with costs,
    # perfect foresight's bid (a bet on the spread, never carried out) on revenue alone
    assert sorted(weights) == [0.0, 1.0, 1.0, 1.0]
    assert all(o.time_limit_s >= BOUND_TIME_LIMIT_S for o in options)
    summary = result.summary
    gap = summary["perfect_foresight_gap_yuan"]
    assert 0.0 <= gap <= BOUND_MIP_GAP * 10 * abs(summary["perfect_foresight_revenue_yuan"]) + 1e-6
    block = summary["strategies"]["perfect_foresight"]
    assert block["perfect_foresight_gap_yuan"] == gap
    # every capture ratio is against the proven bound: perfect foresight's revenue plus its gap
    bound = summary["perfect_foresight_bound_yuan"]
    assert bound == pytest.approx(summary["perfect_foresight_revenue_yuan"] + gap, abs=0.011)
    assert block["capture_ratio_at_proven_bound"] == block["capture_ratio"] <= 1.0
    assets = result.run.records["perfect_foresight"].asset_frame()
    assert not ((assets["charge_mw"] > 1e-6) & (assets["discharge_mw"] > 1e-6)).any()
