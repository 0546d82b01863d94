"""Capture ratio against the passive position, for a net-consumer portfolio (the bundled one)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from market.calendar import trading_day_index
from market.prices import read_prices
from optimizer.solver import ModelSolver
from simulator.backtest import run_backtest
from simulator.day_ahead import day_problem
from simulator.metrics import capture_ratio
from simulator.passive import baseline_notes, passive_fleet, passive_revenue
from vpp.envelope import flexibility_envelope
from vpp.examples_paths import DEFAULT_PORTFOLIO, DEFAULT_PRICES
from vpp.portfolio_io import load_portfolio


@pytest.fixture(scope="module")
def loaded():
    return load_portfolio(DEFAULT_PORTFOLIO)


@pytest.fixture(scope="module")
def prices(loaded) -> pd.DataFrame:
    return read_prices(DEFAULT_PRICES, loaded.market)


@pytest.mark.slow  # two-day backtests of the bundled fleet
@pytest.mark.parametrize("start", [dt.date(2024, 2, 5), dt.date(2024, 5, 20)])
def test_capture_ratio_bounded_for_a_net_consumer(loaded, prices, start):
    days = [start, start + dt.timedelta(days=1)]
    result = run_backtest(loaded, prices, days, ["da_rt", "da_only", "rule_based"], progress=False)
    summary = result.summary
    passive, bound = summary["passive_revenue_yuan"], summary["perfect_foresight_revenue_yuan"]
    assert passive < 0  # a net consumer: revenue/bound would mean nothing
    assert bound >= passive
    assert summary["passive_notes"] == []
    for name, block in summary["strategies"].items():
        assert block["capture_ratio"] is not None, name
        assert block["capture_ratio"] <= 1.0 + 1e-9, name
        over = block["total_revenue_yuan"] - passive
        assert block["value_over_passive_yuan"] == pytest.approx(over, abs=0.011)
        expected = (block["total_revenue_yuan"] - passive) / (bound - passive)
        assert block["capture_ratio"] == pytest.approx(expected, abs=1e-4)
    for key in ("total_revenue_yuan", "da_revenue_yuan", "rt_revenue_yuan", "contract_revenue_yuan",
                "penalty_yuan", "energy_export_mwh", "energy_import_mwh", "perfect_foresight_revenue_yuan",
                "capture_ratio", "yuan_per_mwh", "days", "periods", "passive_revenue_yuan",
                "value_over_passive_yuan"):
        assert key in summary, key


def test_passive_is_the_envelope_baseline_bid_and_delivered(loaded, prices):
    day = dt.date(2024, 4, 16)
    fleet = passive_fleet(loaded, prices, [day])
    index = trading_day_index(loaded.market, day)
    baseline = flexibility_envelope(loaded, index).per_period["baseline_mw"].to_numpy()
    assert np.allclose(fleet["bid_mw"], baseline, atol=1e-6)
    assert np.array_equal(fleet["bid_mw"], fleet["actual_mw"])  # RT leg 0
    expected = float((fleet["bid_mw"] * fleet["dt_h"] * fleet["p_da"]).sum())
    assert passive_revenue(loaded, prices, [day]) == pytest.approx(expected, abs=0.01 * len(index))
    assert baseline_notes(loaded, index) == []


def test_baseline_is_feasible_in_the_model(loaded, prices):
    """Every asset pinned at its baseline: the day model is still feasible (the bound covers it)."""
    day = dt.date(2024, 2, 6)
    index = trading_day_index(loaded.market, day)
    solver = ModelSolver(day_problem(loaded, day, prices.loc[index, "da_price"].to_numpy()))
    baseline = flexibility_envelope(loaded, index).per_period["baseline_mw"].to_numpy()
    model = solver.model
    for t in range(len(index)):
        model.net_mw[t].fix(float(baseline[t]))
    result = solver.solve()
    assert np.allclose(result.net_mw.to_numpy(), baseline, atol=1e-6)


def test_capture_ratio_definition():
    assert capture_ratio(50.0, 100.0, 0.0) == 0.5
    assert capture_ratio(-80.0, -20.0, -100.0) == 0.25
    assert capture_ratio(-120.0, -20.0, -100.0) == -0.25  # worse than passive
    assert capture_ratio(1.0, 5.0, 5.0) is None  # nothing to capture
    assert capture_ratio(1.0, None, 0.0) is None


def test_baseline_notes_come_from_the_families():
    # Heating demand of 3 MW heat at COP 2 needs 1.5 MW against 1 MW rated; an EV session of 1 MWh
    # in one hour at 0.5 MW cannot be served. Each family's own note names its asset.
    from pathlib import Path

    from market.presets import get_market
    from vpp.portfolio import Portfolio
    from vpp.portfolio_io import LoadedPortfolio

    portfolio = Portfolio.model_validate({
        "name": "notes", "market": "shanxi", "grid": {"import_limit_mw": 10, "export_limit_mw": 10},
        "assets": [
            {"id": "heat", "type": "heating", "rated_power_mw": 1.0, "cop": 2.0,
             "thermal_capacity_mwh_per_k": 1.0, "heat_demand_mw": 3.0, "temp_min_c": 18.0,
             "temp_max_c": 22.0, "temp_initial_c": 20.0},
            {"id": "hub", "type": "ev_hub", "charge_efficiency": 1.0,
             "sessions": [
                 {"arrival": "01:00", "departure": "02:00", "energy_mwh": 1.0, "max_power_mw": 0.5}
             ]},
        ],
    })
    loaded = LoadedPortfolio(portfolio, Path("notes.yaml"), None, get_market("shanxi"))
    notes = baseline_notes(loaded, trading_day_index("shanxi", dt.date(2024, 1, 15)))
    assert "heat: heat demand above rated power in 96 periods" in notes
    assert "hub: a session needs more energy than its stay allows" in notes
