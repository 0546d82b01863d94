"""The objective's cost weight: revenue alone at 0, the physical objective at 1, reused in place."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.problem import prepare_problem
from optimizer.solver import ModelSolver, SolveOptions, solve
from tests.optimizer.test_battery import battery, index, portfolio, series

PRICES = [100.0, 110.0]
"""Lossless 1 MW / 1 MWh battery, empty at start: one cycle earns 110 - 100 = 10 yuan of revenue
and wears 20 yuan (degradation on the MWh discharged). Weight 1: idle, objective 0. Weight 0: the
cycle, objective = revenue = 10."""


def wearing_battery_solver(handoff: str) -> ModelSolver:
    spec = battery(energy_mwh=1.0, charge_efficiency=1.0, discharge_efficiency=1.0, degradation_cost=20.0)
    solver = ModelSolver(prepare_problem(portfolio(spec), index(2), PRICES), SolveOptions(handoff=handoff))
    solver.scan_params = False  # as the backtest's DayModels: only reported changes reach HiGHS
    return solver


def discharge_cost_in_highs(solver: ModelSolver) -> float:
    """HiGHS's own objective coefficient of the discharge column of period 1 (yuan/MW)."""
    adapter = solver.highs_adapter
    column = adapter.columns([solver.model.battery.discharge_mw["bess-1", 1]])
    return float(np.asarray(adapter.highs.getLp().col_cost_)[column][0])


@pytest.mark.parametrize("handoff", ["persistent", "compiled"])
def test_cost_weight_zero_cycles_for_revenue_and_one_restores_the_wear(handoff):
    solver = wearing_battery_solver(handoff)
    physical = solver.solve()
    assert physical.stats.objective_yuan == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(series(physical, "discharge_mw"), [0.0, 0.0], atol=1e-6)

    solver.set_cost_weight(0.0)
    bet = solver.solve()
    np.testing.assert_allclose(series(bet, "charge_mw"), [1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(series(bet, "discharge_mw"), [0.0, 1.0], atol=1e-6)
    assert bet.stats.objective_yuan == pytest.approx(10.0, abs=1e-6)  # HiGHS's: revenue alone
    assert bet.stats.bound_yuan == pytest.approx(10.0, abs=1e-6)
    assert bet.terms_yuan["revenue"] == pytest.approx(10.0, abs=1e-6)
    assert bet.terms_yuan["degradation"] == pytest.approx(20.0, abs=1e-6)  # reported, not optimised
    assert bet.objective_yuan == pytest.approx(10.0 - 20.0, abs=1e-6)  # the result's: revenue - costs

    solver.set_cost_weight(1.0)
    again = solver.solve()
    assert again.stats.objective_yuan == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(series(again, "discharge_mw"), [0.0, 0.0], atol=1e-6)
    assert solver.model.cost_weight.value == 1.0


def test_cost_weight_reaches_the_persistent_highs_without_a_rebuild():
    solver = wearing_battery_solver("persistent")
    solver.solve()
    adapter = solver.highs_adapter
    assert discharge_cost_in_highs(solver) == pytest.approx(-20.0)  # - wear * dt_h, maximised
    solver.set_cost_weight(0.0)
    solver.solve()
    assert solver.highs_adapter is adapter  # the same HiGHS, updated in place
    assert discharge_cost_in_highs(solver) == 0.0
    solver.set_cost_weight(0.5)
    solver.solve()
    assert discharge_cost_in_highs(solver) == pytest.approx(-10.0)


def test_cost_weight_one_is_the_model_without_a_weight():
    # The weight multiplies the cost coefficients: at 1 every HiGHS cost is the physical one.
    spec = battery(energy_mwh=1.0, charge_efficiency=1.0, discharge_efficiency=1.0, degradation_cost=5.0)
    result = solve(prepare_problem(portfolio(spec), index(2), PRICES))
    assert result.stats.objective_yuan == pytest.approx(10.0 - 5.0, abs=1e-6)
    assert result.objective_yuan == pytest.approx(10.0 - 5.0, abs=1e-6)


@pytest.mark.parametrize("weight", [-1.0, float("nan"), float("inf")])
def test_cost_weight_rejects_what_is_not_a_finite_non_negative_number(weight):
    solver = wearing_battery_solver("persistent")
    with pytest.raises(ValueError, match="cost weight"):
        solver.set_cost_weight(weight)
    assert solver.model.cost_weight.value == 1.0
