"""Price-quantity curves: monotone, within bounds, at most the market's segments, and every
clearing -- at random prices, any combination across periods -- is deliverable by the fleet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.bids import validate_price_quantity_bid
from market.presets import get_market
from market.scenarios import PriceScenarios
from optimizer.pinned import pinned_schedule
from optimizer.problem import prepare_problem
from optimizer.stochastic import StochasticOptions, solve_stochastic
from simulator.bid_curves import derive_bid_curve, isotonic, period_steps, split_cleared
from simulator.day_ahead import day_problem
from vpp.examples_paths import DEFAULT_PORTFOLIO
from vpp.portfolio import Portfolio
from vpp.portfolio_io import load_portfolio

MARKET = get_market("shanxi")
DATA = Path(__file__).parents[1] / "data"
DAY = pd.Timestamp("2024-01-02").date()
INDEX = pd.date_range("2024-01-02", periods=96, freq="15min", tz="Asia/Shanghai", name="timestamp")
PV = np.clip(np.sin((np.arange(96) / 4 - 6) / 12 * np.pi), 0, 1).round(4).tolist()


def fleet() -> Portfolio:
    return Portfolio.model_validate(
        {
            "name": "t",
            "market": "shanxi",
            "grid": {"import_limit_mw": 5, "export_limit_mw": 3},
            "assets": [
                {"type": "battery", "id": "b1", "power_mw": 1.0, "energy_mwh": 2.0, "soc_initial_mwh": 1.0,
                 "soc_final_mwh": 1.0, "degradation_cost": 5.0, "max_cycles_per_day": 1.5},
                {"type": "battery", "id": "b2", "power_mw": 2.0, "energy_mwh": 4.0, "soc_initial_mwh": 0.5,
                 "charge_efficiency": 0.9, "discharge_efficiency": 0.92},
                {"type": "pv", "id": "pv", "capacity_mw": 3.0, "profile": PV, "curtailable": True},
                {"type": "flexible_load", "id": "fl", "baseline": 1.0, "scale_mw": 1.0, "up_frac": 0.3,
                 "down_frac": 0.3},
                {"type": "load", "id": "ld", "profile": 1.0, "scale_mw": 0.5},
            ],
        }
    )


@pytest.fixture(scope="module")
def solved():
    rng = np.random.default_rng(7)
    base = 350 + 200 * np.sin(np.arange(96) / 96 * 2 * np.pi - 1.0)
    da = np.clip(base + rng.normal(0, 60, (12, 96)), 0, 1500)
    rt = np.clip(da + rng.normal(0, 120, (12, 96)), 0, 1500)
    sc = PriceScenarios(INDEX, da, rt, np.full(12, 1 / 12))
    problem = prepare_problem(fleet(), INDEX, sc.expected_da)
    result = solve_stochastic(problem, sc, StochasticOptions(mode="price_quantity", cvar_weight=0.3))
    return problem, result, derive_bid_curve(result, MARKET, DAY)


def test_curves_are_monotone_within_bounds_and_valid(solved):
    _, result, bid = solved
    seg = bid.segments
    assert seg.groupby("timestamp").size().max() <= MARKET.max_bid_segments
    assert seg["price_yuan_per_mwh"].between(MARKET.bid_price_floor, MARKET.bid_price_cap).all()
    for _, g in seg.groupby("timestamp"):
        assert (np.diff(g["price_yuan_per_mwh"]) > 0).all()
        assert (np.diff(g["net_mw"]) >= -1e-9).all()  # selling rises, buying falls with the price
    before_closure = pd.Timestamp("2024-01-01 08:00", tz="Asia/Shanghai")
    assert validate_price_quantity_bid(bid, MARKET, now=before_closure) is None
    assert (result.hi_mw - result.lo_mw).max() > 0.5  # the curve has room to move


def test_random_clearing_prices_give_a_feasible_dispatch(solved):
    # 8 random clearing price vectors over [0, 1500], independent across periods: the cleared
    # positions are pinned as the fleet net of the deterministic model, which must stay feasible,
    # and the constructive per-asset split must add up to them.
    problem, result, bid = solved
    rng = np.random.default_rng(11)
    for _ in range(8):
        clearing = rng.uniform(0, 1500, 96)
        cleared = bid.cleared_net_mw(clearing).to_numpy()
        assert ((cleared >= result.lo_mw - 1e-7) & (cleared <= result.hi_mw + 1e-7)).all()
        dispatch = pinned_schedule(problem, cleared)
        np.testing.assert_allclose(dispatch.net_mw.to_numpy(), cleared, atol=2e-6)
        split = split_cleared(result, cleared)
        np.testing.assert_allclose(split.sum(axis=1).to_numpy(), cleared, atol=1e-9)


def test_extreme_clearings_clear_the_end_steps_and_are_delivered(solved):
    # At the price floor (0) every period clears its first step, at the cap (1500) its last; the
    # fleet delivers each exactly, and also when the two alternate period by period.
    problem, _, bid = solved
    steps = bid.segments.sort_values(["timestamp", "segment"]).groupby("timestamp")["net_mw"]
    first, last = steps.first().to_numpy(), steps.last().to_numpy()
    floor = bid.cleared_net_mw(np.full(96, MARKET.bid_price_floor)).to_numpy()
    cap = bid.cleared_net_mw(np.full(96, MARKET.bid_price_cap)).to_numpy()
    np.testing.assert_array_equal(floor, first)
    np.testing.assert_array_equal(cap, last)
    assert (cap >= floor - 1e-9).all() and (cap - floor).max() > 0.5  # the curve spans a real range
    even = np.arange(96) % 2 == 0
    alternating = bid.cleared_net_mw(np.where(even, MARKET.bid_price_floor, MARKET.bid_price_cap)).to_numpy()
    np.testing.assert_array_equal(alternating, np.where(even, first, last))
    for cleared in (floor, cap, alternating):
        dispatch = pinned_schedule(problem, cleared)  # raises InfeasibleError when not deliverable
        np.testing.assert_allclose(dispatch.net_mw.to_numpy(), cleared, atol=2e-6)


@settings(max_examples=60, deadline=None)
@given(
    prices=st.lists(st.floats(0, 1500), min_size=1, max_size=25),
    positions=st.lists(st.floats(-50, 50), min_size=25, max_size=25),
)
def test_period_steps_monotone_bounded_and_short(prices, positions):
    p = np.asarray(prices)
    q = np.asarray(positions[: len(p)])
    w = np.full(len(p), 1 / len(p))
    starts, levels = period_steps(p, q, w, -20.0, 30.0, MARKET)
    assert 1 <= len(starts) <= MARKET.max_bid_segments
    assert starts[0] == MARKET.bid_price_floor and (np.diff(starts) > 0).all()
    assert (starts <= MARKET.bid_price_cap).all()
    assert (np.diff(levels) >= -1e-9).all()
    assert (levels >= -20.0 - 1e-9).all() and (levels <= 30.0 + 1e-9).all()


def test_isotonic_pools_violators():
    np.testing.assert_allclose(isotonic(np.array([1.0, 3.0, 2.0, 4.0])), [1.0, 2.5, 2.5, 4.0])
    np.testing.assert_allclose(isotonic(np.array([3.0, 1.0]), np.array([1.0, 3.0])), [1.5, 1.5])


def test_cli_price_quantity_bid_writes_valid_csv_and_json(tmp_path):
    from typer.testing import CliRunner

    from market.bids import PriceQuantityBid
    from vpp.cli import app
    from vpp.examples_paths import DEFAULT_PRICES, EXAMPLES_DIR

    out = tmp_path / "bid.csv"
    args = ["bid", "--mode", "price-quantity", "--scenarios", "6", "--seed", "3", "--cvar-weight", "0.2",
            "--portfolio", str(EXAMPLES_DIR / "minimal.yaml"), "--prices", str(DEFAULT_PRICES),
            "--day", "2024-04-16", "--out", str(out), "--no-plot"]
    result = CliRunner().invoke(app, [*args, "--allow-late"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"]).dt.tz_convert("Asia/Shanghai")
    bid = PriceQuantityBid("shanxi", pd.Timestamp("2024-04-16").date(), frame[list(frame.columns[:4])])
    before = pd.Timestamp("2024-04-15 09:00", tz="Asia/Shanghai")
    assert validate_price_quantity_bid(bid, MARKET, now=before) is None
    assert out.with_suffix(".json").is_file()
    late = CliRunner().invoke(app, args)  # without --allow-late a bid after gate closure is refused
    assert late.exit_code == 1 and "closure" in late.output


def test_stochastic_position_of_2024_04_16_is_delivered_exactly() -> None:
    """Regression: the stochastic strategy's 2024-04-16 position (the `da` copy's fleet net, a
    schedule with no simultaneous charge and discharge) was reported infeasible: pinned within
    +-1e-6 MW, HiGHS's MIP (exclusivity binaries) wrongly proved it infeasible. Pinned exactly, it
    is delivered."""
    day = pd.Timestamp("2024-04-16").date()
    position = pd.read_csv(DATA / f"shanxi_urban_renewal_{day}_stochastic_position.csv")["net_mw"].to_numpy()
    problem = day_problem(load_portfolio(DEFAULT_PORTFOLIO), day, np.full(96, 300.0))
    dispatch = pinned_schedule(problem, position)
    assert np.abs(dispatch.net_mw.to_numpy() - position).max() < 1e-6
    both = np.minimum(dispatch.series["battery.charge_mw"], dispatch.series["battery.discharge_mw"])
    assert both.to_numpy().max() <= 1e-6
