"""``ModelSolver.price_ranging``: the prices within which the last schedule stays optimal, by hand.

One lossless battery of 1 MW and 0.25 MWh, empty at the start and the end, over two quarter hours
at 100 and 300 yuan/MWh: it charges 1 MW in the first and discharges 1 MW in the second, earning
0.25 x (300 - 100) = 50 yuan. That stays optimal while the first price is below 300 (from -inf) and
the second above 100 (to +inf): cost ranges of the fleet net columns (price x 0.25 h) over 0.25 h.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.problem import prepare_problem
from optimizer.solver import ModelSolver, SolveOptions
from vpp.portfolio import Portfolio

PORTFOLIO = {
    "name": "one",
    "grid": {"import_limit_mw": 10, "export_limit_mw": 10},
    "assets": [
        {"type": "battery", "id": "bess", "power_mw": 1.0, "energy_mwh": 0.25, "soc_initial_mwh": 0.0,
         "charge_efficiency": 1.0, "discharge_efficiency": 1.0},
    ],
}
INDEX = pd.date_range("2024-06-01", periods=2, freq="15min", tz="Asia/Shanghai", name="timestamp")


@pytest.fixture
def solver() -> ModelSolver:
    problem = prepare_problem(Portfolio.model_validate(PORTFOLIO), INDEX, [100.0, 300.0])
    return ModelSolver(problem, SolveOptions(handoff="persistent"))


def test_ranges_of_the_hand_computed_schedule(solver) -> None:
    assert solver.price_ranging() is None  # nothing solved yet
    result = solver.solve()
    assert result.objective_yuan == pytest.approx(50.0)
    ranging = solver.price_ranging()
    np.testing.assert_allclose(ranging.cost, [100.0, 300.0])
    np.testing.assert_allclose(ranging.value, [-1.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(ranging.lower, [-np.inf, 100.0])
    np.testing.assert_allclose(ranging.upper, [300.0, np.inf])


@pytest.mark.parametrize(
    ("prices", "keeps", "net", "objective"),
    [
        ([250.0, 300.0], True, [-1.0, 1.0], 12.5),  # inside the first price's range
        ([180.0, 220.0], True, [-1.0, 1.0], 10.0),  # both move: 80/200 + 80/200 <= 1
        ([-500.0, 900.0], True, [-1.0, 1.0], 350.0),  # toward the open ends: no limit
        ([350.0, 300.0], False, [0.0, 0.0], 0.0),  # beyond it: nothing pays
        ([100.0, 90.0], False, [0.0, 0.0], 0.0),
    ],
)
def test_a_resolve_inside_the_ranges_keeps_the_schedule(solver, prices, keeps, net, objective) -> None:
    solver.solve()
    ranging = solver.price_ranging()
    assert ranging.keeps_basis(prices) is keeps
    solver.set_prices(prices)
    result = solver.solve()
    np.testing.assert_allclose(result.net_mw.to_numpy(), net, atol=1e-9)
    assert result.objective_yuan == pytest.approx(objective)
    assert solver.price_ranging().cost == pytest.approx(prices)


def test_compiled_handoff_has_no_ranging() -> None:
    problem = prepare_problem(Portfolio.model_validate(PORTFOLIO), INDEX, [100.0, 300.0])
    solver = ModelSolver(problem, SolveOptions(handoff="compiled"))
    solver.solve()
    assert solver.price_ranging() is None and solver.highs_adapter is None


def test_per_unit_refuses_a_bad_scale(solver) -> None:
    solver.solve()
    ranging = solver.highs_adapter.cost_ranging([solver.model.net_mw[0]])
    assert ranging.per_unit([0.25]).cost == pytest.approx([100.0])
    with pytest.raises(ValueError, match="1 positive"):
        ranging.per_unit([0.0])
