"""Solving: persistent re-solves, the two hand-offs, solve statistics and 15-minute days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.problem import prepare_problem
from optimizer.solver import ModelSolver, SolveOptions, solve
from vpp.portfolio import Portfolio

HANDOFFS = ["persistent", "compiled"]
HOURS = pd.date_range("2024-06-01", periods=12, freq="h", tz="Asia/Shanghai", name="timestamp")


def mixed_portfolio(export_limit_mw: float = 3.0) -> Portfolio:
    """Two unlike batteries, curtailable and fixed PV, a load, a binding export limit, a feeder."""
    sun = np.clip(np.sin(np.pi * (np.arange(12) + 0.5) / 12), 0, 1).round(4).tolist()
    load = [0.6, 0.5, 0.5, 0.6, 0.8, 1.0, 1.1, 1.0, 0.9, 1.2, 1.4, 1.0]
    return Portfolio.model_validate(
        {
            "name": "mixed",
            "grid": {"import_limit_mw": 6.0, "export_limit_mw": export_limit_mw},
            "group_limits": {"feeder-a": {"import_limit_mw": 2.0, "export_limit_mw": 1.5}},
            "assets": [
                {
                    "type": "battery",
                    "id": "bess-1",
                    "power_mw": 1.0,
                    "energy_mwh": 2.0,
                    "soc_initial_mwh": 1.0,
                }
                | {"charge_efficiency": 0.93, "discharge_efficiency": 0.95, "degradation_cost": 3.0},
                {
                    "type": "battery",
                    "id": "bess-2",
                    "power_mw": 0.5,
                    "energy_mwh": 1.5,
                    "soc_initial_mwh": 0.2,
                }
                | {"self_discharge_per_hour": 0.01, "degradation_cost": 7.0, "group": "feeder-a"},
                {"type": "pv", "id": "pv-1", "capacity_mw": 3.0, "profile": sun, "curtailment_cost": 2.0},
                {"type": "pv", "id": "pv-2", "capacity_mw": 1.0, "profile": sun, "curtailable": False}
                | {"group": "feeder-a"},
                {"type": "load", "id": "site", "profile": load},
            ],
        }
    )


PRICES = np.array([210.0, 180.0, 150.0, 120.0, 60.0, 40.0, 45.0, 90.0, 260.0, 480.0, 520.0, 330.0])


def assert_same_schedule(a, b) -> None:
    assert a.objective_yuan == pytest.approx(b.objective_yuan, rel=1e-9, abs=1e-6)
    np.testing.assert_allclose(a.net_mw.to_numpy(), b.net_mw.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(a.asset_net_mw.to_numpy(), b.asset_net_mw.to_numpy(), atol=1e-6)


def test_compiled_and_persistent_agree():
    problem = prepare_problem(mixed_portfolio(), HOURS, PRICES)
    persistent = solve(problem, SolveOptions(handoff="persistent"))
    compiled = solve(problem, SolveOptions(handoff="compiled"))
    assert (persistent.stats.handoff, compiled.stats.handoff) == ("persistent", "compiled")
    assert_same_schedule(persistent, compiled)
    for key in persistent.series:
        np.testing.assert_allclose(persistent.series[key], compiled.series[key], atol=1e-6, err_msg=key)
    assert persistent.terms_yuan == pytest.approx(compiled.terms_yuan, abs=1e-6)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_resolve_after_set_prices_equals_a_fresh_solve(handoff):
    solver = ModelSolver(prepare_problem(mixed_portfolio(), HOURS, PRICES), SolveOptions(handoff=handoff))
    first = solver.solve()
    assert_same_schedule(first, solve(prepare_problem(mixed_portfolio(), HOURS, PRICES)))
    for new in (PRICES[::-1].copy(), PRICES * 0.5 + 100.0, np.roll(PRICES, 3)):
        solver.set_prices(new)
        again = solver.solve()
        fresh = solve(prepare_problem(mixed_portfolio(), HOURS, new), SolveOptions(handoff="compiled"))
        assert_same_schedule(again, fresh)
        np.testing.assert_allclose(again.price.to_numpy(), new)
        assert again.terms_yuan["revenue"] == pytest.approx(float((new * again.net_mw).sum()), abs=1e-6)
        if handoff == "persistent":  # updated in place: no new model, no new hand-off
            assert again.stats.build_seconds == 0.0
            assert again.stats.handoff_seconds == 0.0


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_solve_stats_are_populated(handoff):
    problem = prepare_problem(mixed_portfolio(), HOURS, PRICES)
    result = solve(problem, SolveOptions(handoff=handoff))
    stats = result.stats
    assert (stats.status, stats.termination, stats.handoff) == ("optimal", "Optimal", handoff)
    assert stats.mip_gap is None and stats.n_binaries == 0
    assert stats.build_seconds > 0 and stats.handoff_seconds > 0 and stats.solve_seconds > 0
    assert stats.total_seconds == pytest.approx(
        stats.build_seconds + stats.handoff_seconds + stats.solve_seconds
    )
    # Columns: 2 batteries x (charge, discharge, soc) + 2 PV outputs, per period, + the fleet net.
    assert stats.n_variables == (2 * 3 + 2) * 12 + 12
    # Rows: soc balance (2 x 12) + soc final (2) + fleet balance (12) + feeder limit (12).
    assert stats.n_constraints == 2 * 12 + 2 + 12 + 12


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_mip_stats_report_binaries_and_gap(handoff):
    prices = PRICES.copy()
    prices[[4, 5]] = [-30.0, -10.0]
    result = solve(prepare_problem(mixed_portfolio(), HOURS, prices), SolveOptions(handoff=handoff))
    assert result.stats.n_binaries == 2 * 2  # negative periods x batteries
    assert result.stats.mip_gap is not None
    assert 0.0 <= result.stats.mip_gap <= SolveOptions().mip_rel_gap + 1e-12


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_shanxi_like_day_of_96_quarter_hours_uses_quarter_hour_energies(handoff):
    # A Shanxi trading day: 96 periods of 15 minutes (period starts, Asia/Shanghai), prices 0..1500
    # with a midday solar trough and an evening peak. Energies are MW x 0.25 h.
    index = pd.date_range("2024-01-15", periods=96, freq="15min", tz="Asia/Shanghai", name="timestamp")
    hour = np.arange(96) / 4.0
    prices = np.clip(
        350 - 300 * np.exp(-(((hour - 12.5) / 2.5) ** 2)) + 900 * np.exp(-(((hour - 19) / 1.5) ** 2)), 0, 1500
    )
    portfolio = Portfolio.model_validate(
        {
            "name": "shanxi-day",
            "market": "shanxi",
            "grid": {"import_limit_mw": 10, "export_limit_mw": 10},
            "assets": [
                {
                    "type": "battery",
                    "id": "bess-1",
                    "power_mw": 1.0,
                    "energy_mwh": 1.0,
                    "soc_initial_mwh": 0.0,
                }
                | {"charge_efficiency": 0.95, "discharge_efficiency": 0.95},
                {"type": "load", "id": "site", "profile": 2.0},
            ],
        }
    )
    result = solve(prepare_problem(portfolio, index, prices), SolveOptions(handoff=handoff))
    np.testing.assert_allclose(result.dt_h, 0.25)
    assert len(result.net_mw) == 96 and result.index.equals(index)
    # The constant 2 MW load draws 2 x 24 = 48 MWh; the battery adds its losses. Every energy is MW x 0.25 h.
    charge = result.series["battery.charge_mw"]["bess-1"].to_numpy()
    discharge = result.series["battery.discharge_mw"]["bess-1"].to_numpy()
    soc = result.series["battery.soc_mwh"]["bess-1"].to_numpy()
    np.testing.assert_allclose(np.diff(np.r_[0.0, soc]), 0.25 * (0.95 * charge - discharge / 0.95), atol=1e-6)
    assert soc[-1] == pytest.approx(0.0, abs=1e-6)
    # A full cycle from the trough to the peak: 1 MWh stored takes 1/0.95 MWh and gives 0.95 MWh.
    assert 0.25 * charge.sum() == pytest.approx(1 / 0.95, abs=1e-6)
    assert 0.25 * discharge.sum() == pytest.approx(0.95, abs=1e-6)
    losses = 0.25 * (charge.sum() - discharge.sum())
    assert result.energy_import_mwh - result.energy_export_mwh == pytest.approx(48.0 + losses, abs=1e-6)
    np.testing.assert_allclose(result.net_mwh.to_numpy(), 0.25 * result.net_mw.to_numpy())
    # Revenue counts energy, not power: price x MW x 0.25 h.
    assert result.terms_yuan["revenue"] == pytest.approx(
        float((prices * result.net_mw * 0.25).sum()), abs=1e-6
    )
    # Buys in the solar trough, sells at the evening peak.
    assert hour[charge > 1e-6].min() >= 9 and hour[charge > 1e-6].max() < 16
    assert hour[discharge > 1e-6].min() >= 17 and hour[discharge > 1e-6].max() < 21
