"""Two-stage stochastic model: reduces to the deterministic optimum, CVaR behaves, decomposes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from market.scenarios import PriceScenarios
from optimizer.problem import prepare_problem
from optimizer.solver import solve
from optimizer.stochastic import StochasticOptions, cvar, solve_stochastic
from vpp.portfolio import Portfolio

T = 24
INDEX = pd.date_range("2024-06-01", periods=T, freq="h", tz="Asia/Shanghai", name="timestamp")
PV = np.clip(np.sin((np.arange(T) - 6) / 12 * np.pi), 0, 1).round(4).tolist()


def portfolio(degradation: float = 5.0) -> Portfolio:
    return Portfolio.model_validate(
        {
            "name": "t",
            "grid": {"import_limit_mw": 6, "export_limit_mw": 4},
            "assets": [
                {"type": "battery", "id": "b1", "power_mw": 1.0, "energy_mwh": 2.0, "soc_initial_mwh": 1.0,
                 "degradation_cost": degradation},
                {"type": "battery", "id": "b2", "power_mw": 2.0, "energy_mwh": 2.0, "soc_initial_mwh": 0.5,
                 "charge_efficiency": 0.9, "discharge_efficiency": 0.9, "degradation_cost": degradation},
                {"type": "pv", "id": "pv", "capacity_mw": 3.0, "profile": PV, "curtailable": True},
                {"type": "load", "id": "ld", "profile": 1.0, "scale_mw": 1.0},
            ],
        }
    )


def scenarios(n: int, seed: int = 0) -> PriceScenarios:
    rng = np.random.default_rng(seed)
    base = 300 + 150 * np.sin(np.arange(T) / 24 * 2 * np.pi)
    da = base + rng.normal(0, 40, (n, T))
    rt = da + rng.normal(0, 80, (n, T))
    w = rng.uniform(0.5, 1.5, n)
    return PriceScenarios(INDEX, np.clip(da, 0, None), np.clip(rt, 0, None), w / w.sum())


def problem(price, degradation: float = 5.0):
    return prepare_problem(portfolio(degradation), INDEX, price)


@pytest.mark.parametrize("mode", ["quantity", "price_quantity"])
def test_one_scenario_reproduces_the_deterministic_optimum(mode):
    price = scenarios(1).da[0]
    det = solve(problem(price))
    res = solve_stochastic(problem(price), PriceScenarios.single(INDEX, price), StochasticOptions(mode=mode))
    # Deterministic optimum 59.53 yuan (revenue minus degradation) on this fleet.
    assert res.expected_profit_yuan == pytest.approx(det.objective_yuan, rel=1e-6, abs=1e-4)
    np.testing.assert_allclose(res.net_mw[0], det.net_mw.to_numpy(), atol=1e-5)


def test_risk_neutral_quantity_model_decomposes():
    # Without a deviation penalty the expected profit separates: DA position on the expected
    # spread E[p_da - p_rt] plus each scenario's own real-time optimum (no costs in this fleet).
    sc = scenarios(4)
    res = solve_stochastic(problem(sc.da[0], 0.0), sc, StochasticOptions(mode="quantity"))
    # The spread may be negative: storage stays exact (no charge and discharge at once) in both.
    base = problem(sc.da[0], 0.0)
    spread = solve(dataclasses.replace(base, price=sc.expected_da - sc.expected_rt)).objective_yuan
    recourse = sum(w * solve(problem(sc.rt[s], 0.0)).objective_yuan for s, w in enumerate(sc.weight))
    assert res.expected_profit_yuan == pytest.approx(spread + recourse, rel=1e-6)


def test_cvar_weight_zero_is_risk_neutral_and_weight_trades_mean_for_tail():
    sc = scenarios(6, seed=2)
    prob = problem(sc.da[0])
    neutral = solve_stochastic(prob, sc, StochasticOptions(mode="price_quantity"))
    zero = solve_stochastic(prob, sc, StochasticOptions("price_quantity", cvar_weight=0.0, cvar_alpha=0.5))
    averse = solve_stochastic(prob, sc, StochasticOptions("price_quantity", cvar_weight=0.8, cvar_alpha=0.5))
    assert zero.objective_yuan == pytest.approx(neutral.objective_yuan, rel=1e-9)
    assert zero.expected_profit_yuan == pytest.approx(neutral.expected_profit_yuan, rel=1e-6)
    # Neutral: E 3,999.26, CVaR50 3,454.01 yuan; lam 0.8: E 3,950.47 = CVaR50 (fully hedged).
    assert averse.expected_profit_yuan <= neutral.expected_profit_yuan + 1e-6
    assert cvar(averse.profit_yuan, sc.weight, 0.5) >= cvar(neutral.profit_yuan, sc.weight, 0.5) - 1e-6
    # The model's objective is (1-lam) E + lam CVaR at the solution.
    mix = 0.2 * averse.expected_profit_yuan + 0.8 * averse.cvar_yuan
    assert averse.objective_yuan == pytest.approx(mix, rel=1e-6, abs=1e-2)


def test_price_quantity_positions_are_monotone_in_price_and_inside_the_box():
    sc = scenarios(5, seed=3)
    res = solve_stochastic(problem(sc.da[0]), sc, StochasticOptions(mode="price_quantity"))
    assert (res.hi_mw >= res.lo_mw - 1e-7).all()
    for t in range(T):
        order = np.argsort(sc.da[:, t])
        assert (np.diff(res.q_da_mw[order, t]) >= -1e-7).all()
        assert (res.q_da_mw[:, t] >= res.lo_mw[t] - 1e-7).all()
        assert (res.q_da_mw[:, t] <= res.hi_mw[t] + 1e-7).all()
    # A curve can only gain on a single quantity: expected profit at least the quantity model's.
    quantity = solve_stochastic(problem(sc.da[0]), sc, StochasticOptions(mode="quantity"))
    assert res.expected_profit_yuan >= quantity.expected_profit_yuan - 1e-6


def test_cvar_of_a_discrete_distribution():
    profit = np.array([-10.0, 0.0, 10.0, 20.0])
    w = np.full(4, 0.25)
    assert cvar(profit, w, 0.75) == pytest.approx(-10.0)
    assert cvar(profit, w, 0.5) == pytest.approx(-5.0)
    assert cvar(profit, w, 0.6) == pytest.approx((-10 * 0.25 + 0 * 0.15) / 0.4)


def test_options_are_checked():
    with pytest.raises(ValueError):
        StochasticOptions(cvar_weight=1.5)
    with pytest.raises(ValueError):
        StochasticOptions(cvar_alpha=1.0)
