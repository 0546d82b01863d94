"""The bounds of a backtest (physical DA and RT optima, full perfect foresight), the value split
and the headline strategy (issue 17 items 8, 9)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from market.calendar import period_hours, trading_day_index
from market.price_days import prices_for_day
from market.prices import read_prices
from optimizer.relaxation_first import WITHIN_GAP
from optimizer.solver import ModelSolver, SolveOptions
from simulator.backtest import headline, run_backtest, write_backtest
from simulator.day_ahead import day_problem
from simulator.day_model import BOUND_MIP_GAP, DayModels
from vpp.examples_paths import DEFAULT_PORTFOLIO, DEFAULT_PRICES
from vpp.portfolio_io import load_portfolio

PORTFOLIO = """name: one-battery
market: gansu
grid: {import_limit_mw: 5, export_limit_mw: 5}
assets:
  - {id: bess-1, type: battery, power_mw: 1.0, energy_mwh: 2.0, charge_efficiency: 0.95,
     discharge_efficiency: 0.9, soc_initial_mwh: 1.0, soc_min_mwh: 0.2, soc_max_mwh: 2.0}
"""
DAYS = [dt.date(2024, 6, 3)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def backtest(tmp_path_factory):
    path = tmp_path_factory.mktemp("p") / "p.yaml"
    path.write_text(PORTFOLIO, encoding="utf-8")
    loaded = load_portfolio(path)
    prices = read_prices(DEFAULT_PRICES, loaded.market)
    result = run_backtest(loaded, prices, DAYS, ["perfect_foresight", "da_only", "da_rt"],
                          forecast="persistence", progress=False)
    return loaded, prices, result


def _optimum(loaded, prices, column: str) -> float:
    """The day's schedule optimal at the realised ``column`` prices, valued at them (yuan)."""
    day = DAYS[0]
    realised = prices_for_day(prices, loaded.market, day)[column].to_numpy()
    net = ModelSolver(day_problem(loaded, day, realised)).solve().net_mw.to_numpy()
    dt_h = period_hours(trading_day_index(loaded.market, day), loaded.market)
    return float(np.sum(net * dt_h * realised))


def test_physical_bounds_are_the_optima_at_realised_prices(backtest):
    loaded, prices, result = backtest
    bounds = result.summary["bounds"]
    assert bounds["da_optimum_revenue_yuan"] == pytest.approx(_optimum(loaded, prices, "da_price"), abs=0.02)
    assert bounds["rt_optimum_revenue_yuan"] == pytest.approx(_optimum(loaded, prices, "rt_price"), abs=0.02)
    # Full perfect foresight bets on the spread as well: at least either physical optimum.
    pf = bounds["perfect_foresight_revenue_yuan"]
    assert pf >= bounds["da_optimum_revenue_yuan"] - 0.01 and pf >= bounds["rt_optimum_revenue_yuan"] - 0.01
    assert set(bounds["definitions"]) >= {"da_optimum", "rt_optimum", "perfect_foresight", "yuan_per_mwh"}


def test_captures_and_value_split(backtest):
    _, _, result = backtest
    summary = result.summary
    passive = summary["passive_revenue_yuan"]
    bounds = summary["bounds"]
    for name, block in summary["strategies"].items():
        total = block["total_revenue_yuan"]
        over = total - passive
        assert block["energy_shifting_yuan"] + block["spread_yuan"] == pytest.approx(over, abs=0.05), name
        assert block["physical_rt_yuan"] + block["spread_bet_yuan"] == pytest.approx(over, abs=0.011), name
        settlement = result.settlements[name]
        at_rt = float((settlement["q_actual_mwh"] * settlement["p_rt"]).sum())
        fen_per_leg_and_period = 0.01 * 2 * len(settlement)  # money is settled to the fen per leg
        assert block["physical_rt_yuan"] == pytest.approx(at_rt - passive, abs=fen_per_leg_and_period), name
        for key, bound in (("capture_da_optimum", "da_optimum_revenue_yuan"),
                           ("capture_rt_optimum", "rt_optimum_revenue_yuan"),
                           ("capture_ratio", "perfect_foresight_revenue_yuan")):
            assert block[key] == pytest.approx(over / (bounds[bound] - passive), abs=1e-4), (name, key)
    da_only = summary["strategies"]["da_only"]
    assert da_only["spread_yuan"] == pytest.approx(0.0, abs=0.01)  # follows its DA position exactly
    assert da_only["capture_da_optimum"] <= 1.0 + 1e-6


def test_headline_is_da_rt_not_perfect_foresight(backtest, tmp_path):
    loaded, _, result = backtest
    assert result.summary["strategy"] == "da_rt"
    assert result.summary["total_revenue_yuan"] == result.summary["strategies"]["da_rt"]["total_revenue_yuan"]
    write_backtest(result, tmp_path, loaded)
    top = pd.read_csv(tmp_path / "settlement.csv")
    own = pd.read_csv(tmp_path / "da_rt" / "settlement.csv")
    pd.testing.assert_frame_equal(top, own)
    assert headline(["perfect_foresight", "da_only"]) == "da_only"
    assert headline(["perfect_foresight"]) == "perfect_foresight"


