"""The raw-highspy twin solves the same LP as the Pyomo model (both hand-offs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.raw_highs import RawTwin, build_raw_lp, solve_raw
from optimizer.families import FAMILIES
from optimizer.problem import prepare_problem
from optimizer.solver import ModelSolver, SolveOptions, solve
from vpp.portfolio import Portfolio

HANDOFFS = ["persistent", "compiled"]


def index(n_periods: int) -> pd.DatetimeIndex:
    return pd.date_range("2024-06-01", periods=n_periods, freq="h", tz="Asia/Shanghai", name="timestamp")


def random_portfolio(seed: int, n_assets: int, n_periods: int) -> tuple[Portfolio, np.ndarray]:
    """A feasible mix of the twin's families with a binding grid export limit and a group limit.

    Continuous random ratings, costs and prices make ties between optima (and so different fleet
    positions at the same objective) unlikely; every battery has a degradation cost and every
    curtailable PV unit a curtailment cost for the same reason.
    """
    rng = np.random.default_rng(seed)
    kinds = ["battery", "pv", "pv_fixed", "load"] + (["flexible_load"] if "flexible_load" in FAMILIES else [])
    sun = np.clip(np.sin(np.pi * (np.arange(n_periods) + 0.5) / n_periods), 0, 1)
    need = {g: np.zeros(n_periods) for g in ("fleet", "feeder-a")}  # must export (MW)
    peak = {g: np.zeros(n_periods) for g in ("fleet", "feeder-a")}  # could export (MW)
    draw = {g: np.zeros(n_periods) for g in ("fleet", "feeder-a")}  # most import (MW)
    assets = []
    for i in range(n_assets):
        kind = kinds[i] if i < len(kinds) else kinds[int(rng.integers(len(kinds)))]
        grouped = bool(rng.random() < 0.5)
        where = ("fleet", "feeder-a") if grouped else ("fleet",)
        if kind == "battery":
            power, hours = float(rng.uniform(0.2, 2.0)), float(rng.uniform(1.0, 4.0))
            spec = {
                "type": "battery",
                "power_mw": power,
                "energy_mwh": power * hours,
                "soc_initial_mwh": power * hours * float(rng.uniform(0, 1)),
                "charge_efficiency": float(rng.uniform(0.8, 1.0)),
                "discharge_efficiency": float(rng.uniform(0.8, 1.0)),
                "self_discharge_per_hour": float(rng.uniform(0, 0.02)),
                "degradation_cost": float(rng.uniform(0.5, 30)),
                "max_cycles_per_day": float(rng.uniform(0.3, 2)) if rng.random() < 0.4 else None,
            }
            for g in where:
                draw[g] += 0.5 * power
        elif kind.startswith("pv"):
            capacity = float(rng.uniform(0.5, 5))
            profile = np.clip(sun * rng.uniform(0.6, 1.0, n_periods), 0, 1)
            fixed = kind == "pv_fixed"
            spec = {
                "type": "pv",
                "capacity_mw": capacity,
                "profile": profile.tolist(),
                "curtailable": not fixed,
                "curtailment_cost": 0.0 if fixed else float(rng.uniform(0.5, 20)),
            }
            for g in where:
                peak[g] += capacity * profile
                need[g] += capacity * profile if fixed else 0.0
        elif kind == "load":
            scale, profile = float(rng.uniform(0.2, 2)), rng.uniform(0.2, 1, n_periods)
            spec = {"type": "load", "profile": profile.tolist(), "scale_mw": scale}
            for g in where:
                need[g] -= scale * profile
                peak[g] -= scale * profile
                draw[g] += scale * profile
        else:
            scale, baseline = float(rng.uniform(0.2, 2)), rng.uniform(0.2, 1, n_periods)
            down, up = float(rng.uniform(0, 0.5)), float(rng.uniform(0, 0.5))
            spec = {
                "type": "flexible_load",
                "baseline": baseline.tolist(),
                "scale_mw": scale,
                "up_frac": up,
                "down_frac": down,
                "energy_tolerance_frac": float(rng.uniform(0, 0.2)),
                "curtailment_cost": float(rng.uniform(50, 500)) if rng.random() < 0.5 else None,
            }
            for g in where:
                need[g] -= (1 - down) * scale * baseline
                peak[g] -= (1 - down) * scale * baseline
                draw[g] += (1 + up) * scale * baseline
        assets.append(spec | {"id": f"{kind}-{i}"} | ({"group": "feeder-a"} if grouped else {}))

    def limit(g: str) -> dict[str, float]:
        must = float(np.max(need[g], initial=0))
        return {
            "import_limit_mw": float(np.max(draw[g], initial=0)) + 0.05,
            "export_limit_mw": max(0.5 * float(np.max(peak[g], initial=0)), 1.05 * must + 0.05),
        }

    groups = {"feeder-a": limit("feeder-a")} if any("group" in a for a in assets) else {}
    portfolio = Portfolio.model_validate(
        {"name": "random", "grid": limit("fleet"), "group_limits": groups, "assets": assets}
    )
    return portfolio, rng.uniform(0, 600, n_periods)


def assert_twins_agree(portfolio: Portfolio, price: np.ndarray) -> None:
    problem = prepare_problem(portfolio, index(len(price)), price)
    raw = solve_raw(problem)
    assert raw.status == "Optimal"
    for handoff in HANDOFFS:
        # The raw twin is the LP: compare it with the Pyomo model solved as the same LP (storage
        # may charge and discharge at once) ...
        solver = ModelSolver(problem, SolveOptions(handoff=handoff))
        solver.set_prices(problem.price, allow_relaxed=True)
        relaxed = solver.solve()
        assert relaxed.objective_yuan == pytest.approx(raw.objective_yuan, rel=1e-6, abs=1e-6), handoff
        np.testing.assert_allclose(relaxed.net_mw.to_numpy(), raw.net_mw, atol=1e-6, err_msg=handoff)
        # ... and the exact schedule (never both at once) can only earn less than that LP.
        exact = solve(problem, SolveOptions(handoff=handoff))
        assert exact.objective_yuan <= raw.objective_yuan + 1e-6 * max(1.0, abs(raw.objective_yuan)), handoff


def test_twin_matches_pyomo_on_a_mixed_portfolio_with_binding_limits():
    portfolio, price = random_portfolio(seed=5, n_assets=12, n_periods=24)
    kinds = {a.type for a in portfolio.assets}
    assert {"battery", "pv", "load"} <= kinds
    assert {a.curtailable for a in portfolio.assets if a.type == "pv"} == {True, False}
    batteries = [a for a in portfolio.assets if a.type == "battery"]
    assert len({a.charge_efficiency for a in batteries}) > 1
    assert len({a.self_discharge_per_hour for a in batteries}) > 1
    problem = prepare_problem(portfolio, index(24), price)
    raw = solve_raw(problem)
    # The export limit binds (at the PV peak) and so does the group's.
    assert np.isclose(raw.net_mw, portfolio.grid.export_limit_mw, atol=1e-6).any()
    result = solve(problem, SolveOptions(handoff="compiled"))
    group = [a.id for a in portfolio.assets if a.group == "feeder-a"]
    group_net = result.asset_net_mw[group].sum(axis=1).to_numpy()
    limits = portfolio.group_limits["feeder-a"]
    assert (
        np.isclose(group_net, limits.export_limit_mw, atol=1e-6).any()
        or np.isclose(group_net, -limits.import_limit_mw, atol=1e-6).any()
    )
    assert_twins_agree(portfolio, price)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_assets=st.integers(1, 8),
    n_periods=st.sampled_from([1, 4, 12, 24]),
)
def test_twin_matches_pyomo_on_random_portfolios(seed, n_assets, n_periods):
    portfolio, price = random_portfolio(seed, n_assets, n_periods)
    assert_twins_agree(portfolio, price)


def test_raw_lp_has_the_pyomo_size():
    portfolio, price = random_portfolio(seed=3, n_assets=10, n_periods=8)
    problem = prepare_problem(portfolio, index(8), price)
    lp = build_raw_lp(problem)
    result = solve(problem, SolveOptions(handoff="compiled"))
    assert lp.num_col_ == result.stats.n_variables


def test_warm_resolve_after_a_price_change_equals_a_fresh_solve():
    portfolio, price = random_portfolio(seed=11, n_assets=8, n_periods=12)
    problem = prepare_problem(portfolio, index(12), price)
    twin = RawTwin(problem)
    first = twin.solve()
    new_price = price[::-1].copy()
    twin.set_prices(new_price)
    again = twin.solve()
    fresh = solve_raw(prepare_problem(portfolio, index(12), new_price))
    assert again.seconds_build == 0.0 and first.seconds_build > 0.0
    assert again.objective_yuan == pytest.approx(fresh.objective_yuan, rel=1e-9)


def test_negative_prices_are_refused_with_batteries():
    portfolio, price = random_portfolio(seed=5, n_assets=4, n_periods=4)
    price[1] = -20.0
    with pytest.raises(NotImplementedError, match="LP case only"):
        build_raw_lp(prepare_problem(portfolio, index(4), price))
    # Relaxed binaries are the LP again: the twin builds it.
    relaxed = prepare_problem(portfolio, index(4), price, allow_binaries=False)
    assert build_raw_lp(relaxed).num_col_ > 0


def test_unsupported_family_is_named():
    if "generator" not in FAMILIES:
        pytest.skip("no generator family registered")
    portfolio = Portfolio.model_validate(
        {
            "name": "g",
            "grid": {"import_limit_mw": 10, "export_limit_mw": 10},
            "assets": [{"type": "generator", "id": "gen-1", "max_mw": 1.0}],
        }
    )
    with pytest.raises(NotImplementedError, match="generator"):
        build_raw_lp(prepare_problem(portfolio, index(4), [1.0, 2.0, 3.0, 4.0]))
