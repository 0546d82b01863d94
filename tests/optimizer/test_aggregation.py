"""Aggregation into virtual assets: exact for scaled copies, close otherwise, and the split back
gives every asset a feasible schedule that adds up to the virtual one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from market.scenarios import PriceScenarios
from optimizer.aggregation import aggregate
from optimizer.aggregation_split import split_back
from optimizer.pinned import pinned_schedule
from optimizer.problem import prepare_problem
from optimizer.stochastic import StochasticOptions, solve_stochastic
from vpp.portfolio import Portfolio

T = 48
INDEX = pd.date_range("2024-06-01", periods=T, freq="30min", tz="Asia/Shanghai", name="timestamp")
SHAPE = np.clip(np.sin((np.arange(T) / 2 - 6) / 12 * np.pi), 0, 1)


def fleet(jitter: float, seed: int = 0) -> Portfolio:
    """8 batteries (2 h), 6 curtailable PV, 3 loads; ``jitter`` varies efficiencies and durations."""
    rng = np.random.default_rng(seed)
    assets = []
    for i in range(8):
        power = float(rng.uniform(0.5, 2.0))
        duration = 2.0 * (1 + jitter * rng.uniform(-0.02, 0.02))
        energy = power * duration
        assets.append({
            "type": "battery", "id": f"b{i}", "power_mw": power, "energy_mwh": energy,
            "soc_initial_mwh": 0.5 * energy,
            "charge_efficiency": 0.94 + jitter * float(rng.uniform(-0.01, 0.01)),
            "discharge_efficiency": 0.94 + jitter * float(rng.uniform(-0.01, 0.01)),
            "degradation_cost": 4.0,
        })
    for i in range(6):
        profile = np.clip(SHAPE * rng.uniform(0.8, 1.0, T), 0, 1).round(4).tolist()
        assets.append({"type": "pv", "id": f"pv{i}", "capacity_mw": float(rng.uniform(0.5, 2.0)),
                       "profile": profile, "curtailable": True, "curtailment_cost": 2.0})
    for i in range(3):
        assets.append({"type": "load", "id": f"ld{i}", "profile": 1.0, "scale_mw": 0.3})
    return Portfolio.model_validate(
        {"name": "agg", "grid": {"import_limit_mw": 20, "export_limit_mw": 4}, "assets": assets}
    )


def scenarios(n: int = 4) -> PriceScenarios:
    rng = np.random.default_rng(5)
    base = 300 + 150 * np.sin(np.arange(T) / T * 2 * np.pi - 1)
    da = np.clip(base + rng.normal(0, 50, (n, T)), 0, None)
    rt = np.clip(da + rng.normal(0, 90, (n, T)), 0, None)
    return PriceScenarios(INDEX, da, rt, np.full(n, 1 / n))


@pytest.mark.slow  # stochastic solves of a whole fleet
def test_scaled_copies_aggregate_exactly():
    # Exact for the LP (charge and discharge at once allowed). With storage exact, the virtual
    # battery cannot charge one member while another discharges (the full fleet can, when the
    # export limit binds): the aggregate is then an inner approximation.
    sc = scenarios()
    relaxed = prepare_problem(fleet(jitter=0.0), INDEX, sc.expected_da, allow_binaries=False)
    agg = aggregate(relaxed)
    assert agg.n_virtual == 3  # one battery, one PV, one load
    full = solve_stochastic(relaxed, sc)
    small = solve_stochastic(agg.problem, sc)
    assert small.expected_profit_yuan == pytest.approx(full.expected_profit_yuan, rel=1e-7)
    problem = prepare_problem(fleet(jitter=0.0), INDEX, sc.expected_da)
    exact_full = solve_stochastic(problem, sc)
    exact_small = solve_stochastic(aggregate(problem).problem, sc)
    assert exact_small.expected_profit_yuan <= exact_full.expected_profit_yuan + 1e-6
    assert exact_full.expected_profit_yuan <= full.expected_profit_yuan + 1e-6


@pytest.mark.slow  # stochastic solves of a whole fleet
def test_similar_assets_bid_close_to_the_full_model_and_split_back_feasibly():
    sc = scenarios()
    problem = prepare_problem(fleet(jitter=1.0), INDEX, sc.expected_da)
    agg = aggregate(problem)
    assert agg.n_virtual < len(problem.asset_ids) / 3
    full = solve_stochastic(problem, sc, StochasticOptions(mode="quantity"))
    small = solve_stochastic(agg.problem, sc, StochasticOptions(mode="quantity"))
    # The aggregate is conservative: it never promises more than the full fleet.
    gap = (full.expected_profit_yuan - small.expected_profit_yuan) / abs(full.expected_profit_yuan)
    assert -1e-9 <= gap < 0.02
    bid_gap = np.abs(full.bid_mw - small.bid_mw).sum() / np.abs(full.bid_mw).sum()
    assert bid_gap < 0.25
    virtual = pd.DataFrame(small.asset_lo_mw, index=INDEX)
    per_asset = split_back(agg, virtual)
    assert list(per_asset.columns) == problem.asset_ids
    np.testing.assert_allclose(per_asset.sum(axis=1).to_numpy(), small.bid_mw, atol=1e-5)
    for vid, ids in agg.members.items():
        np.testing.assert_allclose(per_asset[ids].sum(axis=1).to_numpy(), virtual[vid].to_numpy(), atol=1e-5)
    # The whole per-asset split is one feasible schedule of the full fleet.
    pinned_schedule(problem, per_asset.sum(axis=1).to_numpy(), tolerance_mw=1e-4)


def test_flexible_loads_of_different_shapes_split_back_within_their_own_windows():
    # Two loads with opposite baseline shapes and tight energy windows: the summed window alone
    # would let the group shift energy no member can; the virtual load keeps each member's window.
    hump = (1 + np.sin(np.arange(T) / T * 2 * np.pi)).round(4).tolist()
    dip = (1 - np.sin(np.arange(T) / T * 2 * np.pi)).round(4).tolist()
    portfolio = Portfolio.model_validate({
        "name": "flex", "grid": {"import_limit_mw": 20, "export_limit_mw": 20},
        "assets": [
            {"type": "flexible_load", "id": "f1", "baseline": hump, "scale_mw": 1.0, "up_frac": 0.5,
             "down_frac": 0.5, "energy_tolerance_frac": 0.02},
            {"type": "flexible_load", "id": "f2", "baseline": dip, "scale_mw": 2.0, "up_frac": 0.3,
             "down_frac": 0.3, "energy_tolerance_frac": 0.0, "curtailment_cost": 100.0},
            {"type": "battery", "id": "b", "power_mw": 1.0, "energy_mwh": 2.0, "soc_initial_mwh": 1.0},
        ],
    })
    sc = scenarios()
    problem = prepare_problem(portfolio, INDEX, sc.expected_da)
    agg = aggregate(problem)
    small = solve_stochastic(agg.problem, sc)
    per_asset = split_back(agg, pd.DataFrame(small.asset_lo_mw, index=INDEX))
    np.testing.assert_allclose(per_asset.sum(axis=1).to_numpy(), small.bid_mw, atol=1e-6)
    full = solve_stochastic(problem, sc)
    assert small.expected_profit_yuan <= full.expected_profit_yuan + 1e-6  # an inner approximation
    dt_h = 0.5
    for a, spec in (("f1", portfolio.assets[0]), ("f2", portfolio.assets[1])):
        use = -per_asset[a].to_numpy()
        base = spec.scale_mw * np.asarray(spec.baseline)
        assert (use >= (1 - spec.down_frac) * base - 1e-7).all()
        assert (use <= (1 + spec.up_frac) * base + 1e-7).all()
        energy, target = use.sum() * dt_h, base.sum() * dt_h
        assert energy <= target * (1 + spec.energy_tolerance_frac) + 1e-6
        if spec.curtailment_cost is None:
            assert energy >= target * (1 - spec.energy_tolerance_frac) - 1e-6
