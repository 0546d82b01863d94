"""The ``stochastic`` strategy in the backtest: side by side with ``da_rt``, with VSS and risk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from market.prices import read_prices
from simulator.backtest import run_backtest
from vpp.examples_paths import DEFAULT_PRICES
from vpp.portfolio_io import load_portfolio


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    tmp: Path = tmp_path_factory.mktemp("stoch")
    path = tmp / "p.yaml"
    path.write_text(
        "name: tiny\nmarket: gansu\ngrid: {import_limit_mw: 5, export_limit_mw: 5}\nassets:\n"
        "  - {id: bess-1, type: battery, power_mw: 1.0, energy_mwh: 2.0, soc_initial_mwh: 1.0,"
        " soc_min_mwh: 0.2, degradation_cost: 5.0}\n",
        encoding="utf-8",
    )
    loaded = load_portfolio(path)
    prices = read_prices(DEFAULT_PRICES, loaded.market)
    days = [dt.date(2024, 4, 16), dt.date(2024, 4, 17)]
    strategies = ["da_rt", "stochastic", "stochastic_curve"]
    return run_backtest(loaded, prices, days, strategies, progress=False), loaded


def test_stochastic_runs_side_by_side_and_reports_vss_and_risk(result):
    res, _ = result
    blocks = res.summary["strategies"]
    for name in ("da_rt", "stochastic"):
        for key in ("daily_revenue_std_yuan", "daily_revenue_min_yuan", "daily_revenue_cvar90_yuan"):
            assert key in blocks[name]
    vss = blocks["stochastic"]["value_of_stochastic_solution_yuan"]
    total = {n: float(res.settlements[n]["revenue"].sum()) for n in ("da_rt", "stochastic")}
    assert vss == pytest.approx(total["stochastic"] - total["da_rt"], abs=0.01)


def test_only_the_day_ahead_position_differs(result):
    # Same real-time re-dispatch: the physical schedule is the same, the bid is not; the revenue
    # difference is exactly the DA position's spread leg sum (q_da_s - q_da_d) (p_da - p_rt).
    res, _ = result
    a, b = res.run.records["da_rt"].fleet_frame(), res.run.records["stochastic"].fleet_frame()
    np.testing.assert_allclose(a["actual_mw"], b["actual_mw"], atol=1e-5)
    spread_leg = ((b["bid_mw"] - a["bid_mw"]) * a["dt_h"] * (a["p_da"] - a["p_rt"])).sum()
    vss = res.summary["strategies"]["stochastic"]["value_of_stochastic_solution_yuan"]
    assert vss == pytest.approx(spread_leg, abs=0.5)  # actual_mw agree to 1e-5 MW over 192 periods
    # The stochastic bid is a schedule the battery can deliver: within its power rating.
    assert b["bid_mw"].abs().max() <= 1.0 + 1e-6


def test_the_cleared_curve_is_delivered(result):
    # The curve strategy's bid is the curve cleared at the realised DA price; the fleet schedule
    # that delivers it is feasible (the replay would have failed otherwise) and within the rating.
    res, _ = result
    curve = res.run.records["stochastic_curve"].fleet_frame()
    assert curve["bid_mw"].abs().max() <= 1.0 + 1e-6
    assert "stochastic_curve" in res.summary["strategies"]
