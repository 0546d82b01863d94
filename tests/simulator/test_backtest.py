"""Backtest simulator: settlement, the perfect-foresight bound, no look-ahead, state continuity."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog
from typer.testing import CliRunner

from market.calendar import gate_closure, trading_day_index
from market.prices import parse_prices, read_prices
from simulator.backtest import run_backtest
from simulator.replay import replay
from simulator.strategies import get_strategies
from vpp.cli import app
from vpp.examples_paths import DEFAULT_PRICES
from vpp.portfolio_io import load_portfolio

BATTERY = dict(power_mw=1.0, energy_mwh=2.0, charge_efficiency=0.95, discharge_efficiency=0.9,
               soc_initial_mwh=1.0, soc_min_mwh=0.2, soc_max_mwh=2.0)


def write_portfolio(tmp_path: Path, market: str = "shanxi", extra: str = "") -> Path:
    b = ", ".join(f"{k}: {v}" for k, v in BATTERY.items())
    path = tmp_path / "p.yaml"
    path.write_text(
        f"name: tiny\nmarket: {market}\ngrid: {{import_limit_mw: 5, export_limit_mw: 5}}\n"
        f"assets:\n  - {{id: bess-1, type: battery, {b}}}\n{extra}",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return read_prices(DEFAULT_PRICES, "shanxi")


@pytest.fixture(scope="module")
def two_day(tmp_path_factory, prices):
    loaded = load_portfolio(write_portfolio(tmp_path_factory.mktemp("p")))
    days = [dt.date(2024, 4, 15), dt.date(2024, 4, 16)]
    return loaded, run_backtest(loaded, prices, days, ["da_rt", "da_only", "rule_based"], progress=False)


def test_settlement_reconciles_to_conventions_formula(two_day):
    _, result = two_day
    for name, s in result.settlements.items():
        fleet = result.run.records[name].fleet_frame()
        q_da = fleet["bid_mw"] * fleet["dt_h"]
        q_act = fleet["actual_mw"] * fleet["dt_h"]
        expected = q_da * fleet["p_da"] + (q_act - q_da) * fleet["p_rt"]
        assert np.allclose(s["q_da_mwh"], q_da) and np.allclose(s["q_actual_mwh"], q_act)
        # each leg is rounded to the fen: at most half a fen per leg and period
        assert np.all(np.abs(s["revenue"] - expected) <= 0.011)
        assert s["revenue"].sum() == pytest.approx(expected.sum(), abs=0.01 * len(s))
        block = result.summary["strategies"].get(name)
        if block:
            assert block["total_revenue_yuan"] == pytest.approx(round(s["revenue"].sum(), 2))


def _battery_lp(price: np.ndarray, dt_h: float) -> float:
    """max sum price[t] (d[t] - c[t]) dt over one battery, by hand (scipy linprog, HiGHS)."""
    n = len(price)
    eta_c, eta_d = BATTERY["charge_efficiency"], BATTERY["discharge_efficiency"]
    # variables: c[0..n-1], d[0..n-1], s[0..n-1]
    cost = np.concatenate([price * dt_h, -price * dt_h, np.zeros(n)])  # minimise -revenue
    a_eq = np.zeros((n, 3 * n))
    b_eq = np.zeros(n)
    for t in range(n):
        a_eq[t, 2 * n + t] = 1.0
        if t:
            a_eq[t, 2 * n + t - 1] = -1.0
        else:
            b_eq[t] = BATTERY["soc_initial_mwh"]
        a_eq[t, t] = -eta_c * dt_h
        a_eq[t, n + t] = dt_h / eta_d
    a_ub = np.zeros((1, 3 * n))
    a_ub[0, 3 * n - 1] = -1.0  # s[T-1] >= soc_final (= initial)
    b_ub = [-BATTERY["soc_initial_mwh"]]
    bounds = [(0, 1.0)] * (2 * n) + [(BATTERY["soc_min_mwh"], BATTERY["soc_max_mwh"])] * n
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    assert res.status == 0
    return -res.fun


def test_perfect_foresight_equals_hand_lp(tmp_path, prices):
    """Revenue = q_da (p_da - p_rt) + q_act p_rt (times hours): the bound is the LP optimum on the
    spread plus the LP optimum on realised RT prices. With q_da = q_act the RT leg vanishes; here
    the two LPs are solved separately by hand and their sum must match the backtest's bound."""
    loaded = load_portfolio(write_portfolio(tmp_path))
    day = dt.date(2024, 4, 16)
    result = run_backtest(loaded, prices, [day], ["perfect_foresight"], progress=False)
    index = trading_day_index(loaded.market, day)
    p = prices.loc[index]
    spread = _battery_lp((p["da_price"] - p["rt_price"]).to_numpy(), 0.25)
    rt = _battery_lp(p["rt_price"].to_numpy(), 0.25)
    assert result.summary["total_revenue_yuan"] == pytest.approx(spread + rt, abs=0.01 * len(index))


@pytest.mark.parametrize("start", [dt.date(2024, 2, 5), dt.date(2024, 5, 20)])
def test_capture_ratio_at_most_one(tmp_path, prices, start):
    loaded = load_portfolio(write_portfolio(tmp_path))
    days = [start, start + dt.timedelta(days=1)]
    result = run_backtest(loaded, prices, days, ["da_rt", "da_only", "rule_based"], progress=False)
    for block in result.summary["strategies"].values():
        assert block["capture_ratio"] is not None and block["capture_ratio"] <= 1.0 + 1e-9