WEARING = PORTFOLIO.replace("soc_max_mwh: 2.0}", "soc_max_mwh: 2.0, degradation_cost: 150.0}")
"""The same battery wearing 150 yuan per MWh discharged: on 2024-06-03 a bet on the DA-RT spread
cycles for revenue where the physical objective (revenue minus wear) would stay almost idle."""


def _spread_revenue(net_mw: np.ndarray, dt_h: np.ndarray, spread: np.ndarray) -> float:
    return float(np.sum(net_mw * dt_h * spread))


def test_perfect_foresight_bids_the_spread_on_revenue_alone_and_dispatches_with_costs(tmp_path):
    # PF revenue = sum q_da (p_da - p_rt) + sum q_actual p_rt: only q_actual is carried out, so the
    # bid maximises the spread revenue alone (no wear), the dispatch revenue at p_rt minus wear.
    path = tmp_path / "p.yaml"
    path.write_text(WEARING, encoding="utf-8")
    loaded = load_portfolio(path)
    prices = read_prices(DEFAULT_PRICES, loaded.market)
    day = DAYS[0]
    realised = prices_for_day(prices, loaded.market, day)
    p_da, p_rt = realised["da_price"].to_numpy(), realised["rt_price"].to_numpy()
    dt_h = period_hours(trading_day_index(loaded.market, day), loaded.market)
    spread = p_da - p_rt

    bet = ModelSolver(day_problem(loaded, day, spread))
    bet.set_cost_weight(0.0)
    revenue_only = bet.solve()
    physical = ModelSolver(day_problem(loaded, day, spread)).solve()
    best = _spread_revenue(revenue_only.net_mw.to_numpy(), dt_h, spread)
    costed = _spread_revenue(physical.net_mw.to_numpy(), dt_h, spread)
    assert best > costed + 100.0  # the wear changes the bid: this test tells the two apart

    result = run_backtest(loaded, prices, DAYS, ["perfect_foresight"], forecast="persistence", progress=False)
    fleet = result.run.records["perfect_foresight"].fleet_frame()
    bid_spread = _spread_revenue(fleet["bid_mw"].to_numpy(), dt_h, spread)
    assert bid_spread == pytest.approx(best, rel=1e-3, abs=0.01)  # proven to BOUND_MIP_GAP
    dispatch = ModelSolver(day_problem(loaded, day, p_rt)).solve()  # physical objective at p_rt
    np.testing.assert_allclose(fleet["actual_mw"].to_numpy(), dispatch.net_mw.to_numpy(), atol=1e-6)
    summary = result.summary
    revenue = bid_spread + float(np.sum(fleet["actual_mw"].to_numpy() * dt_h * p_rt))
    assert summary["perfect_foresight_revenue_yuan"] == pytest.approx(revenue, abs=0.05)  # bids to 1e-6 MW
    # the bid's gap is in revenue: revenue + gap bounds the revenue-optimal bid plus this dispatch
    assert summary["perfect_foresight_bound_yuan"] >= best + revenue - bid_spread - 0.05


def test_perfect_foresight_bid_repaired_within_its_gap_keeps_a_true_bound():
    # Bundled portfolio, real Gansu prices of 2024-01-08 (tests/data): perfect foresight's bid on the
    # DA-RT spread, revenue alone. An exact solve (gap 1e-6) adds the lazy exclusivity binaries and
    # gives the optimum X. The proven solve of the same bid (BOUND_MIP_GAP) then finds the relaxation
    # burning and its one-direction repair within the gap: the answer, no MIP. The repaired revenue R
    # and the relaxation's B (the reported bound) bracket X, so revenue + gap stays an upper bound.
    loaded = load_portfolio(DEFAULT_PORTFOLIO)
    prices = read_prices(ROOT / "tests" / "data" / "gansu_2024-01-02_08_15min.csv", loaded.market)
    day = dt.date(2024, 1, 8)
    realised = prices_for_day(prices, loaded.market, day)
    spread = (realised["da_price"] - realised["rt_price"]).to_numpy()
    models = DayModels(loaded, SolveOptions(mip_rel_gap=1e-6))
    exact = models.solve_arrays(day, spread, {}, 0, revenue_only=True).stats
    assert exact.n_binaries > 0 and exact.bound_yuan - exact.objective_yuan <= 1e-6 * exact.objective_yuan
    bid = models.solve_arrays(day, spread, {}, 0, proven=True, revenue_only=True).stats
    assert bid.termination == WITHIN_GAP and bid.exclusive_rounds == 2
    assert bid.objective_yuan <= exact.objective_yuan + 1e-6
    assert bid.bound_yuan >= exact.bound_yuan - 1e-6
    assert 0.0 < bid.bound_yuan - bid.objective_yuan <= BOUND_MIP_GAP * bid.objective_yuan
    assert bid.mip_gap == pytest.approx((bid.bound_yuan - bid.objective_yuan) / bid.objective_yuan)
