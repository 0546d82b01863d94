"""The closed-form pro-rata split of virtual batteries: feasible for every member whatever the
virtual battery does (a real HiGHS optimum of the aggregated problem at arbitrary prices), the
same fleet net and cost as the LP split it replaces, and the LP where the check fails."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.aggregation import aggregate
from optimizer.aggregation_split import split_back
from optimizer.battery_split import pro_rata_split
from optimizer.problem import prepare_problem
from optimizer.solver import ModelSolver, SolveOptions
from vpp.errors import InfeasibleError
from vpp.portfolio import Portfolio

T = 48
INDEX = pd.date_range("2024-06-01", periods=T, freq="30min", tz="Asia/Shanghai", name="timestamp")
DT_H = 0.5


def battery_fleet(seed: int, n: int, degradation: float | None = None, export_mw: float = 100.0) -> Portfolio:
    """``n`` batteries of one duration, efficiencies and self-discharge varying within a group."""
    rng = np.random.default_rng(seed)
    duration = float(rng.choice([1.0, 2.0, 4.0]))
    cycles = float(rng.uniform(0.5, 2.0)) if rng.random() < 0.5 else None
    assets = []
    for i in range(n):
        power = float(rng.uniform(0.2, 3.0))
        energy = power * duration
        assets.append({
            "type": "battery", "id": f"b{i}", "power_mw": power, "energy_mwh": energy,
            "soc_initial_mwh": 0.5 * energy, "soc_min_mwh": 0.1 * energy * float(rng.uniform(0.5, 1.0)),
            "charge_efficiency": float(rng.uniform(0.88, 0.97)),
            "discharge_efficiency": float(rng.uniform(0.88, 0.97)),
            "self_discharge_per_hour": float(rng.uniform(0.0, 0.003)),
            "degradation_cost": float(rng.uniform(0.0, 20.0)) if degradation is None else degradation,
            "max_cycles_per_day": cycles,
        })
    return Portfolio.model_validate(
        {"name": "split", "grid": {"import_limit_mw": 1000, "export_limit_mw": export_mw}, "assets": assets}
    )


def member_cost_yuan(problem, per_asset: pd.DataFrame) -> float:
    """Revenue minus degradation of the members' dispatch (no battery charges and discharges at once)."""
    data = problem.families["battery"]
    net = per_asset[data.ids].to_numpy().T
    revenue = float((per_asset.sum(axis=1).to_numpy() * problem.price * problem.dt_h).sum())
    wear = float((data.degradation_cost_yuan_per_mwh[:, None] * np.maximum(net, 0.0) * problem.dt_h).sum())
    return revenue - wear


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(2, 6), spread=st.floats(0.0, 900.0))
def test_pro_rata_split_is_feasible_for_every_member_at_any_optimum(seed, n, spread):
    # Arbitrary prices (negative ones too) drive the virtual battery to any corner of its range.
    rng = np.random.default_rng(seed)
    price = 300.0 + spread * rng.uniform(-1.0, 1.0, T)
    problem = prepare_problem(battery_fleet(seed, n), INDEX, price)
    agg = aggregate(problem, eff_bins=1)
    result = ModelSolver(agg.problem, SolveOptions()).solve()
    data = problem.families["battery"]
    rows_of = {a: i for i, a in enumerate(data.ids)}
    for vid, ids in agg.members.items():
        x = result.asset_net_mw[vid].to_numpy()
        split = pro_rata_split(data, np.array([rows_of[a] for a in ids]), x)
        assert split.violation <= 1e-6
        np.testing.assert_allclose(split.net_mw.sum(axis=0), x, atol=1e-9)
        # Each member's own state, recomputed step by step, stays in its own window.
        for k, a in enumerate(ids):
            i = rows_of[a]
            soc = data.soc0_mwh[i]
            for t in range(T):
                c, d = max(-split.net_mw[k, t], 0.0), max(split.net_mw[k, t], 0.0)
                assert c <= data.charge_limit_mw[i] + 1e-7 and d <= data.discharge_limit_mw[i] + 1e-7
                gain = data.eta_charge[i] * c * DT_H - d * DT_H / data.eta_discharge[i]
                soc = data.retention[i, t] * soc + gain
                assert data.soc_min_mwh[i] - 1e-6 <= soc <= data.soc_max_mwh[i] + 1e-6
            assert soc >= data.soc_final_mwh[i] - 1e-6
            assert np.maximum(split.net_mw[k], 0).sum() * DT_H <= data.max_discharge_mwh[i] + 1e-6


def test_pro_rata_equals_the_lp_split_on_a_small_fleet():
    # Equal wear cost: the LP's cheapest split costs what the pro-rata one does (the virtual
    # battery's cost); the fleet net and every group's net are the same.
    price = 300 + 250 * np.sin(np.arange(T) / T * 4 * np.pi)
    problem = prepare_problem(battery_fleet(3, 8, degradation=6.0, export_mw=5.0), INDEX, price)
    agg = aggregate(problem)
    result = ModelSolver(agg.problem, SolveOptions()).solve()
    fast = split_back(agg, result.asset_net_mw)
    old = split_back(agg, result.asset_net_mw, method="lp")
    for ids in agg.members.values():
        np.testing.assert_allclose(fast[ids].sum(axis=1), old[ids].sum(axis=1), atol=1e-6)
    assert member_cost_yuan(problem, fast) == pytest.approx(member_cost_yuan(problem, old), rel=1e-6)
    assert member_cost_yuan(problem, fast) == pytest.approx(result.objective_yuan, rel=1e-6)


def test_lp_split_finds_a_cheaper_split_when_wear_costs_differ():
    # With different wear costs the LP may shift discharge to cheaper members: never dearer.
    price = 300 + 250 * np.sin(np.arange(T) / T * 4 * np.pi)
    problem = prepare_problem(battery_fleet(4, 6), INDEX, price)
    agg = aggregate(problem, eff_bins=1)
    result = ModelSolver(agg.problem, SolveOptions()).solve()
    fast = split_back(agg, result.asset_net_mw)
    old = split_back(agg, result.asset_net_mw, method="lp")
    assert member_cost_yuan(problem, fast) == pytest.approx(result.objective_yuan, rel=1e-6)
    assert member_cost_yuan(problem, old) >= member_cost_yuan(problem, fast) - 1e-6


def test_a_schedule_no_member_can_run_falls_back_to_the_lp_and_names_the_group():
    problem = prepare_problem(battery_fleet(5, 3), INDEX, np.full(T, 300.0))
    agg = aggregate(problem, eff_bins=1)
    (vid,) = agg.members
    power = problem.families["battery"].discharge_limit_mw.sum()
    virtual = pd.DataFrame({vid: np.full(T, power)}, index=INDEX)  # full power all day: empties them
    data = problem.families["battery"]
    assert pro_rata_split(data, np.arange(3), virtual[vid].to_numpy()).violation > 1e-3
    with pytest.raises(InfeasibleError, match=vid):
        split_back(agg, virtual)