def test_no_look_ahead(tmp_path, prices):
    loaded = load_portfolio(write_portfolio(tmp_path))
    days = [dt.date(2024, 4, 15), dt.date(2024, 4, 16)]
    strategies = get_strategies("da_rt,da_only,rule_based")
    base = replay(loaded, prices, days, strategies, progress=False)
    # 1. DA bid of D: perturb everything not known at the gate closure of D-1: DA prices from D on
    # (D-1's were published on D-2), RT prices after the closure, exogenous forecasts after D.
    closure = gate_closure(loaded.market, days[1])
    index_d = trading_day_index(loaded.market, days[1])
    rng = np.random.default_rng(0)
    perturbed = prices.copy()
    for rows, column in ((prices.index >= index_d[0], "da_price"), (prices.index >= closure, "rt_price")):
        perturbed.loc[rows, column] += rng.uniform(0, 300, size=int(rows.sum()))
    exogenous = [c for c in prices.columns if c not in ("da_price", "rt_price")]
    after_d = prices.index > index_d[-1]
    perturbed.loc[after_d, exogenous] += rng.uniform(0, 300, size=(int(after_d.sum()), len(exogenous)))
    other = replay(loaded, perturbed, days, strategies, progress=False)
    for s in strategies:
        a, b = base.records[s.name].fleet[1], other.records[s.name].fleet[1]
        assert np.array_equal(a["bid_mw"].to_numpy(), b["bid_mw"].to_numpy()), s.name
    # 2. real-time: perturb RT prices after period k of D; dispatch of periods <= k unchanged.
    k = 40
    days, strategies = days[1:], get_strategies("da_rt")
    base = replay(loaded, prices, days, strategies, progress=False)
    index = trading_day_index(loaded.market, days[0])
    after = prices.index > index[k]
    perturbed = prices.copy()
    perturbed.loc[after, "rt_price"] += rng.uniform(-100, 300, size=int(after.sum())).clip(-50)
    perturbed["rt_price"] = perturbed["rt_price"].clip(lower=0)
    other = replay(loaded, perturbed, days, strategies, progress=False)
    for s in strategies:
        a, b = base.records[s.name].fleet[0], other.records[s.name].fleet[0]
        assert np.array_equal(a["actual_mw"].to_numpy()[: k + 1], b["actual_mw"].to_numpy()[: k + 1]), s.name


def test_state_continuity_across_days(two_day):
    loaded, result = two_day
    for name, carried in result.run.states.items():
        assert carried.end_states[0]["bess-1"]["soc_mwh"] == carried.start_states[1]["bess-1"]["soc_mwh"]
        assets = result.run.records[name].asset_frame()
        soc = assets["soc_mwh"].to_numpy()
        net = assets["net_mw"].to_numpy()
        # the first period of day 2 starts from the last SoC of day 1
        i = len(trading_day_index(loaded.market, dt.date(2024, 4, 15)))
        charge, discharge = max(-net[i], 0.0), max(net[i], 0.0)
        step = 0.95 * charge * 0.25 - discharge * 0.25 / 0.9
        assert soc[i] == pytest.approx(soc[i - 1] + step, abs=1e-6), name


def test_negative_prices_generic_market(tmp_path):
    index = pd.date_range("2024-06-01", "2024-06-04", freq="h", tz="Europe/Berlin", inclusive="left")
    hours = np.asarray(index.hour)
    da = 60 + 40 * np.sin((hours - 6) / 24 * 2 * np.pi) - np.where((hours >= 11) & (hours <= 14), 150, 0)
    rt = da + np.where(hours % 3 == 0, 15.0, -10.0)
    frame = parse_prices(
        pd.DataFrame({"timestamp": index.astype(str), "da_price": da, "rt_price": rt}), "generic"
    )
    assert (frame["da_price"] < 0).any()
    loaded = load_portfolio(write_portfolio(tmp_path, market="generic"))
    result = run_backtest(
        loaded, frame, [dt.date(2024, 6, 3)], ["da_rt", "da_only"], forecast="persistence", progress=False
    )
    for name in ("da_rt", "da_only"):
        assets = result.run.records[name].asset_frame()
        both = (assets["charge_mw"] > 1e-6) & (assets["discharge_mw"] > 1e-6)
        assert not both.any(), name
        assert len(result.settlements[name]) == 24
    assert result.summary["strategies"]["da_rt"]["capture_ratio"] <= 1.0 + 1e-9


def test_cli_backtest_two_days(tmp_path):
    portfolio = write_portfolio(tmp_path)
    out = tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(
        app,
        ["backtest", "--portfolio", str(portfolio), "--start", "2024-04-15", "--end", "2024-04-16",
         "--strategy", "da_only,rule_based", "--out", str(out), "--quiet"],
    )
    assert res.exit_code == 0, res.output
    for name in ("settlement.csv", "assets.csv", "summary.json", "report.html",
                 "da_only/settlement.csv", "rule_based/settlement.csv", "rule_based/assets.csv"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    for key in ("total_revenue_yuan", "da_revenue_yuan", "rt_revenue_yuan", "contract_revenue_yuan",
                "penalty_yuan", "energy_export_mwh", "energy_import_mwh", "perfect_foresight_revenue_yuan",
                "capture_ratio", "yuan_per_mwh", "days", "periods", "strategies", "forecast_errors"):
        assert key in summary, key
    assert summary["days"] == 2 and summary["periods"] == 192
    header = (out / "settlement.csv").read_text().splitlines()[0]
    assert header == ("timestamp,q_da_mwh,q_actual_mwh,p_da,p_rt,da_revenue,rt_revenue,"
                      "contract_revenue,penalty,revenue")
